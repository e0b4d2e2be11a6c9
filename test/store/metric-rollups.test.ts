// Metric rollups (one document per 100 buckets): long curves read from them equal the
// curves computed from the raw points, and the rollup entries stay equal to the buckets'
// summaries through replays, merges of late points, concurrent appends and a lost rollup write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { METRIC_BUCKET_SIZE } from '../../src/store/documents.ts';
import { METRIC_ROLLUP_GROUP_SIZE, metricRollupId } from '../../src/store/metric-rollups.ts';
import type { MetricPointInput, MetricsRepository } from '../../src/store/metrics.ts';
import type { CurvePoint } from '../../src/store/metrics-downsampling.ts';
import { startMetricsDatabase, type TestDatabase } from '../jobs/database-fixture.ts';

let database: TestDatabase;
let metrics: MetricsRepository;

before(async () => {
  ({ database, metrics } = await startMetricsDatabase());
});

after(async () => {
  await database?.close();
});

/** A noisy falling curve with negative values too (sums are not monotone). */
const value = (step: number) => 3 / Math.sqrt(1 + step) + Math.sin(step * 1.7) - 0.5;
function pointsOf(from: number, to: number, key = 'loss'): MetricPointInput[] {
  const out: MetricPointInput[] = [];
  for (let s = from; s <= to; s++) out.push({ key, step: s, value: value(s) });
  return out;
}

async function appendInBatches(id: ObjectId, points: MetricPointInput[], batch: number): Promise<void> {
  for (let i = 0; i < points.length; i += batch) await metrics.appendMetrics(id, points.slice(i, i + batch));
}

/**
 * The expected long curve, from the raw points alone: the stored buckets (blocks of
 * METRIC_BUCKET_SIZE steps) are split into `points` near-equal runs of whole buckets; each
 * output point is the mean, min and max of the raw values in its run.
 */
function expectedCurve(raw: readonly { step: number; value: number }[], points: number): CurvePoint[] {
  const byBlock = new Map<number, { step: number; value: number }[]>();
  for (const p of [...raw].sort((a, b) => a.step - b.step)) {
    const block = Math.floor(p.step / METRIC_BUCKET_SIZE);
    if (!byBlock.has(block)) byBlock.set(block, []);
    byBlock.get(block)!.push(p);
  }
  const buckets = [...byBlock.values()];
  const slots = Math.min(points, buckets.length);
  const out: CurvePoint[] = [];
  let start = 0;
  for (let slot = 0; slot < slots; slot++) {
    const end = Math.floor(((slot + 1) * buckets.length) / slots);
    const range = buckets.slice(start, end).flat();
    start = end;
    if (range.length === 0) continue;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const p of range) {
      sum += p.value;
      min = Math.min(min, p.value);
      max = Math.max(max, p.value);
    }
    out.push({ step: range.at(-1)!.step, value: sum / range.length, min, max, count: range.length });
  }
  return out;
}

function assertCurvesEqual(actual: CurvePoint[], expected: CurvePoint[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.deepEqual([a.step, a.count, a.min, a.max], [e.step, e.count, e.min, e.max], `point ${i}`);
    assert.ok(Math.abs(a.value - e.value) < 1e-9, `point ${i}: mean ${a.value} vs ${e.value}`);
  }
}

/** Every rollup entry equals its bucket's stored summary, and every bucket has one. */
async function assertRollupsMatchBuckets(id: ObjectId, key = 'loss'): Promise<void> {
  const buckets = await metrics.buckets.find({ experimentId: id, key }).sort({ block: 1 }).toArray();
  const rollups = await metrics.rollups.rollups.find({ experimentId: id, key }).toArray();
  const entries = new Map<number, unknown>();
  for (const r of rollups) for (const [field, e] of Object.entries(r.entries)) entries.set(r.group * METRIC_ROLLUP_GROUP_SIZE + Number(field.slice(1)), e);
  assert.equal(entries.size, buckets.length, 'one rollup entry per bucket');
  for (const b of buckets) {
    assert.deepEqual(entries.get(b.block), { n: b.count, s: b.sum, lo: b.min, hi: b.max, last: b.lastStep }, `block ${b.block}`);
  }
}

