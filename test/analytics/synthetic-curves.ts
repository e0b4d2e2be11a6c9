// Synthetic loss curves of each kind the diagnosis rules look for, built from a seeded
// generator so every test run sees the same numbers.
import type { Curve } from '../../src/analytics/curve-statistics.ts';
import { Rng } from '../../src/training/rng.ts';

/** A seeded uniform [0, 1) source: the trainer's own xoshiro128** generator. */
export function seededRandom(seed: number): () => number {
  const rng = Rng.fromSeed(seed);
  return () => rng.nextFloat();
}

export function curveOf(steps: number[], valueAt: (step: number, i: number) => number): Curve {
  return { steps, values: steps.map((s, i) => valueAt(s, i)) };
}

export function stepsEvery(stride: number, count: number, start = stride): number[] {
  return Array.from({ length: count }, (_, i) => start + i * stride);
}

/** Healthy: exponential decay from ~2.6 to ~0.6 with 2% multiplicative noise. */
export function healthyTrainLoss(seed = 1, count = 200): Curve {
  const random = seededRandom(seed);
  return curveOf(stepsEvery(10, count), (_, i) => (0.6 + 2 * Math.exp(-i / (count / 5))) * (1 + 0.04 * (random() - 0.5)));
}

/** Healthy eval: falls and flattens, evaluated every 100 steps, tiny noise. */
export function healthyEvalLoss(seed = 2, count = 20): Curve {
  const random = seededRandom(seed);
  return curveOf(stepsEvery(100, count), (_, i) => (0.7 + 1.9 * Math.exp(-i / 4)) * (1 + 0.01 * (random() - 0.5)));
}

/**
 * The curves of run `i` of a mixed page, cycling through what the rules look for: healthy,
 * overfitting, flat, diverging, a long run (60,000 steps: read from bucket summaries, not
 * raw points, and overfitting), oscillating, eval only, and no curve at all.
 */
export function mixedRunCurves(i: number): Record<string, Curve> {
  const seed = 100 + i;
  const random = seededRandom(seed);
  switch (i % 8) {
    case 0:
      return { loss: healthyTrainLoss(seed), eval_loss: healthyEvalLoss(seed + 1) };
    case 1:
      return { loss: healthyTrainLoss(seed), eval_loss: curveOf(stepsEvery(100, 20), (_, k) => (k <= 8 ? 2.4 - k * 0.2 : 0.8 + (k - 8) * 0.06)) };
    case 2:
      return { loss: curveOf(stepsEvery(5, 300), (_, k) => 10.8 + 0.02 * Math.sin(k + i)) };
    case 3:
      return { loss: curveOf(stepsEvery(10, 200), (_, k) => (k < 100 ? 2.5 - k * 0.015 : 1 + (k - 100) * 0.03) * (1 + 0.02 * (random() - 0.5))) };
    case 4:
      return {
        loss: curveOf(stepsEvery(100, 600), (_, k) => (0.6 + 2 * Math.exp(-k / 120)) * (1 + 0.04 * (random() - 0.5))),
        eval_loss: curveOf(stepsEvery(2000, 30), (_, k) => (k <= 12 ? 2.4 - k * 0.12 : 0.96 + (k - 12) * 0.05)),
      };
    case 5:
      return { loss: curveOf(stepsEvery(10, 200), (_, k) => 2 + 0.6 * Math.sin(k / 3) + 0.05 * random()) };
    case 6:
      return { eval_loss: healthyEvalLoss(seed) };
    default:
      return {};
  }
}
