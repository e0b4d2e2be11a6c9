import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigText } from '../../src/training/config/loadConfig.ts';
import type { TrainerEvent } from '../../src/training/events.ts';
import { train } from '../../src/training/trainer.ts';
import { readSafetensors } from '../../src/training/safetensors.ts';
import { readEventFile } from '../../src/training/tensorboard.ts';
import { sha256Hex } from '../../src/training/durableFiles.ts';
import { classifyError } from '../../src/training/trainingError.ts';
import { loadBaseModel } from '../../src/training/baseModel.ts';
import { readPeftAdapter } from '../../src/training/peft.ts';
import { ForwardModel } from '../../src/training/model/index.ts';
import { microConfigYaml, microRunWorkspace, writeMicroModel } from './fixtures/microRun.ts';

const { tmp, model, data } = microRunWorkspace('trainer-test');

async function runTraining(name: string, extra: Record<string, unknown> = {}): Promise<{ events: TrainerEvent[]; output: string }> {
  const output = path.join(tmp, name);
  const { config } = parseConfigText(microConfigYaml({ model, data, output }, extra), path.join(tmp, `${name}.yaml`));
  const events: TrainerEvent[] = [];
  for await (const e of train(config)) events.push(e);
  return { events, output };
}

const ofType = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) => events.filter((e) => e.type === type) as Extract<TrainerEvent, { type: T }>[];

test('a run streams start, steps, evals, checkpoints and done, and lowers held-out loss', async () => {
  const { events, output } = await runTraining('full', { save_total_limit: 2, lora_dropout: 0.1, gradient_accumulation_steps: 2 });
  assert.deepEqual(events.map((e) => e.type).filter((t, i, a) => t !== a[i - 1]).slice(0, 3), ['start', 'eval', 'step']);
  assert.equal(events.at(-1)!.type, 'done', JSON.stringify(events.at(-1)));
  const start = ofType(events, 'start')[0];
  assert.equal(start.totalSteps, 12);
  assert.equal(start.resumedFromStep, null);
  assert.equal(start.environment.executionProvider, 'cpu');
  assert.match(start.dataset.sha256, /^[0-9a-f]{64}$/);
  const steps = ofType(events, 'step');
  assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 12 }, (_, i) => i + 1));
  assert.equal(steps[0].learningRate, 0, 'HF warmup starts at 0');
  assert.ok(steps.every((s) => s.gradNorm > 0 && s.tokensPerSecond > 0 && Number.isFinite(s.loss)));
  const evals = ofType(events, 'eval');
  assert.deepEqual(evals.map((e) => e.step), [0, 6, 12]);
  assert.ok(evals[2].evalLoss < evals[0].evalLoss, `held-out loss ${evals[0].evalLoss} -> ${evals[2].evalLoss}`);

  const checkpoints = ofType(events, 'checkpoint');
  assert.deepEqual(checkpoints.map((c) => c.step), [4, 8, 12]);
  for (const c of checkpoints.slice(-1)) for (const f of c.files) assert.equal(sha256Hex(readFileSync(f.path)), f.sha256);
  assert.deepEqual(readdirSync(output).filter((n) => n.startsWith('checkpoint-')).sort(), ['checkpoint-12', 'checkpoint-8'], 'save_total_limit 2');

  const done = ofType(events, 'done')[0];
  assert.equal(done.finalEvalLoss, evals[2].evalLoss);
  const adapter = readSafetensors(path.join(output, 'adapter_model.safetensors'));
  assert.deepEqual(adapter.tensors.get('base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight')!.shape, [4, 16]);
  assert.deepEqual(adapter.tensors.get('base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight')!.shape, [64, 4]);
  assert.deepEqual(done.files.map((f) => path.basename(f.path)), ['adapter_model.safetensors', 'adapter_config.json']);

  const logLines = readFileSync(path.join(output, 'logs', 'train.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(logLines.filter((l) => l.type === 'step').map((l) => l.step), [2, 4, 6, 8, 10, 12], 'train.log every log_steps');
  assert.equal(logLines.at(-1).type, 'done');
  const tbFile = readdirSync(path.join(output, 'logs')).find((n) => n.startsWith('events.out.tfevents.'))!;
  const tb = readEventFile(path.join(output, 'logs', tbFile));
  const losses = tb.filter((e) => 'train/loss' in e.scalars);
  assert.deepEqual(losses.map((e) => e.step), [2, 4, 6, 8, 10, 12]);
  assert.equal(losses[0].scalars['train/loss'], Math.fround(steps[1].loss));
  assert.ok(tb.some((e) => 'train/grad_norm' in e.scalars && 'train/learning_rate' in e.scalars && 'train/tokens_per_second' in e.scalars));

  // Rerunning a finished run resumes at its last checkpoint and only rewrites the outputs.
  const again = await runTraining('full', { save_total_limit: 2, lora_dropout: 0.1, gradient_accumulation_steps: 2 });
  assert.equal(ofType(again.events, 'start')[0].resumedFromStep, 12);
  assert.equal(ofType(again.events, 'step').length, 0);
  assert.equal(ofType(again.events, 'done')[0].finalEvalLoss, done.finalEvalLoss);
});

