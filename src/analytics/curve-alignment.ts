// Aligning several runs' curves on one step axis, so `compareExperiments` can return a
// table: one shared list of steps, one column of values per run.
import { firstIndexAtOrAfter, type Curve } from './curve-statistics.ts';

export interface AlignedCurves {
  steps: number[];
  /** `series[i][j]` is curve i at `steps[j]`; null where curve i has no data (before its
   *  first or after its last step, or next to a non-finite value). */
  series: (number | null)[][];
}

/**
 * Puts every curve on a grid of at most `points` integer steps spread evenly from the
 * smallest to the largest step any curve has. Each curve is read at a grid step by linear
 * interpolation between its two neighbouring samples (exact where it has a sample); it is
 * never extrapolated.
 */
export function alignCurvesByStep(curves: readonly Curve[], points: number): AlignedCurves {
  let first = Infinity;
  let last = -Infinity;
  for (const curve of curves) {
    if (curve.steps.length === 0) continue;
    first = Math.min(first, curve.steps[0]!);
    last = Math.max(last, curve.steps[curve.steps.length - 1]!);
  }
  if (first === Infinity) return { steps: [], series: curves.map(() => []) };
  const steps = stepGrid(first, last, points);
  return { steps, series: curves.map((curve) => steps.map((step) => valueAtStep(curve, step))) };
}

/** `points` evenly spaced integer steps from `first` to `last`, both included, no duplicates. */
export function stepGrid(first: number, last: number, points: number): number[] {
  if (points <= 1 || last === first) return [first];
  const grid: number[] = [];
  const stride = (last - first) / (points - 1);
  for (let i = 0; i < points; i++) {
    const step = i === points - 1 ? last : Math.round(first + i * stride);
    if (grid.length === 0 || step > grid[grid.length - 1]!) grid.push(step);
  }
  return grid;
}

/** The curve's value at `step`: its sample there, or the line between the samples around it. */
export function valueAtStep(curve: Curve, step: number): number | null {
  const { steps, values } = curve;
  if (steps.length === 0 || step < steps[0]! || step > steps[steps.length - 1]!) return null;
  const lo = firstIndexAtOrAfter(steps, step);
  if (steps[lo] === step) return finiteOrNull(values[lo]!);
  const before = values[lo - 1]!;
  const after = values[lo]!;
  if (!Number.isFinite(before) || !Number.isFinite(after)) return null;
  const fraction = (step - steps[lo - 1]!) / (steps[lo]! - steps[lo - 1]!);
  return before + (after - before) * fraction;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
