// Metric history of runs, kept as bucket documents (see MetricBucketDoc): one document per
// experiment, metric key and block of METRIC_BUCKET_SIZE steps, with parallel arrays and
// per-bucket min/max/sum/first/last. Appends are idempotent by step, so replaying a run's
// event log (after a crash, a resume or a database outage) never writes a point twice.
import type { AnyBulkWriteOperation, Collection, Db, ObjectId } from 'mongodb';
import { COLLECTIONS, METRIC_BUCKET_SIZE, type MetricBucketDoc } from './documents.ts';
import { MetricRollups, type BucketState } from './metric-rollups.ts';
import { downsampleBucketSummaries, downsampleRawPoints, type CurvePoint } from './metrics-downsampling.ts';

export interface MetricPointInput {
  key: string;
  step: number;
  value: number;
  time?: Date;
}

export interface AppendMetricsResult {
  /** Points that were new and are now stored. */
  written: number;
  /** Points skipped because their step was already stored (replays) or their value is not finite. */
  skipped: number;
}

export interface RawMetricPoint {
  step: number;
  value: number;
  time: Date;
}

/**
 * Raw points are read when the curve spans at most this many stored points per requested
 * point; longer curves are built from the per-bucket summaries alone, so the read cost is
 * bounded by the number of requested points, not by the run's length.
 */
const RAW_POINTS_PER_REQUESTED_POINT = 100;
const MAX_CURVE_POINTS = 10_000;
/** Bucket summaries are small: fetch many per round trip when read from the bucket documents. */
export const SUMMARY_BATCH_SIZE = 5000;
const DUPLICATE_KEY = 11000;

/** The fields of a curve's first and last bucket that choose where the curve is read from. */
export type BucketEnds = Pick<MetricBucketDoc, 'block' | 'count' | 'firstStep' | 'lastStep'>;

export function requireCurvePoints(points: number): void {
  if (!Number.isSafeInteger(points) || points < 1 || points > MAX_CURVE_POINTS) {
    throw new RangeError(`points: ${points} is not allowed; give an integer from 1 to ${MAX_CURVE_POINTS}.`);
  }
}

/** True when the curve is cut from its raw points; false when built from its bucket summaries. */
export function readsRawPoints(firstBucket: BucketEnds, lastBucket: BucketEnds, points: number): boolean {
  return lastBucket.lastStep - firstBucket.firstStep + 1 <= points * RAW_POINTS_PER_REQUESTED_POINT;
}

export function metricBucketId(experimentId: ObjectId, key: string, block: number): string {
  return `${experimentId.toHexString()}:${key}:${block}`;
}

interface BucketBatch {
  id: string;
  key: string;
  block: number;
  steps: number[];
  values: number[];
  times: Date[];
}

/** Points of one key in columns (what the ingest buffers: no object per point). */
export interface MetricSeriesInput {
  key: string;
  steps: number[];
  values: number[];
  /** One time per step; absent: now. */
  times?: Date[];
}

/** Columns of points (any keys, any order) grouped per key. */
export function seriesFromPoints(points: readonly MetricPointInput[]): MetricSeriesInput[] {
  const byKey = new Map<string, Required<MetricSeriesInput>>();
  const now = new Date();
  for (const p of points) {
    let s = byKey.get(p.key);
    if (!s) byKey.set(p.key, (s = { key: p.key, steps: [], values: [], times: [] }));
    s.steps.push(p.step);
    s.values.push(p.value);
    s.times.push(p.time ?? now);
  }
  return [...byKey.values()];
}

/**
 * Splits each series into bucket batches, in step order, keeping the first occurrence of a
 * step and dropping non-finite values and invalid steps. The usual input (a run's steps in
 * order) is split in one pass without sorting.
 */
