// Retention: setExperimentRetention sets expiresAt; the TTL index removes the expired
// experiment (engine sweeping every 100 ms here); the retention sweeper removes its metric,
// checkpoint and artifact records (and its files, when asked), leaving other runs alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ObjectId, type Db } from 'mongodb';
import { COLLECTIONS, type ExperimentDoc } from '../../src/store/documents.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { AnalyticsRepository } from '../../src/store/analytics/analytics-repository.ts';
import { startRetentionSweeper, sweepExpiredExperiments } from '../../src/store/analytics/retention-sweeper.ts';
import { ALL_PROJECTS, projectsScope } from '../../src/store/scope.ts';
import { NotFoundError, InvalidInputError } from '../../src/store/errors.ts';
import { openTestDatabase, type TestDatabase } from './embedded-database.ts';

let database: TestDatabase;
let db: Db;
let workspace: string;

before(async () => {
  database = await openTestDatabase({ ttlSweepIntervalMs: 100 });
  db = database.db;
  workspace = await mkdtemp(path.join(os.tmpdir(), 'lora-retention-'));
});
after(async () => {
  await database.close();
  await rm(workspace, { recursive: true, force: true });
});

/** An experiment with 3 metric buckets, 2 checkpoints and 2 artifacts (one file on disk). */
async function insertRun(name: string, expiresAt: Date | null): Promise<{ id: ObjectId; artifactFile: string }> {
  const id = new ObjectId();
  const now = new Date();
  const doc: ExperimentDoc = {
    _id: id, name, project: 'p', tags: [], status: 'COMPLETED', config: {}, configHash: 'h',
    createdAt: now, updatedAt: now, ...(expiresAt ? { expiresAt } : {}),
  };
  await db.collection<ExperimentDoc>(COLLECTIONS.experiments).insertOne(doc);
  await new MetricsRepository(db).appendMetrics(id, [
    { key: 'loss', step: 1, value: 2 }, { key: 'loss', step: 1500, value: 1 }, { key: 'eval_loss', step: 10, value: 2 },
  ]);
  const artifactFile = path.join(workspace, `${name}.safetensors`);
  await writeFile(artifactFile, 'weights');
  await db.collection(COLLECTIONS.checkpoints).insertMany([1, 2].map((step) => ({
    _id: new ObjectId(), experimentId: id, project: 'p', step, dir: path.join(workspace, `${name}-ckpt-${step}`), files: [], createdAt: now,
  })));
  await db.collection(COLLECTIONS.artifacts).insertMany([
    { _id: new ObjectId(), experimentId: id, project: 'p', sha256: `${name}1`, kind: 'ADAPTER', format: 'safetensors', path: artifactFile, bytes: 7, createdAt: now },
    { _id: new ObjectId(), experimentId: id, project: 'p', sha256: `${name}2`, kind: 'LOG', format: 'txt', path: '/etc/hostname', bytes: 1, createdAt: now },
  ]);
  return { id, artifactFile };
}

async function recordCounts(id: ObjectId): Promise<number[]> {
  return Promise.all([
    db.collection(COLLECTIONS.experiments).countDocuments({ _id: id }),
    db.collection(COLLECTIONS.metrics).countDocuments({ experimentId: id }),
    db.collection(COLLECTIONS.checkpoints).countDocuments({ experimentId: id }),
    db.collection(COLLECTIONS.artifacts).countDocuments({ experimentId: id }),
    db.collection(COLLECTIONS.metricRollups).countDocuments({ experimentId: id }),
  ]);
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('setExperimentRetention sets and clears expiresAt, inside the caller scope only', async () => {
  const { id } = await insertRun('kept', null);
  const analytics = new AnalyticsRepository(db);
  // A `now` a year ahead, so the engine's 100 ms TTL sweep cannot remove the run mid-test.
  const now = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 2, 1));
  const updated = await analytics.setRetention(ALL_PROJECTS, id, 30, now);
  assert.equal(updated.expiresAt!.toISOString(), new Date(Date.UTC(now.getUTCFullYear(), 2, 31)).toISOString());
  const cleared = await analytics.setRetention(ALL_PROJECTS, id, null, now);
  assert.equal(cleared.expiresAt, undefined);
  assert.equal((await db.collection(COLLECTIONS.experiments).findOne({ _id: id }))!.expiresAt, undefined);
  await assert.rejects(analytics.setRetention(projectsScope(['other']), id, 1), NotFoundError);
  await assert.rejects(analytics.setRetention(ALL_PROJECTS, id, -1), InvalidInputError);
});

test('the TTL index removes an expired experiment; the sweeper then removes its orphaned records only', async () => {
  const expired = await insertRun('expired', new Date(Date.now() - 1000));
  const keep = await insertRun('keep', null);
  const later = await insertRun('later', new Date(Date.now() + 1000 * 3_600_000));

  // The engine sweeps TTL indexes every 100 ms here; real MongoDB's monitor runs every 60 s.
  const ttlWaitMs = database.external ? 150_000 : 10_000;
  await waitFor(async () => (await recordCounts(expired.id))[0] === 0, 'the TTL monitor to delete the expired experiment', ttlWaitMs);
  // TTL deletes the experiment document only: its records are still there.
  assert.deepEqual(await recordCounts(expired.id), [0, 3, 2, 2, 2]);

  const report = await sweepExpiredExperiments(db);
  assert.deepEqual([report.experiments, report.metricBuckets, report.checkpoints, report.artifacts], [0, 3, 2, 2]);
  assert.deepEqual(await recordCounts(expired.id), [0, 0, 0, 0, 0]);
  assert.deepEqual(await recordCounts(keep.id), [1, 3, 2, 2, 2]);
  assert.deepEqual(await recordCounts(later.id), [1, 3, 2, 2, 2]);
});

test('an experiment past expiresAt that TTL has not reached yet goes with its records and, when asked, its files inside the workspace', async () => {
  const soon = await insertRun('soon', new Date(Date.now() + 10 * 3_600_000));
  const other = await insertRun('other', new Date(Date.now() + 20 * 3_600_000));
  await mkdir(path.join(workspace, 'soon-ckpt-1'));
  const report = await sweepExpiredExperiments(db, { now: new Date(Date.now() + 15 * 3_600_000), deleteFilesUnder: workspace });
  assert.equal(report.experiments, 1);
  assert.deepEqual(await recordCounts(soon.id), [0, 0, 0, 0, 0]);
  assert.deepEqual(await recordCounts(other.id), [1, 3, 2, 2, 2]);
  await assert.rejects(stat(soon.artifactFile), { code: 'ENOENT' });
  await assert.rejects(stat(path.join(workspace, 'soon-ckpt-1')), { code: 'ENOENT' });
  await stat(other.artifactFile);
  await stat('/etc/hostname'); // listed as an artifact path, but outside the workspace: untouched
  assert.ok(report.deletedFiles.some((f) => f.endsWith('soon.safetensors')));
});

test('the running sweeper cascades a retention set through the API path end to end', async () => {
  const run = await insertRun('short', null);
  const sweeper = startRetentionSweeper(db, { intervalMs: 50 });
  try {
    await new AnalyticsRepository(db).setRetention(ALL_PROJECTS, run.id, 1 / 86_400 / 10); // 0.1 s
    await waitFor(async () => (await recordCounts(run.id)).every((n) => n === 0), 'the run and its records to be removed');
  } finally {
    await sweeper.stop();
  }
});
