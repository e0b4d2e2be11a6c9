// The train-step graph's gradients are the true gradients: the float64 graph matches central
// finite differences of its own loss for every trainable tensor (LoRA mode and full mode),
// and the float32 graph agrees with the float64 one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dropoutMaskShapes, initLoraTensors, TrainStep, type LoraSpec, type TrainStepInputs } from '../../../src/training/model/index.ts';
import { ALL_TARGETS, MICRO_CONFIG, randomBaseWeights, randomTokens, seededRandom } from './microGpt2.ts';

const config = MICRO_CONFIG;
const B = 2, T = 5;

/** ||a - b|| / max(||a||, ||b||), the relative error of a whole tensor. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-300);
}

/** Central differences of the loss w.r.t. every entry of `tensors.get(name)` (float64), or of the listed entries. */
async function finiteDifferences(step: TrainStep, inputs: TrainStepInputs, tensors: Map<string, Float64Array>, name: string, entries?: number[]): Promise<Float64Array> {
  const values = tensors.get(name)!;
  const grad = new Float64Array(values.length);
  const h = 1e-5;
  for (const i of entries ?? values.keys()) {
    const saved = values[i];
    values[i] = saved + h;
    const plus = (await step.run(inputs)).loss;
    values[i] = saved - h;
    const minus = (await step.run(inputs)).loss;
    values[i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

function toFloat64(map: Map<string, Float32Array>): Map<string, Float64Array> {
  return new Map([...map].map(([k, v]) => [k, Float64Array.from(v)]));
}

describe('LoRA gradients (all four target modules, dropout, ignored targets)', () => {
  const random = seededRandom(7);
  const weights = randomBaseWeights(config, random);
  const lora: LoraSpec = { rank: 2, alpha: 3, dropout: 0.25, targetModules: ALL_TARGETS };
  const loraTensors = toFloat64(initLoraTensors(config, lora, random));
  // B = 0 at init would make A's gradient exactly 0: give B values so every path is exercised.
  for (const [name, values] of loraTensors) if (name.endsWith('lora_B.weight')) values.forEach((_, i) => { values[i] = (random() - 0.5) * 0.6; });
  const dropoutMasks = new Map(dropoutMaskShapes(config, lora, B, T).map(({ name, shape }) => {
    const mask = new Float64Array(shape.reduce((a, b) => a * b, 1));
    mask.forEach((_, i) => { mask[i] = random() < lora.dropout ? 0 : 1 / (1 - lora.dropout); });
    return [name, mask];
  }));
  const inputIds = randomTokens(B * T, config.vocabSize, random);
  const targets = randomTokens(B * T, config.vocabSize, random);
  targets[2] = -100;
  targets[7] = -100;
  const inputs: TrainStepInputs = { inputIds, targets, lora: loraTensors, dropoutMasks };
  let step64: TrainStep, step32: TrainStep;

  before(async () => {
    step64 = await TrainStep.create({ config, weights, lora, batchSize: B, seqLen: T, dtype: 'float64', threads: 1 });
    step32 = await TrainStep.create({ config, weights, lora, batchSize: B, seqLen: T, dtype: 'float32', threads: 1 });
  });
  after(async () => {
    await step64.release();
    await step32.release();
  });

  it('float64 gradients match central finite differences to relative error <= 1e-6 for every LoRA tensor', async () => {
    const result = await step64.run(inputs);
    assert.equal(result.tokens, B * T - 2);
    assert.equal(result.grads.size, loraTensors.size);
    for (const name of loraTensors.keys()) {
      const numeric = await finiteDifferences(step64, inputs, loraTensors, name);
      const analytic = result.grads.get(name)!;
      assert.ok(analytic instanceof Float64Array);
      const error = relativeError(analytic, numeric);
      assert.ok(error <= 1e-6, `${name}: relative error ${error}`);
      assert.ok(Math.max(...analytic.map(Math.abs)) > 1e-4, `${name}: gradient is (near) zero, the check would be vacuous`);
    }
  });

  it('the float32 graph agrees with the float64 graph within 1e-3', async () => {
    const r64 = await step64.run(inputs);
    const r32 = await step32.run(inputs);
    assert.ok(Math.abs(r32.loss - r64.loss) <= 1e-3 * Math.abs(r64.loss), `loss ${r32.loss} vs ${r64.loss}`);
    for (const [name, g64] of r64.grads) {
      const g32 = r32.grads.get(name)!;
      assert.ok(g32 instanceof Float32Array);
      const error = relativeError(g32, g64);
      assert.ok(error <= 1e-3, `${name}: float32 vs float64 relative error ${error}`);
    }
  });
});

describe("full-parameter gradients (trainable: 'full')", () => {
  it('float64 gradients of every base tensor match central finite differences to relative error <= 1e-6', async () => {
    const random = seededRandom(11);
    const base = toFloat64(randomBaseWeights(config, random));
    const lora: LoraSpec = { rank: 1, alpha: 1, dropout: 0, targetModules: [] };
    const targets = randomTokens(B * T, config.vocabSize, random);
    targets[4] = -100;
    // Token 0 appears twice so wte's scatter-add of repeated ids is exercised.
    const inputIds = randomTokens(B * T, config.vocabSize, random);
    inputIds[1] = inputIds[6] = 0;
    const step = await TrainStep.create({ config, weights: new Map(), lora, batchSize: B, seqLen: T, dtype: 'float64', trainable: 'full', threads: 1 });
    try {
      const inputs: TrainStepInputs = { inputIds, targets, lora: new Map(), base };
      const result = await step.run(inputs);
      assert.equal(result.grads.size, base.size);
      for (const [name, values] of base) {
        // At most 12 entries per tensor, spread over it, keep the test fast; wpe rows past seqLen get exactly 0.
        const stride = Math.max(1, Math.floor(values.length / 12));
        const entries = Array.from({ length: Math.ceil(values.length / stride) }, (_, k) => k * stride);
        const numeric = await finiteDifferences(step, inputs, base, name, entries);
        const analytic = result.grads.get(name)!;
        const error = relativeError(entries.map((i) => analytic[i]), entries.map((i) => numeric[i]));
        assert.ok(error <= 1e-6, `${name}: relative error ${error}`);
      }
      const wpeGrad = result.grads.get('wpe.weight')!;
      assert.ok(wpeGrad.subarray(T * config.nEmbd).every((v) => v === 0), 'positions beyond seqLen get no gradient');
    } finally {
      await step.release();
    }
  });
});
