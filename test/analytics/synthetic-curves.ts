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
