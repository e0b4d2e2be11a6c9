// 'cuda' needs onnxruntime-node's CUDA binaries; where they are missing (this project's
// default install skips them) the train step fails at once with a message saying how to fix it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availableParallelism } from 'node:os';
import { cudaUnavailableReason, defaultThreads, TrainStep, type LoraSpec } from '../../../src/training/model/index.ts';
import { MICRO_CONFIG, randomBaseWeights, seededRandom } from './microGpt2.ts';

describe('execution provider', () => {
  const weights = randomBaseWeights(MICRO_CONFIG, seededRandom(1));
  const lora: LoraSpec = { rank: 2, alpha: 2, dropout: 0, targetModules: ['c_attn'] };

  it("'cpu' is used by default and reported", async () => {
    const step = await TrainStep.create({ config: MICRO_CONFIG, weights, lora, batchSize: 1, seqLen: 4, threads: 1 });
    assert.equal(step.executionProvider, 'cpu');
    await step.release();
  });

  it("'cuda' without the CUDA binaries fails with a clear message", async (t) => {
    const reason = cudaUnavailableReason();
    if (reason === null) {
      // CUDA binaries installed: the provider must then actually be used.
      const step = await TrainStep.create({ config: MICRO_CONFIG, weights, lora, batchSize: 1, seqLen: 4, executionProvider: 'cuda' });
      assert.equal(step.executionProvider, 'cuda');
      await step.release();
      return;
    }
    assert.match(reason, /execution provider 'cuda' is not available/);
    assert.match(reason, /--onnxruntime-node-install=cuda12/);
    await assert.rejects(
      TrainStep.create({ config: MICRO_CONFIG, weights, lora, batchSize: 1, seqLen: 4, executionProvider: 'cuda' }),
      (error: Error) => error.message === reason,
    );
    t.diagnostic(reason);
  });

  it('defaults to one thread per physical core, never more than the CPUs this process may use', () => {
    const threads = defaultThreads();
    assert.ok(Number.isInteger(threads) && threads >= 1 && threads <= availableParallelism(), `defaultThreads() = ${threads}`);
  });

  it('rejects an unknown provider and bad thread counts, naming the value', async () => {
    await assert.rejects(TrainStep.create({ config: MICRO_CONFIG, weights, lora, batchSize: 1, seqLen: 4, executionProvider: 'tpu' as never }),
      /executionProvider is "tpu"; allowed: 'cpu', 'cuda'/);
    await assert.rejects(TrainStep.create({ config: MICRO_CONFIG, weights, lora, batchSize: 1, seqLen: 4, threads: 0 }),
      /threads is 0; it must be a positive integer/);
  });
});
