// The runner's queue (FIFO under MAX_CONCURRENT_RUNS), cancel (a queued run at once, a
// running one at its next step with a checkpoint), resume from the newest checkpoint into
// the same experiment, and kill -9 of a run followed by resume: the loss history ends up
// gapless and duplicate-free.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { COLLECTIONS, type CheckpointDoc } from '../../src/store/documents.ts';
import { InvalidInputError } from '../../src/store/errors.ts';
import { trainingProgressTopic, type TrainingProgressPayload } from '../../src/jobs/progress-events.ts';
import { startRunHarness, type RunHarness } from './run-harness.ts';

let h: RunHarness;

before(async () => {
  h = await startRunHarness({ maxConcurrentRuns: 1 });
});

after(async () => {
  await h?.close();
});

async function waitForStep(id: string, step: number): Promise<void> {
  const events = h.pubsub.subscribe<TrainingProgressPayload>(trainingProgressTopic(id));
  try {
    for await (const e of events) if (e.kind === 'STEP' && e.step! >= step) return;
  } finally {
    await events.return!();
  }
}

test('runs start in FIFO order, one at a time under maxConcurrentRuns 1; a queued run is cancelled at once', async () => {
  const a = await h.launch({ name: 'a', externalCommand: 'fixture-20' });
  const b = await h.launch({ name: 'b', externalCommand: 'fixture-20' });
  const c = await h.launch({ name: 'c', externalCommand: 'fixture-20' });
  assert.equal(h.runner.queuePosition(c._id.toHexString()), 2);
  const cancelled = await h.runner.cancel(c._id);
  assert.equal(cancelled.status, 'CANCELLED');
  assert.equal(cancelled.error?.type, 'CANCELLED');
  const [da, db] = [await h.waitForStatus(a._id, ['COMPLETED']), await h.waitForStatus(b._id, ['COMPLETED'])];
  const runningAt = (d: typeof da) => d.statusHistory!.find((s) => s.status === 'RUNNING')!.at;
  assert.ok(runningAt(db) >= da.endedAt!, 'b starts only after a ended');
  const dc = await h.runner.records.find(c._id);
  assert.deepEqual(dc!.statusHistory!.map((s) => s.status), ['QUEUED', 'CANCELLED']);
  await assert.rejects(() => h.runner.cancel(a._id), (e: unknown) => e instanceof InvalidInputError && /is COMPLETED/.test(e.message));
});

test('cancel stops a running run at a step boundary with a checkpoint; resume completes it in the same experiment', async () => {
  const run = await h.launch({ name: 'slow', externalCommand: 'fixture-slow' });
  const id = run._id.toHexString();
  await waitForStep(id, 12);
  await h.runner.cancel(run._id);
  const cancelled = await h.waitForStatus(run._id, ['CANCELLED', 'COMPLETED', 'FAILED']);
  assert.equal(cancelled.status, 'CANCELLED');
  assert.equal(cancelled.error?.type, 'CANCELLED');
  const checkpoints = await h.database.db.collection<CheckpointDoc>(COLLECTIONS.checkpoints).find({ experimentId: run._id }).sort({ step: 1 }).toArray();
  const stoppedAt = cancelled.summary!.steps!;
  assert.ok(stoppedAt < 60);
  assert.equal(checkpoints.at(-1)!.step, stoppedAt, 'a checkpoint at the step where it stopped');

  const resumed = await h.runner.resume(run._id);
  assert.equal(resumed.status, 'QUEUED');
  const done = await h.waitForStatus(run._id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED');
  assert.equal(done.resumedFromStep, stoppedAt);
  const steps = (await h.runner.metrics.readSeries(run._id, 'loss')).map((p) => p.step);
  assert.deepEqual(steps, Array.from({ length: 60 }, (_, i) => i + 1));
  assert.deepEqual(done.statusHistory!.map((s) => s.status), ['QUEUED', 'RUNNING', 'CANCELLED', 'QUEUED', 'RUNNING', 'COMPLETED']);
  await assert.rejects(() => h.runner.resume(run._id), (e: unknown) => e instanceof InvalidInputError && /only INTERRUPTED, CANCELLED, FAILED runs can be resumed/.test(e.message));
});

test('kill -9 of a run: FAILED as CRASHED with the signal; resume replays steps past the checkpoint without duplicates', async () => {
  const run = await h.launch({ name: 'killed', externalCommand: 'fixture-slow' });
  const id = run._id.toHexString();
  await waitForStep(id, 25);
  const running = await h.runner.records.find(run._id);
  process.kill(running!.process!.pid, 'SIGKILL');
  const crashed = await h.waitForStatus(run._id, ['FAILED', 'COMPLETED']);
  assert.equal(crashed.status, 'FAILED');
  assert.equal(crashed.error?.type, 'CRASHED');
  assert.equal(crashed.error?.signal, 'SIGKILL');
  const before = (await h.runner.metrics.readSeries(run._id, 'loss')).map((p) => p.step);
  assert.deepEqual(before, Array.from({ length: before.length }, (_, i) => i + 1));
  assert.ok(before.length >= 25, 'steps past the last checkpoint were stored');

  await h.runner.resume(run._id);
  const done = await h.waitForStatus(run._id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED');
  assert.equal(done.resumedFromStep, Math.floor(before.at(-1)! / 10) * 10, 'resumed from the newest checkpoint');
  const series = await h.runner.metrics.readSeries(run._id, 'loss');
  assert.deepEqual(series.map((p) => p.step), Array.from({ length: 60 }, (_, i) => i + 1));
  assert.equal(done.summary?.steps, 60);
});
