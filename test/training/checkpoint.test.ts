import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findLatestCheckpoint, listCheckpoints, loadCheckpoint, pruneCheckpoints, saveCheckpoint, type TrainerState } from '../../src/training/checkpoint.ts';
import { AdamW } from '../../src/training/optimizer/adamw.ts';
import { initLoraTensors, loraTensorShapes, type GPT2Config, type LoraSpec } from '../../src/training/model/index.ts';
import { mergeLoraIntoBase, readPeftAdapter, writePeftAdapter } from '../../src/training/peft.ts';
import { Rng } from '../../src/training/rng.ts';
import { sha256Hex } from '../../src/training/durableFiles.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'checkpoint-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const config: GPT2Config = { vocabSize: 50, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };
const spec: LoraSpec = { rank: 2, alpha: 4, dropout: 0.1, targetModules: ['c_attn', 'mlp.c_proj'] };
const shapes = loraTensorShapes(config, spec);

function contents(step: number) {
  const rng = Rng.fromSeed(step);
  const lora = initLoraTensors(config, spec, () => rng.nextFloat());
  for (const [name, t] of lora) if (name.includes('lora_B')) t.fill(step / 10);
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  optimizer.update(new Map(lora), new Map([...lora].map(([n, t]) => [n, t.map(() => 0.5)])), 0.01);
  const state: TrainerState = {
    step, epoch: 0, dataPosition: step * 2, dataOrder: [3, 1, 2, 0], rngState: rng.state(), configHash: 'abc',
    loss: 1.5, logBytes: 10, tensorboardFile: null, tensorboardBytes: 0, tokensSeen: step * 100,
  };
  return { state, spec, baseModelNameOrPath: 'models/tiny', lora, loraShapes: shapes, optimizer };
}

test('a checkpoint holds the PEFT adapter, optimizer moments and trainer state, and loads back exactly', () => {
  const out = path.join(tmp, 'run1');
  const c = contents(4);
  const { dir, files } = saveCheckpoint(out, c);
  assert.equal(dir, path.join(out, 'checkpoint-4'));
  assert.deepEqual(files.map((f) => path.basename(f.path)), ['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
  for (const f of files) assert.equal(f.sha256, sha256Hex(readFileSync(f.path)));
  const loaded = loadCheckpoint(dir);
  assert.deepEqual(loaded.state, c.state);
  assert.equal(loaded.optimizerStep, 1);
  for (const { name } of shapes) {
    assert.deepEqual(loaded.lora.get(name), c.lora.get(name));
    assert.deepEqual(loaded.moments.get(name)!.m, c.optimizer.moments.get(name)!.m);
    assert.deepEqual(loaded.moments.get(name)!.v, c.optimizer.moments.get(name)!.v);
  }
  const adapterConfig = JSON.parse(readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
  assert.equal(adapterConfig.peft_type, 'LORA');
  assert.equal(adapterConfig.task_type, 'CAUSAL_LM');
  assert.equal(adapterConfig.fan_in_fan_out, true);
  assert.equal(adapterConfig.bias, 'none');
  assert.deepEqual(adapterConfig.target_modules, ['c_attn', 'mlp.c_proj']);
  assert.equal(adapterConfig.r, 2);
  assert.equal(adapterConfig.lora_alpha, 4);
});

test('only renamed directories with trainer_state.json count; pruning keeps the newest and clears temp dirs', () => {
  const out = path.join(tmp, 'run2');
  for (const step of [2, 4, 6, 8]) saveCheckpoint(out, contents(step));
  // A crash mid-write leaves a temp dir; a hand-made dir without state is incomplete.
  mkdirSync(path.join(out, '.checkpoint-10.tmp-999'));
  writeFileSync(path.join(out, '.checkpoint-10.tmp-999', 'adapter_model.safetensors'), 'partial');
  mkdirSync(path.join(out, 'checkpoint-12'));
  assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2, 4, 6, 8]);
  assert.equal(findLatestCheckpoint(out)!.step, 8);
  pruneCheckpoints(out, 2);
  assert.deepEqual(readdirSync(out).sort(), ['checkpoint-12', 'checkpoint-6', 'checkpoint-8']);
  assert.equal(findLatestCheckpoint(path.join(tmp, 'nowhere')), null);
  // Re-saving an existing step replaces it whole.
  saveCheckpoint(out, contents(8));
  assert.ok(existsSync(path.join(out, 'checkpoint-8', 'trainer_state.json')));
});

test('PEFT adapter files round-trip and merging adds scale * (B A)^T to the Conv1D weight', () => {
  const dir = path.join(tmp, 'adapter');
  const lora = contents(3).lora;
  writePeftAdapter(dir, spec, 'models/tiny', lora, shapes);
  const back = readPeftAdapter(dir);
  assert.deepEqual(back.spec, spec);
  assert.deepEqual(back.tensors.get(shapes[0].name), lora.get(shapes[0].name));

  const oneLayer: GPT2Config = { ...config, nLayer: 1 };
  const s: LoraSpec = { rank: 1, alpha: 2, dropout: 0, targetModules: ['attn.c_proj'] };
  const W = new Float32Array(64).fill(1); // [in=8, out=8]
  const A = Float32Array.from({ length: 8 }, (_, i) => i); // [1, 8]
  const B = Float32Array.from({ length: 8 }, (_, o) => (o === 3 ? 0.5 : 0)); // [8, 1]
  const merged = mergeLoraIntoBase(oneLayer, new Map([['h.0.attn.c_proj.weight', W]]), s, new Map([
    ['base_model.model.transformer.h.0.attn.c_proj.lora_A.weight', A],
    ['base_model.model.transformer.h.0.attn.c_proj.lora_B.weight', B],
  ]));
  const Wm = merged.get('h.0.attn.c_proj.weight')!;
  // W'[i, o] = 1 + 2 * B[o] * A[i]: only column o = 3 changes, by 2 * 0.5 * i = i.
  for (let i = 0; i < 8; i++) for (let o = 0; o < 8; o++) assert.equal(Wm[i * 8 + o], o === 3 ? 1 + i : 1);
  assert.equal(W[3 * 8 + 3], 1, 'the base weights are not modified');
});
