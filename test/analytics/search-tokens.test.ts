import { test } from 'node:test';
import assert from 'node:assert/strict';
import { experimentSearchTokens, searchQueryTokens } from '../../src/analytics/search-tokens.ts';

test('Chinese text splits into dictionary words: 古风人物 -> 古风, 人物', () => {
  assert.deepEqual(searchQueryTokens('古风人物'), ['古风', '人物']);
});

test('Japanese text splits into words and drops lone particles', () => {
  assert.deepEqual(searchQueryTokens('和風の人物イラスト'), ['和風', '人物', 'イラスト']);
});

test('English is lower-cased, stop words dropped, punctuation ignored', () => {
  assert.deepEqual(searchQueryTokens('Cyberpunk city, at NIGHT!'), ['cyberpunk', 'city', 'night']);
});

test('full-width letters are NFKC-normalized to match half-width ones', () => {
  assert.deepEqual(searchQueryTokens('ＬｏＲＡ'), ['lora']);
});

test('experiment tokens cover name, tags, notes, dataset path and sample prompts', () => {
  const tokens = experimentSearchTokens({
    name: 'portrait-v3',
    tags: ['古风'],
    notes: 'ink wash style',
    dataset: { path: '/data/guofeng_portraits/train' },
    samplePrompts: ['一位穿汉服的女子'],
  });
  for (const word of ['portrait', 'v3', '古风', 'ink', 'wash', 'style', 'guofeng', 'portraits', 'train', '汉服', '女子']) {
    assert.ok(tokens.includes(word), `${word} in ${tokens.join(' ')}`);
  }
  assert.ok(!tokens.includes('的'), 'Chinese particle dropped');
});

test('long Han compounds also yield their bigrams, so a shorter query word still matches', () => {
  const tokens = experimentSearchTokens({ name: '浮世絵', tags: [] });
  assert.deepEqual(tokens, ['浮世絵', '浮世', '世絵']);
  assert.ok(searchQueryTokens('浮世').every((w) => tokens.includes(w)));
});

test('the token list is deduplicated and bounded', () => {
  const notes = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' ');
  const tokens = experimentSearchTokens({ name: 'x x x', tags: ['x'], notes });
  assert.equal(new Set(tokens).size, tokens.length);
  assert.ok(tokens.length <= 600);
});

test('a launched run without a dataset record is found by its config train_data_dir', () => {
  const tokens = experimentSearchTokens({ name: 'run', tags: [], config: { train_data_dir: '/data/pirate_style' } });
  assert.ok(tokens.includes('pirate') && tokens.includes('style'), tokens.join(' '));
});
