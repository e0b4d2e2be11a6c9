import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile } from '../../src/training/config/loadConfig.ts';
import type { TrainerEvent } from '../../src/training/events.ts';
import { train } from '../../src/training/trainer.ts';
import { loadBaseModel } from '../../src/training/baseModel.ts';
import { generate } from '../../src/training/generation.ts';
import { readPeftAdapter } from '../../src/training/peft.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tiny-style-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the shipped tiny model and style data train out of the box and the held-out loss falls clearly', async () => {
  const { config } = loadConfigFile('configs/tiny-style.yaml');
  // A shortened run of the shipped config (the full one is measured in the README).
  Object.assign(config, { output_dir: path.join(tmp, 'run'), max_steps: 150, warmup_steps: 10, eval_steps: 0, save_steps: 0 });
  const evals: number[] = [];
  let last: TrainerEvent | undefined;
  for await (const e of train(config)) {
    if (e.type === 'eval') evals.push(e.evalLoss);
    last = e;
  }
  assert.equal(last?.type, 'done', JSON.stringify(last));
  assert.ok(evals.at(-1)! < 0.5 * evals[0], `held-out loss ${evals[0]} -> ${evals.at(-1)}`);

  // Generation with the adapter speaks the style the base model never saw.
  const base = loadBaseModel(config.base_model);
  const adapter = readPeftAdapter(config.output_dir);
  let styled = '';
  for await (const piece of generate(base, adapter, { prompt: 'The cat', maxNewTokens: 20, temperature: 0, topK: 0, seed: 0, threads: 1 })) styled += piece;
  let plain = '';
  for await (const piece of generate(base, null, { prompt: 'The cat', maxNewTokens: 20, temperature: 0, topK: 0, seed: 0, threads: 1 })) plain += piece;
  assert.match(styled, /\bbe\b|Arr|matey|hearty|savvy|Yo ho/, `adapter output: ${styled}`);
  assert.doesNotMatch(plain, /\bbe\b|Arr|matey|hearty|savvy|Yo ho/, `base output: ${plain}`);
});
