// Small statistics over a sampled curve, as the diagnosis rules need them. Plain arrays in,
// numbers out; no knowledge of MongoDB or GraphQL.

/** A metric series: `values[i]` was logged at `steps[i]`, steps ascending. */
export interface Curve {
  steps: readonly number[];
  values: readonly number[];
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation. */
export function populationStdDev(values: readonly number[]): number {
  const m = mean(values);
  let sq = 0;
  for (const v of values) sq += (v - m) * (v - m);
  return Math.sqrt(sq / values.length);
}

/** The q-quantile (0..1) by linear interpolation between the closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** Centered moving average with a window of `width` points (shrinking at the ends). */
export function movingAverage(values: readonly number[], width: number): number[] {
  const half = Math.floor(width / 2);
  const prefix = [0];
  for (const v of values) prefix.push(prefix[prefix.length - 1]! + v);
  return values.map((_, i) => {
    const from = Math.max(0, i - half);
    const to = Math.min(values.length, i + half + 1);
    return (prefix[to]! - prefix[from]!) / (to - from);
  });
}

/** The index of the smallest value (first one on ties). */
export function argMin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return best;
}

export function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Fraction of consecutive differences whose sign flips: ~0 for a smooth trend, ~0.5+ for noise or zig-zag. */
export function signChangeRate(values: readonly number[]): number {
  let changes = 0;
  let comparisons = 0;
  let previous = 0;
  for (let i = 1; i < values.length; i++) {
    const diff = values[i]! - values[i - 1]!;
    if (diff === 0) continue;
    if (previous !== 0) {
      comparisons++;
      if (Math.sign(diff) !== Math.sign(previous)) changes++;
    }
    previous = diff;
  }
  return comparisons === 0 ? 0 : changes / comparisons;
}

/** The index of the first step >= `step` in an ascending step list (its length when none is). */
export function firstIndexAtOrAfter(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the step closest to `step` in a non-empty ascending step list. */
export function nearestStepIndex(steps: readonly number[], step: number): number {
  const at = Math.min(firstIndexAtOrAfter(steps, step), steps.length - 1);
  if (at > 0 && Math.abs(steps[at - 1]! - step) <= Math.abs(steps[at]! - step)) return at - 1;
  return at;
}