function groupIntoBuckets(experimentId: ObjectId, series: readonly MetricSeriesInput[]): { batches: BucketBatch[]; skipped: number } {
  const batches: BucketBatch[] = [];
  let skipped = 0;
  const now = new Date();
  for (const s of series) {
    let order: number[] | null = null;
    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i]!;
      const valid = Number.isFinite(s.values[i]!) && Number.isSafeInteger(step) && step >= 0;
      if (!valid || (i > 0 && step <= s.steps[i - 1]!)) {
        order = [];
        break;
      }
    }
    if (order) {
      // Out of order, repeated or invalid points: sort the valid ones, first occurrence wins.
      const seen = new Set<number>();
      const indexes = s.steps.map((_, i) => i).filter((i) => Number.isFinite(s.values[i]!) && Number.isSafeInteger(s.steps[i]!) && s.steps[i]! >= 0);
      indexes.sort((a, b) => s.steps[a]! - s.steps[b]! || a - b);
      for (const i of indexes) {
        if (seen.has(s.steps[i]!)) continue;
        seen.add(s.steps[i]!);
        order.push(i);
      }
      skipped += s.steps.length - order.length;
    }
    const count = order ? order.length : s.steps.length;
    const at = order ? (j: number) => order![j]! : (j: number) => j;
    let j = 0;
    while (j < count) {
      const block = Math.floor(s.steps[at(j)]! / METRIC_BUCKET_SIZE);
      const batch: BucketBatch = { id: metricBucketId(experimentId, s.key, block), key: s.key, block, steps: [], values: [], times: [] };
      for (; j < count; j++) {
        const i = at(j);
        if (Math.floor(s.steps[i]! / METRIC_BUCKET_SIZE) !== block) break;
        batch.steps.push(s.steps[i]!);
        batch.values.push(s.values[i]!);
        batch.times.push(s.times?.[i] ?? now);
      }
      batches.push(batch);
    }
  }
  return { batches, skipped };
}

function stats(values: readonly number[]): { min: number; max: number; sum: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, sum };
}

export class MetricsRepository {
  readonly buckets: Collection<MetricBucketDoc>;
  /** Per-100-bucket summaries that long curves are read from (see metric-rollups.ts). */
  readonly rollups: MetricRollups;

  constructor(db: Db) {
    this.buckets = db.collection<MetricBucketDoc>(COLLECTIONS.metrics);
    this.rollups = new MetricRollups(db);
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([
      this.buckets.createIndex({ experimentId: 1, key: 1, block: 1 }, { name: 'experiment_key_block' }),
      this.rollups.ensureIndexes(),
    ]);
  }

  /**
   * Appends points (any keys, any order) to their buckets. A point whose step is already
   * stored for its key is skipped, whatever its value: the first write of a step wins.
   * The common case (steps beyond the bucket's last step) is one upsert per bucket; a
   * batch overlapping stored steps is merged into the bucket under optimistic concurrency.
   */
  async appendMetrics(experimentId: ObjectId, points: readonly MetricPointInput[]): Promise<AppendMetricsResult> {
    return this.appendMetricSeries(experimentId, seriesFromPoints(points));
  }

