// Curves read for a whole page at once (readCurvesOfRuns, behind the Experiment.diagnosis
// loader) equal the curves readCurve gives one run at a time, on every read path (raw
// points, rollups, bucket summaries of runs without rollups, no curve), and the batched
// diagnoses equal the ones made from those one-run reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { COLLECTIONS, type ExperimentDoc } from '../../src/store/documents.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { readCurvesOfRuns } from '../../src/store/metric-curve-batch.ts';
import { AnalyticsRepository, DIAGNOSIS_CURVE_POINTS } from '../../src/store/analytics/analytics-repository.ts';
import { diagnoseLossCurves, EVAL_LOSS_KEY, TRAIN_LOSS_KEY } from '../../src/analytics/loss-curve-diagnosis.ts';
import { openTestDatabase, type TestDatabase } from './embedded-database.ts';
import { healthyTrainLoss, mixedRunCurves } from './synthetic-curves.ts';

const RUNS = 24;
let database: TestDatabase;
let metrics: MetricsRepository;
let runs: ExperimentDoc[];
/** A long run whose rollups are removed, as if written before rollups existed. */
let withoutRollups: ExperimentDoc;

before(async () => {
  database = await openTestDatabase();
  metrics = new MetricsRepository(database.db);
  runs = [];
  for (let i = 0; i < RUNS; i++) {
    const now = new Date();
    const nan = i === 7;
    const doc: ExperimentDoc = {
      _id: new ObjectId(), name: `run-${i}`, project: 'p', tags: [], status: nan ? 'FAILED' : 'COMPLETED', config: {}, configHash: `h${i}`,
      createdAt: now, updatedAt: now, ...(nan ? { error: { type: 'NAN_LOSS', message: 'loss is NaN at step 410' } } : {}),
    };
    const curves = nan ? { loss: healthyTrainLoss(i, 40) } : mixedRunCurves(i);
    await database.db.collection<ExperimentDoc>(COLLECTIONS.experiments).insertOne(doc);
    const points = Object.entries(curves).flatMap(([key, c]) => c.steps.map((step, k) => ({ key, step, value: c.values[k]! })));
    if (points.length > 0) await metrics.appendMetrics(doc._id, points);
    runs.push(doc);
  }
  withoutRollups = runs[12]!; // a long run (12 % 8 === 4)
  await metrics.rollups.deleteForExperiment(withoutRollups._id);
});
after(async () => database.close());

test('curves of many runs read together equal the one-run reads, on every read path', async () => {
  const keys = [TRAIN_LOSS_KEY, EVAL_LOSS_KEY, 'accuracy'];
  // Shuffled, with a repeat and an unknown run.
  const ids = [...runs.map((r) => r._id).reverse(), runs[3]!._id, new ObjectId()];
  for (const points of [DIAGNOSIS_CURVE_POINTS, 7]) {
    const batched = await readCurvesOfRuns(metrics, ids, keys, points);
    assert.equal(batched.length, ids.length);
    for (const [i, id] of ids.entries()) {
      for (const [k, key] of keys.entries()) {
        assert.deepEqual(batched[i]![k], await metrics.readCurve(id, key, points), `run ${id.toHexString()} ${key} at ${points} points`);
      }
    }
  }
  // The long runs were read from summaries (fewer points than stored), the rest from raw points.
  const [longLoss] = (await readCurvesOfRuns(metrics, [withoutRollups._id, runs[4]!._id], [TRAIN_LOSS_KEY], DIAGNOSIS_CURVE_POINTS)).map(([c]) => c!);
  assert.equal(longLoss!.length, 61);
  assert.equal(longLoss!.at(-1)!.step, 60_000);
  await assert.rejects(readCurvesOfRuns(metrics, ids, keys, 0), /points: 0 is not allowed/);
});

test('batched diagnoses equal the diagnoses made from one-run curve reads', async () => {
  const unbatched = await Promise.all(runs.map(async (run) => {
    const read = async (key: string) => {
      const curve = await metrics.readCurve(run._id, key, DIAGNOSIS_CURVE_POINTS);
      return curve.length > 0 ? { steps: curve.map((p) => p.step), values: curve.map((p) => p.value) } : null;
    };
    return diagnoseLossCurves({
      loss: await read(TRAIN_LOSS_KEY),
      evalLoss: await read(EVAL_LOSS_KEY),
      nonFiniteReported: run.error?.type === 'NAN_LOSS' ? { message: run.error.message } : null,
    });
  }));
  const batched = await new AnalyticsRepository(database.db).diagnoseRuns(runs);
  assert.deepEqual(batched, unbatched);
  // Not a comparison of empty lists: every rule the mix is made for fired somewhere.
  const rules = new Set(batched.flat().map((f) => f.rule));
  assert.deepEqual([...rules].sort(), ['DIVERGENCE', 'FLAT_NEAR_START', 'NON_FINITE_LOSS', 'OSCILLATION_WITHOUT_TREND', 'OVERFITTING']);
  assert.ok(batched[12]!.some((f) => f.rule === 'OVERFITTING'), 'the long run without rollups is diagnosed from its bucket summaries');
});
