// Curves of many runs read together, for readers of a whole page of experiments (the
// diagnosis loader): the same curves MetricsRepository.readCurve gives one run at a time,
// in a number of commands that does not grow with the page. One aggregate finds every
// curve's first and last bucket; then, per metric key, one find reads the raw points of
// the short curves, one the rollups of the long ones, and one the bucket summaries of the
// long curves whose rollups do not match their buckets (data written before rollups).
import type { ObjectId } from 'mongodb';
import { BATCH_READ_SIZE } from './batch-reads.ts';
import type { MetricBucketDoc } from './documents.ts';
import { summariesOfRollups, type BucketSummary, type MetricRollupDoc } from './metric-rollups.ts';
import { readsRawPoints, requireCurvePoints, SUMMARY_BATCH_SIZE, type BucketEnds, type MetricsRepository } from './metrics.ts';
import { downsampleBucketSummaries, downsampleRawPoints, type CurvePoint } from './metrics-downsampling.ts';

interface CurveEnds {
  _id: { experimentId: ObjectId; key: string };
  first: BucketEnds;
  last: BucketEnds;
}

/**
 * `curves[i][k]`: the curve of `keys[k]` of run `experimentIds[i]`, at most `points`
 * points, equal to `readCurve(experimentIds[i], keys[k], points)`; empty when not stored.
 */
export async function readCurvesOfRuns(
  metrics: MetricsRepository,
  experimentIds: readonly ObjectId[],
  keys: readonly string[],
  points: number,
): Promise<CurvePoint[][][]> {
  requireCurvePoints(points);
  const curves = experimentIds.map(() => keys.map((): CurvePoint[] => []));
  if (experimentIds.length === 0 || keys.length === 0) return curves;
  // Where each run's curves go (a run listed twice gets them twice).
  const positions = new Map<string, number[]>();
  experimentIds.forEach((id, i) => {
    const hex = id.toHexString();
    positions.set(hex, [...(positions.get(hex) ?? []), i]);
  });
  const ends = await metrics.buckets
    .aggregate<CurveEnds>([
      { $match: { experimentId: { $in: [...experimentIds] }, key: { $in: [...keys] } } },
      { $sort: { experimentId: 1, key: 1, block: 1 } },
      {
        $group: {
          _id: { experimentId: '$experimentId', key: '$key' },
          first: { $first: { block: '$block', count: '$count', firstStep: '$firstStep', lastStep: '$lastStep' } },
          last: { $last: { block: '$block', count: '$count', firstStep: '$firstStep', lastStep: '$lastStep' } },
        },
      },
    ], { batchSize: BATCH_READ_SIZE })
    .toArray();
  await Promise.all(keys.map(async (key, k) => {
    const raw: ObjectId[] = [];
    const long = new Map<string, CurveEnds>();
    for (const e of ends) {
      if (e._id.key !== key) continue;
      if (readsRawPoints(e.first, e.last, points)) raw.push(e._id.experimentId);
      else long.set(e._id.experimentId.toHexString(), e);
    }
    const place = (id: ObjectId, curve: CurvePoint[]) => {
      for (const i of positions.get(id.toHexString())!) curves[i]![k] = curve;
    };
    const [rawBuckets, summaries] = await Promise.all([readRawBuckets(metrics, raw, key), readLongSummaries(metrics, long, key)]);
    for (const [id, buckets] of rawBuckets) place(id, downsampleRawPoints(buckets, points));
    for (const [id, runSummaries] of summaries) place(id, downsampleBucketSummaries(runSummaries, points));
  }));
  return curves;
}

/** The raw buckets of each run's curve of `key`, in block order. */
async function readRawBuckets(metrics: MetricsRepository, ids: ObjectId[], key: string): Promise<[ObjectId, MetricBucketDoc[]][]> {
  if (ids.length === 0) return [];
  const docs = await metrics.buckets
    .find({ experimentId: { $in: ids }, key }, { projection: { experimentId: 1, block: 1, steps: 1, values: 1 }, batchSize: BATCH_READ_SIZE })
    .toArray();
  return byRunInOrder(docs, (d) => d.block);
}

/** The bucket summaries of each long curve of `key`: from its rollups, else from its buckets. */
async function readLongSummaries(metrics: MetricsRepository, long: Map<string, CurveEnds>, key: string): Promise<[ObjectId, BucketSummary[]][]> {
  if (long.size === 0) return [];
  const ids = [...long.values()].map((e) => e._id.experimentId);
  const rollups = await metrics.rollups.rollups
    .find({ experimentId: { $in: ids }, key }, { projection: { _id: 0, experimentId: 1, group: 1, entries: 1 }, batchSize: BATCH_READ_SIZE })
    .toArray();
  const out: [ObjectId, BucketSummary[]][] = [];
  const withoutRollups: ObjectId[] = [];
  const rollupsByRun = new Map(byRunInOrder(rollups as MetricRollupDoc[], (d) => d.group).map(([id, docs]) => [id.toHexString(), docs]));
  for (const [hex, e] of long) {
    const summaries = summariesOfRollups(rollupsByRun.get(hex) ?? [], e.first, e.last);
    if (summaries) out.push([e._id.experimentId, summaries]);
    else withoutRollups.push(e._id.experimentId);
  }
  if (withoutRollups.length > 0) {
    const buckets = await metrics.buckets
      .find(
        { experimentId: { $in: withoutRollups }, key },
        { projection: { _id: 0, experimentId: 1, block: 1, count: 1, min: 1, max: 1, sum: 1, lastStep: 1 }, batchSize: SUMMARY_BATCH_SIZE },
      )
      .toArray();
    out.push(...byRunInOrder(buckets, (d) => d.block));
  }
  return out;
}

/** Documents grouped by run, each group sorted by `orderOf` (block or rollup group). */
function byRunInOrder<T extends { experimentId: ObjectId }>(docs: T[], orderOf: (doc: T) => number): [ObjectId, T[]][] {
  const runs = new Map<string, [ObjectId, T[]]>();
  for (const doc of docs) {
    const hex = doc.experimentId.toHexString();
    let run = runs.get(hex);
    if (!run) runs.set(hex, (run = [doc.experimentId, []]));
    run[1].push(doc);
  }
  for (const [, runDocs] of runs.values()) runDocs.sort((a, b) => orderOf(a) - orderOf(b));
  return [...runs.values()];
}