test('init_adapter continues from an existing adapter, and save_merged writes a loadable HF model', async () => {
  const first = await runTraining('first', { max_steps: 6, save_steps: 0 });
  const firstEval = ofType(first.events, 'eval').at(-1)!.evalLoss;
  const second = await runTraining('second', { max_steps: 2, save_steps: 0, init_adapter: first.output, save_merged: true });
  const startEval = ofType(second.events, 'eval')[0];
  assert.equal(startEval.step, 0);
  assert.ok(Math.abs(startEval.evalLoss - firstEval) < 1e-6, `${startEval.evalLoss} vs ${firstEval}`);
  const done = ofType(second.events, 'done')[0];
  assert.ok(done.files.some((f) => f.path.endsWith(path.join('merged', 'model.safetensors'))));
  // The merged model alone computes what the base model plus the adapter computes.
  const merged = loadBaseModel(path.join(second.output, 'merged'));
  const base = loadBaseModel(model);
  const adapter = readPeftAdapter(second.output);
  const ids = Int32Array.from(base.tokenizer.encode('Arr, the cat be sleepin near the river, matey! Yo ho').slice(0, 16));
  const targets = new Int32Array(16).fill(-100); // next tokens; the last position has none
  targets.set(ids.subarray(1));
  const batch = { inputIds: ids, targets };
  const options = { batchSize: 1, seqLen: 16, threads: 1 };
  const withAdapter = await ForwardModel.create({ ...options, config: base.config, weights: base.weights, lora: adapter.spec });
  const mergedAlone = await ForwardModel.create({ ...options, config: merged.config, weights: merged.weights, lora: { rank: 1, alpha: 1, dropout: 0, targetModules: [] } });
  const a = await withAdapter.loss({ ...batch, lora: adapter.tensors });
  const b = await mergedAlone.loss({ ...batch, lora: new Map() });
  await withAdapter.release();
  await mergedAlone.release();
  assert.ok(Math.abs(a - b) < 1e-5, `adapter ${a} vs merged ${b}`);
  assert.equal(readdirSync(second.output).filter((n) => n.startsWith('checkpoint-')).length, 0, 'save_steps 0 writes no checkpoints');
});

test('without max_steps a run makes epochs x floor(train sequences / (batch x accumulation)) steps, each epoch in a new order', async () => {
  const { events } = await runTraining('epochs', { max_steps: null, epochs: 2, batch_size: 8, gradient_accumulation_steps: 2, save_steps: 0, eval_steps: 0, log_steps: 100 });
  const start = ofType(events, 'start')[0];
  const perEpoch = Math.floor(start.trainSequences! / 8 / 2);
  assert.equal(start.totalSteps, 2 * perEpoch);
  const steps = ofType(events, 'step');
  assert.equal(steps.length, 2 * perEpoch);
  assert.ok(steps[perEpoch - 1].epoch <= 1 && steps[perEpoch].epoch > 1 && steps.at(-1)!.epoch <= 2, steps.map((s) => s.epoch.toFixed(2)).join(' '));
  assert.equal(events.at(-1)!.type, 'done');
});

test('failures are classified: NAN_LOSS, DATA_ERROR, CONFIG_ERROR', async () => {
  const poisoned = path.join(tmp, 'poisoned-model');
  writeMicroModel(poisoned, { tensor: 'h.0.attn.c_attn.weight', value: NaN });
  const output = path.join(tmp, 'nan');
  const { config } = parseConfigText(microConfigYaml({ model: poisoned, data, output }), path.join(tmp, 'nan.yaml'));
  const events: TrainerEvent[] = [];
  for await (const e of train(config)) events.push(e);
  const failed = events.at(-1)!;
  assert.equal(failed.type, 'failed');
  assert.equal(failed.type === 'failed' && failed.error.type, 'NAN_LOSS');
  assert.match(failed.type === 'failed' ? failed.error.message : '', /loss is NaN at step 1/);

  const noData = (await runTraining('nodata', { train_data_dir: path.join(tmp, 'absent') })).events.at(-1)!;
  assert.deepEqual(noData.type === 'failed' && noData.error.type, 'DATA_ERROR');
  const tooLong = (await runTraining('toolong', { seq_len: 32 })).events.at(-1)!;
  assert.match(tooLong.type === 'failed' ? `${tooLong.error.type} ${tooLong.error.message}` : '', /CONFIG_ERROR .*"seq_len": 32 is not allowed; expected at most the base model's n_positions \(16\)/);
  const fewSequences = (await runTraining('few', { batch_size: 5000 })).events.at(-1)!;
  assert.match(fewSequences.type === 'failed' ? `${fewSequences.error.type} ${fewSequences.error.message}` : '', /DATA_ERROR .* training sequence\(s\) of seq_len 16; one optimizer step needs batch_size x gradient_accumulation_steps = 5000/);

  // A checkpoint from another config in output_dir is not silently resumed.
  const mixed = path.join(tmp, 'mixed');
  await runTraining('mixed', { max_steps: 4 });
  const other = (await runTraining('mixed', { max_steps: 4, learning_rate: 0.02 })).events.at(-1)!;
  assert.match(other.type === 'failed' ? `${other.error.type} ${other.error.message}` : '', new RegExp(`CONFIG_ERROR output_dir: ${mixed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds checkpoint-4 of a run with another config`));
});

test('memory errors are classified as OOM or CUDA_OOM from the runtime messages', () => {
  assert.equal(classifyError(new Error('Failed to allocate memory for requested buffer of size 123456')), 'OOM');
  assert.equal(classifyError(new RangeError('Array buffer allocation failed')), 'OOM');
  assert.equal(classifyError(new Error('CUDA failure 2: out of memory ; GPU=0 ; hostname=x')), 'CUDA_OOM');
  assert.equal(classifyError(new Error('CUBLAS_STATUS_ALLOC_FAILED')), 'CUDA_OOM');
  assert.equal(classifyError(new Error('something else')), 'UNKNOWN');
});
