// The ONNX forward graph computes GPT-2: its logits and loss equal a plain-TypeScript loop
// implementation of HF GPT-2 (pre-LN blocks, causal attention, gelu_new, tied head).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForwardModel, TrainStep, type LoraSpec } from '../../../src/training/model/index.ts';
import { MICRO_CONFIG, randomBaseWeights, randomTokens, referenceLogits, referenceLoss, seededRandom } from './microGpt2.ts';

const config = MICRO_CONFIG;
const noLora: LoraSpec = { rank: 1, alpha: 1, dropout: 0, targetModules: [] };

describe('base GPT-2 forward against the plain-TypeScript reference', () => {
  const random = seededRandom(3);
  const weights = randomBaseWeights(config, random);
  const B = 2, T = config.nPositions; // full context: every position embedding is used

  it('logits (B, T, V) match to 1e-4 (float32 graph)', async () => {
    const inputIds = randomTokens(B * T, config.vocabSize, random);
    const model = await ForwardModel.create({ config, weights, lora: noLora, batchSize: B, seqLen: T, threads: 1 });
    try {
      const logits = await model.logits({ inputIds, lora: new Map() });
      const expected = referenceLogits({ config, weights, lora: noLora, loraTensors: new Map(), inputIds, batchSize: B, seqLen: T });
      assert.equal(logits.length, B * T * config.vocabSize);
      let maxDiff = 0;
      for (let i = 0; i < logits.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - expected[i]));
      assert.ok(maxDiff <= 1e-4, `max |logit difference| ${maxDiff}`);
    } finally {
      await model.release();
    }
  });

  it('the float64 train-step loss equals the reference loss to 1e-12, and the forward-only loss to 1e-5', async () => {
    const inputIds = randomTokens(B * T, config.vocabSize, random);
    const targets = randomTokens(B * T, config.vocabSize, random);
    const expected = referenceLoss({ config, weights, lora: noLora, loraTensors: new Map(), inputIds, batchSize: B, seqLen: T }, targets);
    const step = await TrainStep.create({ config, weights, lora: noLora, batchSize: B, seqLen: T, dtype: 'float64', threads: 1 });
    const model = await ForwardModel.create({ config, weights, lora: noLora, batchSize: B, seqLen: T, threads: 1 });
    try {
      const { loss } = await step.run({ inputIds, targets, lora: new Map() });
      assert.ok(Math.abs(loss - expected) <= 1e-12, `train-step loss ${loss} vs reference ${expected}`);
      const evalLoss = await model.loss({ inputIds, targets, lora: new Map() });
      assert.ok(Math.abs(evalLoss - expected) <= 1e-5, `forward loss ${evalLoss} vs reference ${expected}`);
    } finally {
      await step.release();
      await model.release();
    }
  });

  it('attention is causal: changing a later token leaves earlier logits unchanged', async () => {
    const inputIds = randomTokens(B * T, config.vocabSize, random);
    const model = await ForwardModel.create({ config, weights, lora: noLora, batchSize: B, seqLen: T, threads: 1 });
    try {
      const before = await model.logits({ inputIds, lora: new Map() });
      const changed = Int32Array.from(inputIds);
      changed[T - 1] = (changed[T - 1] + 1) % config.vocabSize; // last token of sequence 0
      const after = await model.logits({ inputIds: changed, lora: new Map() });
      const V = config.vocabSize;
      assert.deepEqual(after.subarray(0, (T - 1) * V), before.subarray(0, (T - 1) * V));
      assert.notDeepEqual(after.subarray((T - 1) * V, T * V), before.subarray((T - 1) * V, T * V));
    } finally {
      await model.release();
    }
  });
});
