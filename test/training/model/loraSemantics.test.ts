// LoRA behaves as PEFT's: B = 0 leaves the base model's output unchanged, the update is
// scaled by alpha / r, dropout masks apply to the LoRA branch input only, and A's init is
// Kaiming-uniform with bound 1/sqrt(in).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dropoutMaskShapes, ForwardModel, initLoraTensors, loraScale, loraTensorShapes, TrainStep, type LoraSpec,
} from '../../../src/training/model/index.ts';
import { ALL_TARGETS, MICRO_CONFIG, randomBaseWeights, randomTokens, referenceLoss, seededRandom } from './microGpt2.ts';

const config = MICRO_CONFIG;
const B = 2, T = 6;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function randomizeB(tensors: Map<string, Float32Array>, random: () => number): void {
  for (const [name, values] of tensors) if (name.endsWith('lora_B.weight')) values.forEach((_, i) => { values[i] = (random() - 0.5) * 0.5; });
}

describe('LoRA semantics', () => {
  const random = seededRandom(5);
  const weights = randomBaseWeights(config, random);
  const inputIds = randomTokens(B * T, config.vocabSize, random);

  it('with B = 0 (PEFT init) the adapted model outputs exactly what the base model outputs', async () => {
    const lora: LoraSpec = { rank: 4, alpha: 8, dropout: 0, targetModules: ALL_TARGETS };
    const adapted = await ForwardModel.create({ config, weights, lora, batchSize: B, seqLen: T, threads: 1 });
    const base = await ForwardModel.create({ config, weights, lora: { ...lora, targetModules: [] }, batchSize: B, seqLen: T, threads: 1 });
    try {
      const tensors = initLoraTensors(config, lora, random);
      const withLora = await adapted.logits({ inputIds, lora: tensors });
      const without = await base.logits({ inputIds, lora: new Map() });
      assert.ok(maxAbsDiff(withLora, without) <= 1e-6);
      randomizeB(tensors, random);
      const trained = await adapted.logits({ inputIds, lora: tensors });
      assert.ok(maxAbsDiff(trained, without) > 1e-3, 'a non-zero B must change the output');
    } finally {
      await adapted.release();
      await base.release();
    }
  });

  it('the update is scaled by alpha / r: (alpha, B) and (2 alpha, B / 2) give the same model', async () => {
    const lora: LoraSpec = { rank: 2, alpha: 3, dropout: 0, targetModules: ['c_attn', 'mlp.c_fc'] };
    const doubled: LoraSpec = { ...lora, alpha: 6 };
    assert.equal(loraScale(lora), 1.5);
    const tensors = initLoraTensors(config, lora, random);
    randomizeB(tensors, random);
    const halved = new Map([...tensors].map(([k, v]) => [k, k.endsWith('lora_B.weight') ? v.map((x) => x / 2) : v]));
    const m1 = await ForwardModel.create({ config, weights, lora, batchSize: B, seqLen: T, threads: 1 });
    const m2 = await ForwardModel.create({ config, weights, lora: doubled, batchSize: B, seqLen: T, threads: 1 });
    try {
      const a = await m1.logits({ inputIds, lora: tensors });
      const b = await m2.logits({ inputIds, lora: halved });
      assert.ok(maxAbsDiff(a, b) <= 1e-5);
      // and both equal the reference, which applies alpha / r explicitly
      const targets = randomTokens(B * T, config.vocabSize, random);
      const expected = referenceLoss({ config, weights, lora, loraTensors: tensors, inputIds, batchSize: B, seqLen: T }, targets);
      assert.ok(Math.abs((await m1.loss({ inputIds, targets, lora: tensors })) - expected) <= 1e-5);
    } finally {
      await m1.release();
      await m2.release();
    }
  });

  it('dropout masks scale the LoRA branch input only, as the reference does', async () => {
    const lora: LoraSpec = { rank: 2, alpha: 4, dropout: 0.5, targetModules: ['attn.c_proj', 'mlp.c_proj'] };
    const tensors = initLoraTensors(config, lora, random);
    randomizeB(tensors, random);
    const shapes = dropoutMaskShapes(config, lora, B, T);
    assert.deepEqual(shapes.map((s) => s.shape), [[B, T, 8], [B, T, 32], [B, T, 8], [B, T, 32]]);
    const masks = new Map(shapes.map(({ name, shape }) => [name, Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, () => (random() < 0.5 ? 0 : 2))]));
    const targets = randomTokens(B * T, config.vocabSize, random);
    const step = await TrainStep.create({ config, weights, lora, batchSize: B, seqLen: T, dtype: 'float64', threads: 1 });
    try {
      const { loss } = await step.run({ inputIds, targets, lora: tensors, dropoutMasks: masks });
      const expected = referenceLoss({ config, weights, lora, loraTensors: tensors, dropoutMasks: masks, inputIds, batchSize: B, seqLen: T }, targets);
      assert.ok(Math.abs(loss - expected) <= 1e-12, `${loss} vs ${expected}`);
      const noDropout = referenceLoss({ config, weights, lora, loraTensors: tensors, inputIds, batchSize: B, seqLen: T }, targets);
      assert.ok(Math.abs(loss - noDropout) > 1e-6, 'the masks must change the loss');
      await assert.rejects(step.run({ inputIds, targets, lora: tensors }), /dropout mask h\.0\.attn\.c_proj\.lora_dropout\.mask is missing/);
    } finally {
      await step.release();
    }
  });

  it('PEFT names and shapes; A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0, reproducible from the seed', () => {
    const lora: LoraSpec = { rank: 4, alpha: 8, dropout: 0, targetModules: ['mlp.c_proj', 'c_attn'] };
    const shapes = loraTensorShapes(config, lora);
    assert.deepEqual(shapes.slice(0, 4), [
      { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', shape: [4, 8] },
      { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', shape: [24, 4] },
      { name: 'base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight', shape: [4, 32] },
      { name: 'base_model.model.transformer.h.0.mlp.c_proj.lora_B.weight', shape: [8, 4] },
    ]);
    assert.equal(shapes.length, 8);
    const first = initLoraTensors(config, lora, seededRandom(1));
    const again = initLoraTensors(config, lora, seededRandom(1));
    assert.deepEqual(first, again);
    const a = first.get('base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight')!;
    const bound = 1 / Math.sqrt(32);
    assert.ok(a.every((v) => Math.abs(v) <= bound) && Math.max(...a.map(Math.abs)) > 0.8 * bound);
    assert.ok(first.get('base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight')!.every((v) => v === 0));
    assert.deepEqual(dropoutMaskShapes(config, lora, 2, 3), []);
  });

  it('rejects invalid specs with the field, the value and what is allowed', () => {
    assert.throws(() => loraTensorShapes(config, { rank: 0, alpha: 8, dropout: 0, targetModules: ['c_attn'] }), /lora rank is 0; it must be a positive integer/);
    assert.throws(() => loraTensorShapes(config, { rank: 2, alpha: 8, dropout: 1, targetModules: ['c_attn'] }), /lora dropout is 1; it must be in \[0, 1\)/);
    assert.throws(() => loraTensorShapes(config, { rank: 2, alpha: 8, dropout: 0, targetModules: ['c_fc' as never] }),
      /lora target module "c_fc" is not supported; allowed: c_attn, attn\.c_proj, mlp\.c_fc, mlp\.c_proj/);
  });
});
