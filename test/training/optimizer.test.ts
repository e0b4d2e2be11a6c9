import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../../src/training/optimizer/adamw.ts';
import { learningRateAt } from '../../src/training/optimizer/lrSchedule.ts';
import { clipGradNorm, globalGradNorm } from '../../src/training/optimizer/gradientClipping.ts';
import { GradientAccumulator } from '../../src/training/optimizer/gradientAccumulator.ts';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

test('AdamW matches hand-computed PyTorch AdamW updates', () => {
  // Step 1 by hand: p = 1 * (1 - 0.1*0.01) = 0.999; m = 0.05; v = 0.00025;
  // m_hat / (sqrt(v_hat) + eps) = 0.5 / (0.5 + 1e-8); p = 0.999 - 0.1 * that = 0.899000002.
  const expectedA = [0.899000002, 0.8714672987058463, 0.8365529176159483];
  const expectedB = [-1.998, -2.0034433681304593, -2.01002455021487];
  const gradsA = [0.5, -0.25, 0.125];
  const gradsB = [0, 1, 1];
  const a = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  const b = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
  const pa = new Map([['p', Float32Array.of(1)]]);
  const pb = new Map([['p', Float32Array.of(-2)]]);
  for (let t = 0; t < 3; t++) {
    a.update(pa, new Map([['p', Float32Array.of(gradsA[t])]]), 0.1);
    b.update(pb, new Map([['p', Float32Array.of(gradsB[t])]]), 0.01);
    close(pa.get('p')![0], expectedA[t], 1e-6, `A step ${t + 1}`);
    close(pb.get('p')![0], expectedB[t], 1e-6, `B step ${t + 1}`);
  }
  assert.equal(a.step, 3);
});

test('AdamW leaves parameters without gradients untouched and rejects mismatched sizes', () => {
  const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 });
  const params = new Map([['x', Float32Array.of(1, 2)], ['y', Float32Array.of(3)]]);
  opt.update(params, new Map([['x', Float32Array.of(0.1, 0.1)]]), 0.1);
  assert.deepEqual([...params.get('y')!], [3]);
  assert.throws(() => opt.update(params, new Map([['x', Float32Array.of(1)]]), 0.1), /gradient "x" has 1 values, parameter has 2/);
});

test('learning-rate schedules follow HF transformers with warmup', () => {
  const base = { baseLr: 1, warmupSteps: 10, totalSteps: 110 };
  for (const name of ['constant', 'linear', 'cosine'] as const) {
    assert.equal(learningRateAt({ ...base, name }, 0), 0);
    assert.equal(learningRateAt({ ...base, name }, 5), 0.5);
    assert.equal(learningRateAt({ ...base, name }, 10), 1);
  }
  assert.equal(learningRateAt({ ...base, name: 'constant' }, 100), 1);
  close(learningRateAt({ ...base, name: 'linear' }, 60), 0.5, 1e-12, 'linear midpoint');
  assert.equal(learningRateAt({ ...base, name: 'linear' }, 110), 0);
  close(learningRateAt({ ...base, name: 'cosine' }, 60), 0.5, 1e-12, 'cosine midpoint');
  close(learningRateAt({ ...base, name: 'cosine' }, 35), 0.5 * (1 + Math.cos(Math.PI * 0.25)), 1e-12, 'cosine quarter');
  close(learningRateAt({ ...base, name: 'cosine' }, 110), 0, 1e-12, 'cosine end');
  assert.equal(learningRateAt({ name: 'linear', baseLr: 2, warmupSteps: 0, totalSteps: 4 }, 0), 2);
});

test('global-norm clipping scales every gradient like clip_grad_norm_', () => {
  const g1 = Float32Array.of(3, 0);
  const g2 = Float64Array.of(0, 4);
  const norm = clipGradNorm([g1, g2], 1);
  assert.equal(norm, 5);
  close(g1[0], 3 / (5 + 1e-6), 1e-7, 'g1');
  close(g2[1], 4 / (5 + 1e-6), 1e-12, 'g2');
  close(globalGradNorm([g1, g2]), 1, 1e-6, 'norm after');
  const small = Float32Array.of(0.1);
  assert.equal(clipGradNorm([small], 1), Math.fround(0.1));
  assert.equal(small[0], Math.fround(0.1), 'below the limit nothing changes');
  const disabled = Float32Array.of(100);
  clipGradNorm([disabled], 0);
  assert.equal(disabled[0], 100, 'max_grad_norm 0 disables clipping');
});

test('gradient accumulation averages micro-batch gradients and losses', () => {
  const acc = new GradientAccumulator();
  acc.add(new Map([['w', Float32Array.of(1, 2)]]), 3, 10);
  acc.add(new Map([['w', Float32Array.of(3, -2)]]), 5, 10);
  assert.equal(acc.microBatches, 2);
  const { grads, loss, tokens } = acc.take();
  assert.deepEqual([...grads.get('w')!], [2, 0]);
  assert.equal(loss, 4);
  assert.equal(tokens, 20);
  assert.equal(acc.microBatches, 0);
  assert.throws(() => acc.take(), /no micro-batch/);
});
