// compareExperiments and Experiment.diagnosis over curves stored as metric buckets
// (through MetricsRepository.appendMetrics, as ingest writes them).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { COLLECTIONS, type ExperimentDoc } from '../../src/store/documents.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { AnalyticsRepository } from '../../src/store/analytics/analytics-repository.ts';
import { ALL_PROJECTS, projectsScope } from '../../src/store/scope.ts';
import { InvalidInputError, NotFoundError } from '../../src/store/errors.ts';
import type { Curve } from '../../src/analytics/curve-statistics.ts';
import { openTestDatabase, type TestDatabase } from './embedded-database.ts';
import { curveOf, healthyEvalLoss, healthyTrainLoss, stepsEvery } from './synthetic-curves.ts';

let database: TestDatabase;
let analytics: AnalyticsRepository;

before(async () => {
  database = await openTestDatabase();
  analytics = new AnalyticsRepository(database.db);
});
after(async () => database.close());

async function insertRun(curves: Record<string, Curve>, extra: Partial<ExperimentDoc> = {}): Promise<ExperimentDoc> {
  const now = new Date();
  const doc: ExperimentDoc = {
    _id: new ObjectId(), name: 'run', project: 'p', tags: [], status: 'COMPLETED', config: {}, configHash: 'h',
    createdAt: now, updatedAt: now, ...extra,
  };
  await database.db.collection<ExperimentDoc>(COLLECTIONS.experiments).insertOne(doc);
  const points = Object.entries(curves).flatMap(([key, c]) => c.steps.map((step, i) => ({ key, step, value: c.values[i]! })));
  await new MetricsRepository(database.db).appendMetrics(doc._id, points);
  return doc;
}

test('compareExperiments puts runs of different lengths on one step axis, exact at shared samples', async () => {
  const short = await insertRun({ loss: curveOf(stepsEvery(10, 50, 0), (s) => 3 - s / 1000) }); // steps 0..490
  const long = await insertRun({ loss: curveOf(stepsEvery(10, 100, 0), (s) => 4 - s / 500) }); // steps 0..990
  const result = await analytics.compareExperiments(ALL_PROJECTS, [long._id, short._id], 'loss', 100);
  assert.equal(result.key, 'loss');
  assert.equal(result.steps[0], 0);
  assert.equal(result.steps.at(-1), 990);
  assert.ok(result.steps.length <= 100);
  assert.deepEqual(result.series.map((s) => s.experiment._id.toHexString()), [long._id.toHexString(), short._id.toHexString()]);
  for (const [j, step] of result.steps.entries()) {
    const longValue = result.series[0]!.values[j]!;
    assert.ok(Math.abs(longValue - (4 - step / 500)) < 1e-9, `long run at step ${step}: ${longValue}`);
    const shortValue = result.series[1]!.values[j];
    if (step > 490) assert.equal(shortValue, null, `short run has no data at step ${step}`);
    else assert.ok(Math.abs(shortValue! - (3 - step / 1000)) < 1e-9, `short run at step ${step}: ${shortValue}`);
  }
});

test('compareExperiments: a run outside the scope is NOT_FOUND; bad sizes are refused', async () => {
  const run = await insertRun({ loss: curveOf([1, 2], () => 1) });
  await assert.rejects(analytics.compareExperiments(projectsScope(['other']), [run._id], 'loss', 10), NotFoundError);
  await assert.rejects(analytics.compareExperiments(ALL_PROJECTS, [], 'loss', 10), (e: unknown) => e instanceof InvalidInputError && e.field[0] === 'ids');
  await assert.rejects(analytics.compareExperiments(ALL_PROJECTS, [run._id], 'loss', 1), /points must be an integer from 2 to 2000/);
  const unknownKey = await analytics.compareExperiments(ALL_PROJECTS, [run._id], 'accuracy', 10);
  assert.deepEqual([unknownKey.steps, unknownKey.series[0]!.values], [[], []]);
});

test('diagnosis of stored curves: a healthy run gets none, an overfitting run gets OVERFITTING with evidence', async () => {
  const healthy = await insertRun({ loss: healthyTrainLoss(11), eval_loss: healthyEvalLoss(12) });
  assert.deepEqual(await analytics.diagnose(healthy), []);

  const evalLoss = curveOf(stepsEvery(100, 20), (_, i) => (i <= 8 ? 2.4 - i * 0.2 : 0.8 + (i - 8) * 0.06));
  const overfit = await insertRun({ loss: healthyTrainLoss(13), eval_loss: evalLoss });
  const findings = await analytics.diagnose(overfit);
  assert.deepEqual(findings.map((f) => f.rule), ['OVERFITTING']);
  assert.deepEqual(findings[0]!.evidence.slice(0, 2).map((e) => [e.key, e.step]), [['eval_loss', 900], ['eval_loss', 2000]]);
});

test('diagnosis: a run that failed on a NaN loss (never stored as a point) gets NON_FINITE_LOSS; no curves, no finding', async () => {
  const nan = await insertRun(
    { loss: healthyTrainLoss(14, 40) },
    { status: 'FAILED', error: { type: 'NAN_LOSS', message: 'loss is NaN at step 410' } },
  );
  const findings = await analytics.diagnose(nan);
  assert.deepEqual(findings.map((f) => [f.rule, f.evidence[0]?.step]), [['NON_FINITE_LOSS', 400]]);
  const empty = await insertRun({});
  assert.deepEqual(await analytics.diagnose(empty), []);
});

test('diagnosis: a flat curve from a run whose labels were shuffled gets FLAT_NEAR_START', async () => {
  const flat = await insertRun({ loss: curveOf(stepsEvery(5, 300), (_, i) => 10.8 + 0.02 * Math.sin(i)) });
  assert.deepEqual((await analytics.diagnose(flat)).map((f) => f.rule), ['FLAT_NEAR_START']);
});
