import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../src/cli/commands/make-tiny-model.ts';
import { loadBaseModel } from '../../src/training/baseModel.ts';
import { readDataDir } from '../../src/training/dataset.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'make-tiny-model-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('make-tiny-model writes a loadable HF GPT-2 and the committed style dataset, byte for byte', async () => {
  const modelDir = path.join(tmp, 'model');
  const styleDir = path.join(tmp, 'style');
  assert.equal(await run(['--steps', '3', '--model-dir', modelDir, '--style-dir', styleDir, '--threads', '1']), 0);
  const model = loadBaseModel(modelDir);
  assert.deepEqual(model.config, { vocabSize: 512, nPositions: 64, nEmbd: 64, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 });
  assert.equal(model.tokenizer.decode(model.tokenizer.encode('Arr! The cat be sleepin\', matey!')), 'Arr! The cat be sleepin\', matey!');
  // The data and tokenizer don't depend on training steps: they match what is committed.
  assert.equal(readFileSync(path.join(styleDir, 'pirate.jsonl'), 'utf8'), readFileSync('data-samples/style/pirate.jsonl', 'utf8'));
  assert.equal(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'), readFileSync('models/tiny-gpt2/tokenizer.json', 'utf8'));
  assert.equal(readDataDir(styleDir).documents.length, 150);
});
