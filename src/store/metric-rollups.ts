// Second summary level of metric curves: one rollup document per experiment, metric key and
// group of METRIC_ROLLUP_GROUP_SIZE buckets, holding each bucket's summary (count, sum, min,
// max, last step). A long curve is then read from a handful of small documents (a
// 1,000,000-step run: 10 rollups) instead of one document per 1,000-step bucket.
//
// Entries are written from a bucket's absolute state, never as increments, and only over an
// entry with a smaller count: a bucket only grows, so its count orders its states. Replays,
// concurrent writers and a crash between the bucket write and the rollup write (repaired by
// the replay, whose merge path re-syncs the entry) therefore never leave a wrong entry.
import type { AnyBulkWriteOperation, Collection, Db, ObjectId } from 'mongodb';
import { COLLECTIONS } from './documents.ts';

export const METRIC_ROLLUP_COLLECTION = COLLECTIONS.metricRollups;
/** Buckets per rollup document: 100 buckets of 1,000 steps, so one rollup per 100,000 steps. */
export const METRIC_ROLLUP_GROUP_SIZE = 100;

/** One bucket's summary as the rollup keeps it (short names: a rollup holds 100 of them). */
export interface MetricRollupEntry {
  /** Points stored in the bucket. */
  n: number;
  /** Sum of their values. */
  s: number;
  lo: number;
  hi: number;
  /** Last stored step of the bucket. */
  last: number;
}

export interface MetricRollupDoc {
  _id: string;
  experimentId: ObjectId;
  key: string;
  /** floor(block / METRIC_ROLLUP_GROUP_SIZE). */
  group: number;
  /** Entry of bucket `block` under `b<block % METRIC_ROLLUP_GROUP_SIZE>`. */
  entries: Record<string, MetricRollupEntry>;
}

/** A bucket's current summary, as read back or known after a write. */
export interface BucketState {
  key: string;
  block: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  lastStep: number;
}

/** The summary fields downsampleBucketSummaries reads. */
export interface BucketSummary {
  count: number;
  sum: number;
  min: number;
  max: number;
  lastStep: number;
}

/** What the rollups are checked against: the first or last stored bucket of a curve. */
export interface BucketEnd {
  count: number;
  lastStep: number;
}

export function metricRollupId(experimentId: ObjectId, key: string, group: number): string {
  return `${experimentId.toHexString()}:${key}:${group}`;
}

function entryField(block: number): string {
  return `b${block % METRIC_ROLLUP_GROUP_SIZE}`;
}

export class MetricRollups {
  readonly rollups: Collection<MetricRollupDoc>;

  constructor(db: Db) {
    this.rollups = db.collection<MetricRollupDoc>(METRIC_ROLLUP_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await this.rollups.createIndex({ experimentId: 1, key: 1, group: 1 }, { name: 'experiment_key_group' });
  }

  /** Records the buckets' states; an entry already at that count (or beyond) is left alone. */
  async record(experimentId: ObjectId, states: readonly BucketState[]): Promise<void> {
    if (states.length === 0) return;
    const ops: AnyBulkWriteOperation<MetricRollupDoc>[] = [];
    const created = new Set<string>();
    for (const b of states) {
      const group = Math.floor(b.block / METRIC_ROLLUP_GROUP_SIZE);
      const id = metricRollupId(experimentId, b.key, group);
      if (!created.has(id)) {
        created.add(id);
        ops.push({ updateOne: { filter: { _id: id }, update: { $setOnInsert: { experimentId, key: b.key, group, entries: {} } }, upsert: true } });
      }
      const field = `entries.${entryField(b.block)}`;
      const entry: MetricRollupEntry = { n: b.count, s: b.sum, lo: b.min, hi: b.max, last: b.lastStep };
      ops.push({
        updateOne: {
          filter: { _id: id, $or: [{ [field]: { $exists: false } }, { [`${field}.n`]: { $lt: b.count } }] },
          update: { $set: { [field]: entry } },
        },
      } as AnyBulkWriteOperation<MetricRollupDoc>);
    }
    // Ordered: each rollup document exists before its entries are set.
    await this.rollups.bulkWrite(ops, { ordered: true });
  }

  /**
   * The bucket summaries of `key` in block order, from the rollups; null when they do not
   * match the stored buckets at both ends (data written before rollups existed), in which
   * case the caller reads the buckets themselves.
   */
  async bucketSummaries(experimentId: ObjectId, key: string, firstBucket: BucketEnd, lastBucket: BucketEnd): Promise<BucketSummary[] | null> {
    const docs = await this.rollups.find({ experimentId, key }, { projection: { _id: 0, group: 1, entries: 1 } }).sort({ group: 1 }).toArray();
    return summariesOfRollups(docs, firstBucket, lastBucket);
  }

  async deleteForExperiment(experimentId: ObjectId): Promise<number> {
    return (await this.rollups.deleteMany({ experimentId })).deletedCount;
  }
}

/**
 * The bucket summaries held by one curve's rollup documents (given in group order), or null
 * when they do not match the stored buckets at both ends.
 */
export function summariesOfRollups(docs: readonly Pick<MetricRollupDoc, 'entries'>[], firstBucket: BucketEnd, lastBucket: BucketEnd): BucketSummary[] | null {
  const out: BucketSummary[] = [];
  for (const doc of docs) {
    const entries = doc.entries ?? {};
    for (let offset = 0; offset < METRIC_ROLLUP_GROUP_SIZE; offset++) {
      const e = entries[`b${offset}`];
      if (e) out.push({ count: e.n, sum: e.s, min: e.lo, max: e.hi, lastStep: e.last });
    }
  }
  const first = out[0];
  const last = out.at(-1);
  if (!first || !last) return null;
  const matches = (s: BucketSummary, b: BucketEnd) => s.count === b.count && s.lastStep === b.lastStep;
  if (!matches(first, firstBucket) || !matches(last, lastBucket)) return null;
  return out;
}