  /** appendMetrics for points already in columns per key (the ingest's batches). */
  async appendMetricSeries(experimentId: ObjectId, series: readonly MetricSeriesInput[]): Promise<AppendMetricsResult> {
    const { batches, skipped } = groupIntoBuckets(experimentId, series);
    if (batches.length === 0) return { written: 0, skipped };
    const ops: AnyBulkWriteOperation<MetricBucketDoc>[] = batches.map((b) => appendOperation(experimentId, b));
    const conflicting = new Set<number>();
    let inserted = new Set<number>();
    try {
      const res = await this.buckets.bulkWrite(ops, { ordered: false });
      inserted = new Set(Object.keys(res.upsertedIds).map(Number));
    } catch (err) {
      const writeErrors = duplicateKeyWriteErrors(err);
      if (!writeErrors) throw err;
      for (const index of writeErrors) conflicting.add(index);
      const partial = (err as { result?: { upsertedIds?: Record<string, unknown> } }).result?.upsertedIds;
      if (partial) inserted = new Set(Object.keys(partial).map(Number));
    }
    let written = 0;
    let replayed = 0;
    // The rollups get each touched bucket's absolute state: known for fresh buckets (the
    // batch itself) and merges (the merged document), read back for appends to stored buckets.
    const states: BucketState[] = [];
    const appendedIds: string[] = [];
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      if (!conflicting.has(i)) {
        written += batch.steps.length;
        if (inserted.has(i)) states.push({ key: batch.key, block: batch.block, count: batch.steps.length, lastStep: batch.steps.at(-1)!, ...stats(batch.values) });
        else appendedIds.push(batch.id);
        continue;
      }
      const merge = await this.mergeIntoBucket(experimentId, batch);
      written += merge.added;
      replayed += batch.steps.length - merge.added;
      states.push(merge.state);
    }
    if (appendedIds.length > 0) {
      const docs = await this.buckets
        .find({ _id: { $in: appendedIds } }, { projection: { _id: 0, key: 1, block: 1, count: 1, sum: 1, min: 1, max: 1, lastStep: 1 } })
        .toArray();
      states.push(...(docs as BucketState[]));
    }
    await this.rollups.record(experimentId, states);
    return { written, skipped: skipped + replayed };
  }

  /** Adds the batch's steps that the bucket lacks; returns how many were added and the bucket's state after. */
  private async mergeIntoBucket(experimentId: ObjectId, batch: BucketBatch): Promise<{ added: number; state: BucketState }> {
    for (;;) {
      const doc = await this.buckets.findOne({ _id: batch.id });
      if (!doc) {
        // The bucket vanished between the failed upsert and this read (deleted run); retry as a fresh append.
        try {
          await this.buckets.bulkWrite([appendOperation(experimentId, batch)], { ordered: false });
          return { added: batch.steps.length, state: { key: batch.key, block: batch.block, count: batch.steps.length, lastStep: batch.steps.at(-1)!, ...stats(batch.values) } };
        } catch (err) {
          if (!duplicateKeyWriteErrors(err)) throw err;
          continue;
        }
      }
      const known = new Set(doc.steps);
      const merged = doc.steps.map((step, i) => ({ step, value: doc.values[i]!, time: doc.times[i]! }));
      let added = 0;
      for (let i = 0; i < batch.steps.length; i++) {
        if (known.has(batch.steps[i]!)) continue;
        merged.push({ step: batch.steps[i]!, value: batch.values[i]!, time: batch.times[i]! });
        added++;
      }
      // Nothing new (a replay): still hand back the state, which repairs a rollup entry that a
      // crash between the bucket write and the rollup write left behind.
      if (added === 0) return { added: 0, state: { key: batch.key, block: batch.block, count: doc.count, sum: doc.sum, min: doc.min, max: doc.max, lastStep: doc.lastStep } };
      merged.sort((a, b) => a.step - b.step);
      const values = merged.map((p) => p.value);
      const { min, max, sum } = stats(values);
      const result = await this.buckets.updateOne(
        { _id: batch.id, count: doc.count },
        {
          $set: {
            steps: merged.map((p) => p.step),
            values,
            times: merged.map((p) => p.time),
            count: merged.length,
            min,
            max,
            sum,
            firstStep: merged[0]!.step,
            lastStep: merged[merged.length - 1]!.step,
            first: values[0]!,
            last: values[values.length - 1]!,
          },
        },
      );
      if (result.matchedCount === 1) return { added, state: { key: batch.key, block: batch.block, count: merged.length, sum, min, max, lastStep: merged[merged.length - 1]!.step } };
      // Another writer changed the bucket meanwhile: read it again and redo the merge.
    }
  }

  /** Every stored point of one key, in step order (tests, exports; not for long runs in the API). */
  async readSeries(experimentId: ObjectId, key: string): Promise<RawMetricPoint[]> {
    const docs = await this.buckets.find({ experimentId, key }).sort({ block: 1 }).toArray();
    const out: RawMetricPoint[] = [];
    for (const d of docs) for (let i = 0; i < d.steps.length; i++) out.push({ step: d.steps[i]!, value: d.values[i]!, time: d.times[i]! });
    return out;
  }

  /** The metric keys a run has stored. */
  async keys(experimentId: ObjectId): Promise<string[]> {
    const keys = await this.buckets.distinct('key', { experimentId });
    return (keys as string[]).sort();
  }

  /**
   * At most `points` points of the curve of `key`, each one covering a contiguous range of
   * steps: `step` is the range's last step, `value` its mean, `min`/`max` its extremes.
   * Short curves (at most RAW_POINTS_PER_REQUESTED_POINT stored steps per requested point)
   * are cut from the raw points; longer ones from the bucket summaries kept in the rollups,
   * 100 buckets per document, so a 1,000,000-step run is read as 10 small documents.
   */
  async readCurve(experimentId: ObjectId, key: string, points: number): Promise<CurvePoint[]> {
    requireCurvePoints(points);
    const filter = { experimentId, key };
    const ends = { block: 1, count: 1, firstStep: 1, lastStep: 1 };
    const [firstBucket, lastBucket] = await Promise.all([
      this.buckets.findOne(filter, { sort: { block: 1 }, projection: ends }),
      this.buckets.findOne(filter, { sort: { block: -1 }, projection: ends }),
    ]);
    if (!firstBucket || !lastBucket) return [];
    if (readsRawPoints(firstBucket, lastBucket, points)) {
      const docs = await this.buckets
        .find(filter, { projection: { steps: 1, values: 1 } })
        .sort({ block: 1 })
        .toArray();
      return downsampleRawPoints(docs, points);
    }
    const summaries = (await this.rollups.bucketSummaries(experimentId, key, firstBucket, lastBucket)) ?? (await this.bucketDocumentSummaries(experimentId, key));
    return downsampleBucketSummaries(summaries, points);
  }

  /** The summaries straight from the bucket documents: one document per bucket (buckets written before the rollups). */
  private async bucketDocumentSummaries(experimentId: ObjectId, key: string): Promise<Pick<MetricBucketDoc, 'count' | 'min' | 'max' | 'sum' | 'lastStep'>[]> {
    return this.buckets
      .find({ experimentId, key }, { projection: { _id: 0, count: 1, min: 1, max: 1, sum: 1, lastStep: 1 }, batchSize: SUMMARY_BATCH_SIZE })
      .sort({ block: 1 })
      .toArray();
  }

  async deleteForExperiment(experimentId: ObjectId): Promise<number> {
    const [res] = await Promise.all([this.buckets.deleteMany({ experimentId }), this.rollups.deleteForExperiment(experimentId)]);
    return res.deletedCount;
  }
}

