// Metric buckets: appends are idempotent by step (replays, overlapping batches, out-of-order
// points), bucket summaries stay exact, and curves are downsampled with mean/min/max.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { METRIC_BUCKET_SIZE, type MetricBucketDoc } from '../../src/store/documents.ts';
import { metricBucketId, type MetricPointInput, type MetricsRepository } from '../../src/store/metrics.ts';
import { startMetricsDatabase, type TestDatabase } from './database-fixture.ts';

let database: TestDatabase;
let metrics: MetricsRepository;

before(async () => {
  ({ database, metrics } = await startMetricsDatabase());
});

after(async () => {
  await database?.close();
});

const loss = (step: number) => 3 / (1 + step / 100);
function lossPoints(from: number, to: number, key = 'loss'): MetricPointInput[] {
  const out: MetricPointInput[] = [];
  for (let s = from; s <= to; s++) out.push({ key, step: s, value: loss(s) });
  return out;
}

test('points land in buckets of METRIC_BUCKET_SIZE steps with exact summaries', async () => {
  const id = new ObjectId();
  const res = await metrics.appendMetrics(id, lossPoints(0, 2499));
  assert.deepEqual(res, { written: 2500, skipped: 0 });
  const buckets = await metrics.buckets.find({ experimentId: id }).sort({ block: 1 }).toArray();
  assert.deepEqual(buckets.map((b) => b._id), [0, 1, 2].map((b) => metricBucketId(id, 'loss', b)));
  const b1 = buckets[1] as MetricBucketDoc;
  assert.equal(b1.count, METRIC_BUCKET_SIZE);
  assert.equal(b1.firstStep, 1000);
  assert.equal(b1.lastStep, 1999);
  assert.equal(b1.max, loss(1000));
  assert.equal(b1.min, loss(1999));
  assert.equal(b1.last, loss(1999));
  assert.equal(b1.first, loss(1000));
  const expectedSum = lossPoints(1000, 1999).reduce((a, p) => a + p.value, 0);
  assert.ok(Math.abs(b1.sum - expectedSum) < 1e-9);
  assert.equal(buckets[2]!.count, 500);
});

test('replaying the same points, or an overlapping batch, stores every step exactly once', async () => {
  const id = new ObjectId();
  await metrics.appendMetrics(id, lossPoints(1, 30));
  const replay = await metrics.appendMetrics(id, lossPoints(1, 30));
  assert.deepEqual(replay, { written: 0, skipped: 30 });
  // A resumed run repeats steps 21..30 (with other values) and goes on to 45.
  const resumed = lossPoints(21, 45).map((p) => ({ ...p, value: p.step <= 30 ? 99 : p.value }));
  const res = await metrics.appendMetrics(id, resumed);
  assert.deepEqual(res, { written: 15, skipped: 10 });
  const series = await metrics.readSeries(id, 'loss');
  assert.deepEqual(series.map((p) => p.step), Array.from({ length: 45 }, (_, i) => i + 1));
  assert.ok(series.every((p) => p.value === loss(p.step)), 'the first write of a step wins');
  const [bucket] = await metrics.buckets.find({ experimentId: id }).toArray();
  assert.equal(bucket!.count, 45);
  assert.equal(bucket!.lastStep, 45);
  assert.equal(bucket!.max, loss(1));
});

test('out-of-order points from several keys, duplicates inside one batch, non-finite values', async () => {
  const id = new ObjectId();
  const points: MetricPointInput[] = [
    { key: 'loss', step: 5, value: 1.5 },
    { key: 'loss', step: 3, value: 1.7 },
    { key: 'lr', step: 3, value: 0.001 },
    { key: 'loss', step: 5, value: 9 },
    { key: 'loss', step: 4, value: Number.NaN },
  ];
  assert.deepEqual(await metrics.appendMetrics(id, points), { written: 3, skipped: 2 });
  // A late point before the stored ones is merged in step order.
  assert.deepEqual(await metrics.appendMetrics(id, [{ key: 'loss', step: 1, value: 2 }]), { written: 1, skipped: 0 });
  const series = await metrics.readSeries(id, 'loss');
  assert.deepEqual(series.map((p) => [p.step, p.value]), [[1, 2], [3, 1.7], [5, 1.5]]);
  assert.deepEqual(await metrics.keys(id), ['loss', 'lr']);
  const bucket = await metrics.buckets.findOne({ _id: metricBucketId(id, 'loss', 0) });
  assert.equal(bucket!.firstStep, 1);
  assert.equal(bucket!.min, 1.5);
  assert.equal(bucket!.max, 2);
  assert.equal(bucket!.count, 3);
});

test('concurrent appends of the same points store them once', async () => {
  const id = new ObjectId();
  await metrics.appendMetrics(id, lossPoints(0, 9));
  const batch = lossPoints(5, 40);
  const results = await Promise.all([metrics.appendMetrics(id, batch), metrics.appendMetrics(id, batch), metrics.appendMetrics(id, batch)]);
  assert.equal(results.reduce((a, r) => a + r.written, 0), 31);
  const steps = (await metrics.readSeries(id, 'loss')).map((p) => p.step);
  assert.deepEqual(steps, Array.from({ length: 41 }, (_, i) => i));
});

test('a short curve is cut from raw points: mean, min and max per range, last step of each range', async () => {
  const id = new ObjectId();
  await metrics.appendMetrics(id, lossPoints(1, 1000));
  const curve = await metrics.readCurve(id, 'loss', 100);
  assert.equal(curve.length, 100);
  assert.equal(curve[0]!.step, 10);
  assert.equal(curve.at(-1)!.step, 1000);
  assert.equal(curve[0]!.max, loss(1));
  assert.equal(curve[0]!.min, loss(10));
  const mean = lossPoints(1, 10).reduce((a, p) => a + p.value, 0) / 10;
  assert.ok(Math.abs(curve[0]!.value - mean) < 1e-12);
  assert.equal(curve.reduce((a, p) => a + p.count, 0), 1000);
  // Asking for more points than stored returns every point.
  const all = await metrics.readCurve(id, 'loss', 5000);
  assert.equal(all.length, 1000);
  assert.ok(all.every((p) => p.min === p.max && p.value === p.min));
});

test('a long curve is built from bucket summaries and still covers every step, spikes kept in max', async () => {
  const id = new ObjectId();
  const points = lossPoints(0, 199_999);
  points[123_456] = { key: 'loss', step: 123_456, value: 50 };
  for (let i = 0; i < points.length; i += 50_000) await metrics.appendMetrics(id, points.slice(i, i + 50_000));
  const curve = await metrics.readCurve(id, 'loss', 50);
  assert.equal(curve.length, 50);
  assert.equal(curve.reduce((a, p) => a + p.count, 0), 200_000);
  assert.equal(curve.at(-1)!.step, 199_999);
  assert.equal(Math.max(...curve.map((p) => p.max)), 50);
  assert.ok(curve[0]!.value > curve.at(-1)!.value, 'the curve falls');
  await assert.rejects(() => metrics.readCurve(id, 'loss', 0), /points: 0 is not allowed/);
  assert.deepEqual(await metrics.readCurve(new ObjectId(), 'loss', 10), []);
});
