import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLevelBpe } from '../../src/training/tokenizer/byteLevelBpe.ts';
import { BYTE_TO_CHAR, bytesToSymbols, symbolsToBytes } from '../../src/training/tokenizer/byteToUnicode.ts';
import { pretokenize } from '../../src/training/tokenizer/pretokenize.ts';
import { trainByteLevelBpe } from '../../src/training/tokenizer/trainBpe.ts';

test('the byte map is GPT-2\'s: printable bytes stay, space is Ġ, newline is Ċ', () => {
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  assert.equal(BYTE_TO_CHAR['A'.charCodeAt(0)], 'A');
  assert.equal(BYTE_TO_CHAR[0x20], 'Ġ');
  assert.equal(BYTE_TO_CHAR[0x0a], 'Ċ');
  assert.equal(BYTE_TO_CHAR[0], 'Ā');
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(symbolsToBytes(bytesToSymbols(all)), all);
});

test('the GPT-2 pre-tokenizer splits contractions, words with their space, digits and whitespace', () => {
  assert.deepEqual(pretokenize("Hello world, it's 2024!  Ok\n"), ['Hello', ' world', ',', ' it', "'s", ' 2024', '!', ' ', ' Ok', '\n']);
  assert.deepEqual(pretokenize('naïve café'), ['naïve', ' café']);
});

// A hand-made tokenizer.json in HF's format (merges as "a b" strings, as tokenizers < 0.20).
function handMadeTokenizer(mergesAsPairs = false): ByteLevelBpe {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((ch, i) => (vocab[ch] = i));
  const merges = ['Ġ l', 'l o', 'Ġl o', 'lo w', 'Ġlo w', 'e r'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  return ByteLevelBpe.fromTokenizerJson({
    model: { type: 'BPE', vocab, merges: mergesAsPairs ? merges.map((m) => m.split(' ')) : merges },
    added_tokens: [{ id: 262, content: '<|endoftext|>', special: true }],
  });
}

test('known merges apply lowest rank first within each word', () => {
  const tok = handMadeTokenizer();
  const ids = tok.encode('low lower');
  // "low": l o w -> lo w -> low. " lower": Ġ l o w e r -> "Ġ l" (rank 0) beats "l o" (rank 1)
  // -> Ġl o w e r -> Ġlo w e r -> Ġlow e r -> Ġlow er.
  assert.deepEqual(ids.map((id) => tok.decode([id])), ['low', ' low', 'er']);
  assert.deepEqual(handMadeTokenizer(true).encode('low lower'), ids, 'pair-style merges read the same');
  assert.equal(tok.decode(ids), 'low lower');
});

test('special tokens are kept whole and decode back', () => {
  const tok = handMadeTokenizer();
  const ids = tok.encode('low<|endoftext|>er');
  assert.deepEqual(ids, [tok.tokenId('low'), 262, tok.tokenId('er')]);
  assert.equal(tok.decode(ids), 'low<|endoftext|>er');
  assert.equal(tok.endOfTextId, 262);
});

test('a trained vocabulary round-trips any text, including bytes it never saw, through tokenizer.json', () => {
  const corpus = Array.from({ length: 50 }, (_, i) => `the quick brown fox ${i} jumps over the lazy dog. `);
  const tok = trainByteLevelBpe(corpus, { vocabSize: 300 });
  assert.ok(tok.vocabSize <= 300 && tok.merges.length > 20, `${tok.vocabSize} tokens, ${tok.merges.length} merges`);
  assert.equal(tok.endOfTextId, tok.vocabSize - 1);
  const text = 'the lazy fox — 狐狸 🦊 jumps!\n\tover';
  const reloaded = ByteLevelBpe.fromTokenizerJson(JSON.parse(JSON.stringify(tok.toTokenizerJson())));
  assert.deepEqual(reloaded.encode(text), tok.encode(text));
  assert.equal(reloaded.decode(reloaded.encode(text)), text);
  assert.ok(tok.encode(' the quick brown fox').length <= 4, 'frequent words become single tokens');
  assert.deepEqual(trainByteLevelBpe(corpus, { vocabSize: 300 }).merges, tok.merges, 'training is deterministic');
});

test('an id outside the vocabulary is a precise error', () => {
  assert.throws(() => handMadeTokenizer().decode([999]), /id 999 is outside the vocabulary \(size 263\)/);
});
