// Targets of -100 are ignored: the loss is the mean over the other positions only, ignored
// positions contribute no gradient, and a batch with no valid target gives loss 0, not NaN.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initLoraTensors, TrainStep, type LoraSpec } from '../../../src/training/model/index.ts';
import { MICRO_CONFIG, randomBaseWeights, randomTokens, referenceLoss, seededRandom } from './microGpt2.ts';

const config = MICRO_CONFIG;
const B = 2, T = 4;

describe('cross-entropy with ignored (-100) targets', () => {
  const random = seededRandom(9);
  const weights = randomBaseWeights(config, random);
  const lora: LoraSpec = { rank: 2, alpha: 2, dropout: 0, targetModules: ['c_attn'] };
  const tensors = initLoraTensors(config, lora, random);
  for (const [name, v] of tensors) if (name.includes('lora_B')) v.forEach((_, i) => { v[i] = random() - 0.5; });
  const inputIds = randomTokens(B * T, config.vocabSize, random);
  let step: TrainStep;
  before(async () => { step = await TrainStep.create({ config, weights, lora, batchSize: B, seqLen: T, dtype: 'float64', threads: 1 }); });
  after(async () => { await step.release(); });

  it('is the mean over valid positions only, and counts them as tokens', async () => {
    const targets = randomTokens(B * T, config.vocabSize, random);
    targets[0] = targets[5] = targets[6] = -100;
    const result = await step.run({ inputIds, targets, lora: tensors });
    assert.equal(result.tokens, 5);
    const expected = referenceLoss({ config, weights, lora, loraTensors: tensors, inputIds, batchSize: B, seqLen: T }, targets);
    assert.ok(Math.abs(result.loss - expected) <= 1e-12, `${result.loss} vs ${expected}`);
  });

  it('ignored positions contribute neither loss nor gradient: a batch whose second sequence is all -100 equals the first sequence alone', async () => {
    const targets = randomTokens(B * T, config.vocabSize, random);
    targets.fill(-100, T);
    const batch = await step.run({ inputIds, targets, lora: tensors });
    const single = await TrainStep.create({ config, weights, lora, batchSize: 1, seqLen: T, dtype: 'float64', threads: 1 });
    try {
      const alone = await single.run({ inputIds: inputIds.slice(0, T), targets: targets.slice(0, T), lora: tensors });
      assert.ok(Math.abs(batch.loss - alone.loss) <= 1e-12);
      for (const [name, grad] of alone.grads) {
        const other = batch.grads.get(name)!;
        for (let i = 0; i < grad.length; i++) assert.ok(Math.abs(grad[i] - other[i]) <= 1e-12, `${name}[${i}]`);
      }
    } finally {
      await single.release();
    }
  });

  it('all positions ignored: loss 0 and zero gradients, not NaN', async () => {
    const targets = new Int32Array(B * T).fill(-100);
    const result = await step.run({ inputIds, targets, lora: tensors });
    assert.equal(result.loss, 0);
    assert.equal(result.tokens, 0);
    for (const [name, grad] of result.grads) assert.ok(grad.every((v) => v === 0), `${name} gradient must be 0`);
  });

  it('rejects inputs of the wrong length or outside the vocabulary, naming them', async () => {
    await assert.rejects(step.run({ inputIds: new Int32Array(3), targets: new Int32Array(B * T), lora: tensors }), /inputIds has 3 values; batchSize 2 x seqLen 4 needs 8/);
    const badIds = Int32Array.from(inputIds);
    badIds[5] = config.vocabSize;
    await assert.rejects(step.run({ inputIds: badIds, targets: new Int32Array(B * T), lora: tensors }), /inputIds\[5\] is 11; the model's vocabulary allows 0\.\.10$/);
    const badTargets = new Int32Array(B * T);
    badTargets[2] = -1;
    await assert.rejects(step.run({ inputIds, targets: badTargets, lora: tensors }), /targets\[2\] is -1; the model's vocabulary allows 0\.\.10 or -100/);
  });
});
