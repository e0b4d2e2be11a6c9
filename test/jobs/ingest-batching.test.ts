// The ingest publishes each step the moment it reads it and stores step points in batches,
// so the store lags the live view by up to a flush interval. These tests hold the promises at
// that boundary: a registry killed between publish and commit loses and duplicates nothing
// (the restart stores the rest from the event log), and buffered points are stored once due
// even when the log stops growing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectId } from 'mongodb';
import { EventLogTail } from '../../src/jobs/event-log-tail.ts';
import { JobRunner } from '../../src/jobs/job-runner.ts';
import { InMemoryPubSub } from '../../src/jobs/pubsub.ts';
import { RunFollower } from '../../src/jobs/run-follower.ts';
import { RunIngest } from '../../src/jobs/run-ingest.ts';
import { runPaths } from '../../src/jobs/run-paths.ts';
import { RunRecords } from '../../src/jobs/run-records.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { startTestDatabase, type TestDatabase } from './database-fixture.ts';

const FOLLOWER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'follow-event-log.ts');
const cleanups: (() => Promise<void> | void)[] = [];

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function database(): Promise<TestDatabase> {
  const db = await startTestDatabase();
  cleanups.push(() => db.close());
  return db;
}

const line = (event: Record<string, unknown>) => `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`;
const stepLines = (from: number, to: number) => {
  let out = '';
  for (let step = from; step <= to; step++) out += line({ type: 'step', step, loss: 2 / step, lr: 1e-3, gradNorm: 1, tokensPerSecond: 1000 });
  return out;
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function insertRunningExperiment(database: TestDatabase, id: ObjectId): Promise<void> {
  const now = new Date();
  await database.db.collection('experiments').insertOne({ _id: id, name: 'crash', project: 'jobs-test', tags: [], status: 'RUNNING', runner: 'builtin', createdAt: now, updatedAt: now, startedAt: now });
}

test('a registry killed (SIGKILL) between publishing steps and storing them: the restart stores every step exactly once', async () => {
  const h = await database();
  const runsDir = mkdtempSync(path.join(os.tmpdir(), 'lora-runs-'));
  cleanups.push(() => rmSync(runsDir, { recursive: true, force: true }));
  const id = new ObjectId();
  const paths = runPaths(runsDir, id.toHexString());
  mkdirSync(paths.jobDir, { recursive: true });
  await insertRunningExperiment(h, id);
  // Steps 1-10, then a checkpoint (which commits everything before it), then steps 11-30.
  const checkpoint = line({ type: 'checkpoint', step: 10, dir: path.join(paths.runDir, 'checkpoint-10'), files: [] });
  writeFileSync(paths.eventLog, line({ type: 'start', totalSteps: 40 }) + stepLines(1, 10) + checkpoint);
  const committedAtCheckpoint = statSync(paths.eventLog).size;
  appendFileSync(paths.eventLog, stepLines(11, 30));

  const child = spawn(process.execPath, ['--import', 'tsx', FOLLOWER, h.engine.uri, h.db.databaseName, id.toHexString(), paths.eventLog], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('published 30\n')) resolve();
    });
    void exited.then(() => reject(new Error(`the follower exited before publishing step 30: ${out}`)));
  });
  // The boundary under test: steps 11-30 are published, not stored, and the stored offset is the checkpoint's.
  const metrics = new MetricsRepository(h.db);
  assert.deepEqual((await metrics.readSeries(id, 'loss')).map((p) => p.step), range(1, 10));
  assert.equal((await h.db.collection('experiments').findOne({ _id: id }))?.eventLogOffset, committedAtCheckpoint);
  child.kill('SIGKILL');
  await exited;

  // Training went on while the registry was down.
  appendFileSync(paths.eventLog, stepLines(31, 40));
  const runner = new JobRunner({ db: h.db, pubsub: new InMemoryPubSub(), runsDir });
  cleanups.push(() => runner.dispose());
  await runner.start();

  const doc = await runner.records.find(id);
  assert.equal(doc?.status, 'INTERRUPTED');
  assert.equal(doc?.summary?.steps, 40);
  assert.equal(doc?.eventLogOffset, statSync(paths.eventLog).size);
  assert.deepEqual((await runner.metrics.readSeries(id, 'loss')).map((p) => p.step), range(1, 40));
  const buckets = await runner.metrics.buckets.find({ experimentId: id, key: 'loss' }).toArray();
  assert.deepEqual(buckets.map((b) => b.count), [40]);
});

/** A running experiment, an event log holding `contents`, and a follower of it (not started). */
async function followerOf(contents: string, { flushIntervalMs = 5000, pollMs = 200 } = {}) {
  const h = await database();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lora-follow-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const id = new ObjectId();
  await insertRunningExperiment(h, id);
  const eventLog = path.join(dir, 'events.jsonl');
  writeFileSync(eventLog, contents);
  const records = new RunRecords(h.db);
  const metrics = new MetricsRepository(h.db);
  const ingest = new RunIngest({ experimentId: id, project: 'jobs-test', records, metrics, pubsub: new InMemoryPubSub(), flushIntervalMs, status: () => 'RUNNING' });
  const follower = new RunFollower({ tail: new EventLogTail(eventLog, 0), ingest, committedOffset: 0, pollMs });
  return { id, eventLog, records, metrics, follower };
}

test('buffered points are stored once due although the log stops growing (the tail polls)', async () => {
  const { id, eventLog, records, metrics, follower } = await followerOf('', { flushIntervalMs: 50, pollMs: 20 });
  const following = follower.run();
  cleanups.push(async () => {
    follower.abort();
    await following;
  });
  // One write, then silence: no change notification follows, only the tail's poll wakes the follower.
  appendFileSync(eventLog, stepLines(1, 5));
  const size = statSync(eventLog).size;
  while (follower.offset < size) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual((await metrics.readSeries(id, 'loss')).map((p) => p.step), range(1, 5));
  assert.equal((await records.find(id))?.eventLogOffset, size);
});

test('a backlog of several read chunks is stored exactly once, lines across chunk boundaries included', async () => {
  const { id, eventLog, metrics, follower } = await followerOf(stepLines(1, 25_000));
  assert.ok(statSync(eventLog).size > 2.5 * (1 << 20), 'the log spans three 1 MiB chunks');
  follower.processHasExited();
  await follower.run();
  assert.equal(follower.offset, statSync(eventLog).size);
  assert.deepEqual((await metrics.readSeries(id, 'loss')).map((p) => p.step), range(1, 25_000));
});