function appendOperation(experimentId: ObjectId, b: BucketBatch): AnyBulkWriteOperation<MetricBucketDoc> {
  const { min, max, sum } = stats(b.values);
  return {
    updateOne: {
      // Matches only when every new step lies beyond the stored ones; otherwise the upsert
      // collides on _id (duplicate key) and the batch is merged instead.
      filter: { _id: b.id, lastStep: { $lt: b.steps[0]! } },
      update: {
        $setOnInsert: { experimentId, key: b.key, block: b.block, firstStep: b.steps[0]!, first: b.values[0]! },
        $push: { steps: { $each: b.steps }, values: { $each: b.values }, times: { $each: b.times } },
        $inc: { count: b.steps.length, sum },
        $min: { min },
        $max: { max, lastStep: b.steps[b.steps.length - 1]! },
        $set: { last: b.values[b.values.length - 1]! },
      },
      upsert: true,
    },
  } as AnyBulkWriteOperation<MetricBucketDoc>;
}

/** The indexes of the operations that failed on a duplicate key, or null if any other error occurred. */
function duplicateKeyWriteErrors(err: unknown): number[] | null {
  const e = err as { code?: number; writeErrors?: unknown; result?: unknown };
  const raw = e.writeErrors;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  if (list.length === 0) return null;
  const indexes: number[] = [];
  for (const we of list as { code?: number; index?: number; err?: { code?: number; index?: number } }[]) {
    const code = we.code ?? we.err?.code;
    const index = we.index ?? we.err?.index;
    if (code !== DUPLICATE_KEY || index === undefined) return null;
    indexes.push(index);
  }
  return indexes;
}
