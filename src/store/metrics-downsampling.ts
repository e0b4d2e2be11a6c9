// Downsampling of metric curves: each output point covers a contiguous range of steps and
// carries the range's mean (`value`) and its extremes (`min`, `max`), so spikes survive
// downsampling (a loss spike stays visible in `max` even when averaged away in `value`).
// Both functions are linear in their input, which readCurve keeps bounded by the number
// of requested points.
import type { MetricBucketDoc } from './documents.ts';

export interface CurvePoint {
  /** Last step of the range this point covers. */
  step: number;
  /** Mean of the range. */
  value: number;
  min: number;
  max: number;
  /** Number of stored points the range holds. */
  count: number;
}

type RawBucket = Pick<MetricBucketDoc, 'steps' | 'values'>;
type BucketSummary = Pick<MetricBucketDoc, 'count' | 'min' | 'max' | 'sum' | 'lastStep'>;

class RangeAccumulator {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  lastStep = 0;

  add(step: number, count: number, sum: number, min: number, max: number): void {
    this.count += count;
    this.sum += sum;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
    this.lastStep = step;
  }

  /** Emits the range as a point and starts a new one. */
  flushInto(out: CurvePoint[]): void {
    if (this.count === 0) return;
    out.push({ step: this.lastStep, value: this.sum / this.count, min: this.min, max: this.max, count: this.count });
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

/** Splits `total` items into `slots` ranges of near-equal size; returns the index at which range `slot` ends. */
function rangeEnd(slot: number, slots: number, total: number): number {
  return Math.floor(((slot + 1) * total) / slots);
}

export function downsampleRawPoints(buckets: readonly RawBucket[], points: number): CurvePoint[] {
  let total = 0;
  for (const b of buckets) total += b.steps.length;
  const slots = Math.min(points, total);
  const out: CurvePoint[] = [];
  const acc = new RangeAccumulator();
  let index = 0;
  let slot = 0;
  let end = rangeEnd(0, slots, total);
  for (const b of buckets) {
    for (let i = 0; i < b.steps.length; i++) {
      const v = b.values[i]!;
      acc.add(b.steps[i]!, 1, v, v, v);
      index++;
      if (index === end) {
        acc.flushInto(out);
        slot++;
        end = rangeEnd(slot, slots, total);
      }
    }
  }
  acc.flushInto(out);
  return out;
}

export function downsampleBucketSummaries(buckets: readonly BucketSummary[], points: number): CurvePoint[] {
  const slots = Math.min(points, buckets.length);
  const out: CurvePoint[] = [];
  const acc = new RangeAccumulator();
  let slot = 0;
  let end = rangeEnd(0, slots, buckets.length);
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    acc.add(b.lastStep, b.count, b.sum, b.min, b.max);
    if (i + 1 === end) {
      acc.flushInto(out);
      slot++;
      end = rangeEnd(slot, slots, buckets.length);
    }
  }
  acc.flushInto(out);
  return out;
}
