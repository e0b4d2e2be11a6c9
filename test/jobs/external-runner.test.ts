// The job runner with the external-command runner and the protocol fixture: the run's
// events become metric buckets, checkpoints and artifacts (hashed by the server), status
// moves through QUEUED, RUNNING and an end status with timestamps, and failures are
// classified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COLLECTIONS, type ArtifactDoc, type CheckpointDoc } from '../../src/store/documents.ts';
import { InvalidInputError } from '../../src/store/errors.ts';
import { startRunHarness, type RunHarness } from './run-harness.ts';

let h: RunHarness;

before(async () => {
  h = await startRunHarness();
});

after(async () => {
  await h?.close();
});

const lossAt = (step: number) => 2 * Math.exp(-step / 20) + 0.1;

test('an allow-listed command runs to COMPLETED and every event is stored under the experiment id', async () => {
  const launched = await h.launch({ name: 'fixture', externalCommand: 'fixture-20' });
  assert.equal(launched.status, 'QUEUED');
  assert.equal(launched.runner, 'external');
  const id = launched._id.toHexString();
  assert.equal(launched.outputDir, path.join(h.runsDir, id), 'the experiment id names the output directory');
  const done = await h.waitForStatus(launched._id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  assert.deepEqual(done.statusHistory!.map((s) => s.status), ['QUEUED', 'RUNNING', 'COMPLETED']);
  assert.ok(done.statusHistory!.every((s, i, all) => i === 0 || s.at >= all[i - 1]!.at));
  assert.ok(done.startedAt && done.endedAt && done.endedAt >= done.startedAt);
  assert.equal(done.process, null);
  assert.equal(done.environment?.executionProvider, 'external');
  assert.equal(done.environment?.node, process.version);

  const loss = await h.runner.metrics.readSeries(launched._id, 'loss');
  assert.deepEqual(loss.map((p) => p.step), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.ok(loss.every((p) => p.value === lossAt(p.step)));
  assert.deepEqual(await h.runner.metrics.keys(launched._id), ['gradNorm', 'learningRate', 'loss', 'loss/aux', 'tokensPerSecond']);
  assert.equal(done.summary?.finalLoss, lossAt(20));
  assert.equal(done.summary?.minLoss, lossAt(20));
  assert.equal(done.summary?.bestStep, 20);
  assert.equal(done.summary?.steps, 20);
  assert.equal(done.summary?.tokensPerSecond, 1000);

  const checkpoints = await h.database.db.collection<CheckpointDoc>(COLLECTIONS.checkpoints).find({ experimentId: launched._id }).sort({ step: 1 }).toArray();
  assert.deepEqual(checkpoints.map((c) => c.step), [5, 10, 15, 20]);
  const file = checkpoints[0]!.files[0]!;
  assert.equal(file.sha256, createHash('sha256').update(readFileSync(file.path)).digest('hex'));
  assert.equal(file.bytes, readFileSync(file.path).length);
  const artifacts = await h.database.db.collection<ArtifactDoc>(COLLECTIONS.artifacts).find({ experimentId: launched._id }).toArray();
  assert.deepEqual(artifacts.map((a) => a.kind).sort(), ['ADAPTER', 'CHECKPOINT_ADAPTER', 'CHECKPOINT_ADAPTER', 'CHECKPOINT_ADAPTER', 'CHECKPOINT_ADAPTER']);
  const adapter = artifacts.find((a) => a.kind === 'ADAPTER')!;
  assert.equal(adapter.path, path.join(h.runsDir, id, 'final', 'adapter_model.safetensors'));
  assert.equal(adapter.format, 'safetensors');
  assert.ok(artifacts.every((a) => a.project === 'jobs-test' && a.experimentId.equals(launched._id)));
});

test('failures are classified: CUDA_OOM from the error message, CRASHED with the exit code, a missing program', async () => {
  const [oom, exit3, missing] = await Promise.all([
    h.launch({ name: 'oom', externalCommand: 'fixture-cuda-oom' }),
    h.launch({ name: 'exit3', externalCommand: 'fixture-exit-3' }),
    h.launch({ name: 'missing', externalCommand: 'missing-program' }),
  ]);
  const oomDone = await h.waitForStatus(oom._id, ['COMPLETED', 'FAILED']);
  assert.equal(oomDone.status, 'FAILED');
  assert.equal(oomDone.error?.type, 'CUDA_OOM');
  assert.match(oomDone.error!.message, /CUDA out of memory/);
  assert.equal(oomDone.summary?.steps, 6, 'the steps before the failure are kept');

  const exitDone = await h.waitForStatus(exit3._id, ['COMPLETED', 'FAILED']);
  assert.equal(exitDone.status, 'FAILED');
  assert.equal(exitDone.error?.type, 'CRASHED');
  assert.equal(exitDone.error?.exitCode, 3);
  assert.match(exitDone.error!.message, /exited with code 3.*exiting with code 3 at step 4/s);

  const missingDone = await h.waitForStatus(missing._id, ['COMPLETED', 'FAILED']);
  assert.equal(missingDone.status, 'FAILED');
  assert.equal(missingDone.error?.type, 'CRASHED');
  assert.match(missingDone.error!.message, /could not start.*ENOENT/);
});

test('a command that exits 0 without a done event still completes; names outside the allow-list are refused', async () => {
  const run = await h.launch({ name: 'no-done', externalCommand: 'fixture-no-done' });
  const done = await h.waitForStatus(run._id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED');
  await assert.rejects(
    () => h.launch({ name: 'shell', externalCommand: 'rm -rf /' }),
    (err: unknown) => err instanceof InvalidInputError && err.field.join('.') === 'input.externalCommand' && /not an allow-listed external command; allowed: fixture-20/.test(err.message),
  );
});