test('a long curve read from the rollups equals the curve computed from the raw points', async () => {
  const id = new ObjectId();
  // 250 buckets (3 rollup documents), not starting at step 0, the last bucket partial.
  const raw = pointsOf(700, 250_321);
  raw[98_765 - 700] = { key: 'loss', step: 98_765, value: 40 }; // a spike must survive in max
  await appendInBatches(id, raw, 20_000);
  assert.equal(await metrics.rollups.rollups.countDocuments({ experimentId: id }), 3);
  await assertRollupsMatchBuckets(id);
  for (const points of [1, 7, 100, 249, 250, 600]) {
    assertCurvesEqual(await metrics.readCurve(id, 'loss', points), expectedCurve(raw, points));
  }
  const curve = await metrics.readCurve(id, 'loss', 100);
  assert.equal(Math.max(...curve.map((p) => p.max)), 40);
  assert.equal(curve.at(-1)!.step, 250_321);
});

test('the long curve is read from the rollups, and from the buckets when rollups are missing', async () => {
  const id = new ObjectId();
  const raw = pointsOf(0, 120_999);
  await appendInBatches(id, raw, 50_000);
  const expected = expectedCurve(raw, 50);
  assertCurvesEqual(await metrics.readCurve(id, 'loss', 50), expected);
  // A marker planted in a middle entry shows up in the curve: the rollup is what was read.
  await metrics.rollups.rollups.updateOne({ _id: metricRollupId(id, 'loss', 0) }, { $set: { 'entries.b50.hi': 1234 } });
  assert.equal(Math.max(...(await metrics.readCurve(id, 'loss', 50)).map((p) => p.max)), 1234);
  // Without rollups (data stored before they existed) the buckets' own summaries are used.
  await metrics.rollups.rollups.deleteMany({ experimentId: id });
  assertCurvesEqual(await metrics.readCurve(id, 'loss', 50), expected);
});

test('small appends, replays and late points keep every rollup entry equal to its bucket', async () => {
  const id = new ObjectId();
  const raw = pointsOf(0, 30_999).filter((p) => p.step % 7 !== 3);
  const late = pointsOf(0, 30_999).filter((p) => p.step % 7 === 3);
  // Appends to stored buckets, a few hundred points at a time (the ingest's pattern).
  await appendInBatches(id, raw, 333);
  await assertRollupsMatchBuckets(id);
  // A replay writes nothing and changes no entry.
  let written = 0;
  for (let i = 0; i < raw.length; i += 5000) written += (await metrics.appendMetrics(id, raw.slice(i, i + 5000))).written;
  assert.equal(written, 0);
  await assertRollupsMatchBuckets(id);
  // Late points merged into the middle of stored buckets.
  await appendInBatches(id, late.reverse(), 1000);
  await assertRollupsMatchBuckets(id);
  const all = pointsOf(0, 30_999);
  assertCurvesEqual(await metrics.readCurve(id, 'loss', 10), expectedCurve(all, 10));
});

test('a rollup write lost after the bucket write is repaired by replaying the batch', async () => {
  const id = new ObjectId();
  const raw = pointsOf(0, 9_999);
  await metrics.appendMetrics(id, raw);
  // As if the process died between the bucket write and the rollup write.
  await metrics.rollups.rollups.updateOne({ _id: metricRollupId(id, 'loss', 0) }, { $unset: { 'entries.b4': '', 'entries.b9': '' } });
  const replay = await metrics.appendMetrics(id, raw);
  assert.deepEqual(replay, { written: 0, skipped: 10_000 });
  await assertRollupsMatchBuckets(id);
});

test('concurrent appends of overlapping batches leave the rollups equal to the buckets', async () => {
  const id = new ObjectId();
  await metrics.appendMetrics(id, pointsOf(0, 1_500));
  const batches = [pointsOf(1_200, 4_000), pointsOf(900, 3_100), pointsOf(2_500, 5_432)];
  await Promise.all(batches.map((b) => metrics.appendMetrics(id, b)));
  await assertRollupsMatchBuckets(id);
  assert.equal((await metrics.readSeries(id, 'loss')).length, 5_433);
  assert.equal(await metrics.deleteForExperiment(id), 6);
  assert.equal(await metrics.rollups.rollups.countDocuments({ experimentId: id }), 0);
});
