import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPackedDataset, makeBatch, packSequences, readDataDir, splitHeldOut } from '../../src/training/dataset.ts';
import { trainByteLevelBpe } from '../../src/training/tokenizer/trainBpe.ts';
import { DataError } from '../../src/training/trainingError.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dataset-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const tokenizer = trainByteLevelBpe(['one two three four five six seven eight nine ten'], { vocabSize: 280 });

test('packing cuts seq_len + 1 windows with stride seq_len, dropping the tail', () => {
  const stream = Int32Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(packSequences(stream, 3).map((s) => [...s]), [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]);
  const { inputIds, targets } = makeBatch(packSequences(stream, 3).slice(0, 2), 3);
  assert.deepEqual([...inputIds], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...targets], [1, 2, 3, 4, 5, 6]);
});

test('the held-out split takes every k-th sequence, spread over the data', () => {
  const seqs = Array.from({ length: 10 }, (_, i) => Int32Array.of(i));
  const { train, eval: held } = splitHeldOut(seqs, 0.25);
  assert.deepEqual(held.map((s) => s[0]), [3, 7]);
  assert.equal(train.length, 8);
});

test('a directory of .txt and .jsonl files gives documents and a sha256 manifest', () => {
  const dir = path.join(tmp, 'data');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'b.txt'), 'one two three');
  writeFileSync(path.join(dir, 'sub', 'a.jsonl'), '{"text":"four five"}\n\n{"text":"six"}\n');
  writeFileSync(path.join(dir, 'ignored.md'), 'not data');
  const { manifest, documents } = readDataDir(dir);
  assert.deepEqual(documents, ['one two three', 'four five', 'six']);
  assert.deepEqual(manifest.files.map((f) => f.path), ['b.txt', 'sub/a.jsonl']);
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  assert.equal(manifest.files[0].sha256, sha('one two three'));
  assert.equal(manifest.files[0].bytes, 13);
  assert.equal(manifest.sha256, sha(`${sha('one two three')}  b.txt\n${manifest.files[1].sha256}  sub/a.jsonl\n`));
  writeFileSync(path.join(dir, 'b.txt'), 'one two three!');
  assert.notEqual(readDataDir(dir).manifest.sha256, manifest.sha256, 'any byte change changes the dataset hash');
});

test('documents are joined with <|endoftext|> and packed into train and held-out sequences', () => {
  const dir = path.join(tmp, 'packed');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'a.txt'), 'one two three four five six seven eight nine ten '.repeat(20));
  writeFileSync(path.join(dir, 'b.txt'), 'ten nine');
  const ds = loadPackedDataset({ dir, seqLen: 8, evalFraction: 0.2, tokenizer });
  const expectedTokens = tokenizer.encode('one two three four five six seven eight nine ten '.repeat(20)).length + 1 + tokenizer.encode('ten nine').length + 1;
  assert.equal(ds.tokens, expectedTokens);
  assert.equal(ds.train.length + ds.eval.length, Math.floor((expectedTokens - 1) / 8));
  assert.equal(ds.eval.length, Math.floor(Math.floor((expectedTokens - 1) / 8) / 5));
  assert.ok(ds.train.every((s) => s.length === 9));
});

test('missing, empty or too-short data are precise DATA_ERRORs', () => {
  const check = (dir: string, pattern: RegExp) =>
    assert.throws(() => loadPackedDataset({ dir, seqLen: 16, evalFraction: 0.1, tokenizer }), (err: unknown) => err instanceof DataError && err.type === 'DATA_ERROR' && pattern.test(err.message));
  check(path.join(tmp, 'absent'), /train_data_dir: .*absent does not exist/);
  const empty = path.join(tmp, 'empty');
  mkdirSync(empty);
  check(empty, /contains no \.txt or \.jsonl files/);
  writeFileSync(path.join(empty, 'blank.txt'), '   ');
  check(empty, /has 1 file\(s\) but no text in them/);
  const short = path.join(tmp, 'short');
  mkdirSync(short);
  writeFileSync(path.join(short, 'a.txt'), 'one two three');
  check(short, /gives \d+ tokens, which pack into 0 sequence\(s\) of seq_len 16; at least 10 are needed \(161 tokens\)/);
  const badJson = path.join(tmp, 'badjson');
  mkdirSync(badJson);
  writeFileSync(path.join(badJson, 'a.jsonl'), '{"text":"ok"}\n{"txt":"no"}\n');
  check(badJson, /a\.jsonl:2: expected an object with a string field "text"/);
});
