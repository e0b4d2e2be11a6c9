// Two API replicas over ONE database, sharing live events through Redis: a client subscribed
// on server B sees what a mutation on server A causes (logMetrics steps and the final status
// on trainingProgress; the finished experiment on experimentUpdated), over real ports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded/index.ts';
import { gqlData, startTestServer, type TestServer } from '../server/harness.ts';
import { adminClient, TEST_REDIS_URL, uniquePrefix } from '../jobs/redis-fixture.ts';
import { LAUNCH, TRAINING_PROGRESS, wsClient, type ProgressEvent } from './training-client.ts';

const prefix = uniquePrefix('replicas');
let dir: string;
let engine: EmbeddedMongo | null = null;
let serverA: TestServer;
let serverB: TestServer;
let admin: Redis;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lora-replicas-'));
  // The database is its own server that both replicas reach, as MongoDB would be.
  if (!process.env.MONGODB_URI) engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), port: 0, quiet: true });
  const mongoUri = process.env.MONGODB_URI ?? engine!.uri;
  const pubsub = { kind: 'redis', url: TEST_REDIS_URL, channelPrefix: prefix };
  serverA = await startTestServer({ mongoUri, pubsub });
  serverB = await startTestServer({ mongoUri, pubsub });
  admin = adminClient();
});

after(async () => {
  await serverA?.close();
  await serverB?.close();
  await engine?.stop();
  admin?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const LOG_METRICS = /* GraphQL */ `
  mutation ($id: ID!, $points: [MetricPointInput!]!, $status: ExperimentStatus) {
    logMetrics(experimentId: $id, points: $points, status: $status) { written }
  }
`;

const EXPERIMENT_UPDATED = /* GraphQL */ `
  subscription ($project: String!) {
    experimentUpdated(project: $project) { id name status statusHistory { status at } summary { steps finalLoss } }
  }
`;

test('a subscriber on replica B receives the events a mutation on replica A causes', { timeout: 60_000 }, async () => {
  assert.notEqual(serverA.port, serverB.port);
  const { launchTraining } = await gqlData(serverA.url, LAUNCH, { input: { name: 'notebook-run', project: 'replicas', logOnly: true } });
  const id: string = launchTraining.id;

  const client = wsClient(serverB.wsUrl);
  try {
    const progress = client.iterate<{ trainingProgress: ProgressEvent }>({ query: TRAINING_PROGRESS, variables: { id } });
    const updates = client.iterate<{ experimentUpdated: any }>({ query: EXPERIMENT_UPDATED, variables: { project: 'replicas' } });
    // B sends the SNAPSHOT once its Redis subscription is live; experimentUpdated has no
    // first event, so wait until B's subscriber connection holds its channel.
    const snapshot = await progress.next();
    assert.equal(snapshot.value.data.trainingProgress.kind, 'SNAPSHOT');
    assert.equal(snapshot.value.data.trainingProgress.status, 'RUNNING');
    for (;;) {
      const [, count] = (await admin.pubsub('NUMSUB', `${prefix}experimentUpdated:replicas`)) as [string, number];
      if (count === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const nextUpdate = updates.next();

    const points = [1, 2, 3].map((step) => ({ key: 'loss', step, value: 3 - step * 0.5 }));
    await gqlData(serverA.url, LOG_METRICS, { id, points });
    const steps: ProgressEvent[] = [];
    for (let i = 0; i < 3; i++) steps.push((await progress.next()).value.data.trainingProgress);
    assert.deepEqual(steps.map((e) => [e.kind, e.step, e.loss]), [['STEP', 1, 2.5], ['STEP', 2, 2], ['STEP', 3, 1.5]]);

    await gqlData(serverA.url, LOG_METRICS, { id, points: [{ key: 'loss', step: 4, value: 1 }], status: 'COMPLETED' });
    const rest: ProgressEvent[] = [];
    for await (const result of progress) rest.push(result.data!.trainingProgress);
    assert.deepEqual(rest.map((e) => [e.kind, e.status, e.step]), [['STEP', 'RUNNING', 4], ['STATUS', 'COMPLETED', null]], 'the stream ends with the final status');

    const update = (await nextUpdate).value.data.experimentUpdated;
    assert.equal(update.id, id, 'the ObjectId came through Redis as one');
    assert.equal(update.status, 'COMPLETED');
    assert.deepEqual(update.statusHistory.map((s: { status: string }) => s.status), ['RUNNING', 'COMPLETED']);
    assert.ok(update.statusHistory.every((s: { at: string }) => !Number.isNaN(Date.parse(s.at))), 'Dates too');
    assert.deepEqual(update.summary, { steps: 4, finalLoss: 1 });
    await updates.return!();
  } finally {
    await client.dispose();
  }
});
