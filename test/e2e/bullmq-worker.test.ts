// Scale-out end to end: an API server with JOB_QUEUE=bullmq runs nothing itself; a
// `lora-registry worker` process (a child, as on a GPU host) takes the tiny config from the
// BullMQ queue, trains it, and its progress reaches a WebSocket subscriber of the API
// through Redis; every step is stored once. cancelTraining on the API reaches the worker. A
// worker killed mid-run: another worker takes the stalled job over and completes the run; a
// worker stopped with SIGTERM leaves its run INTERRUPTED for resumeTraining.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import yaml from 'js-yaml';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded/index.ts';
import { gqlData, startTestServer, type TestServer } from '../server/harness.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../jobs/redis-fixture.ts';
import { collectProgress, E2E_JOBS, followUntil, LAUNCH, range, REPO_ROOT, stepsOf, tinyConfigYaml, waitForStatus, wsClient } from './training-client.ts';

const prefix = uniquePrefix('bullmq');
const queueName = prefix.replace(/:$/, '').replace(/[^\w.-]/g, '-');
let dir: string;
let engine: EmbeddedMongo | null = null;
let server: TestServer;
let worker: ChildProcess;
let workerOutput = '';

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lora-bullmq-'));
  if (!process.env.MONGODB_URI) engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), port: 0, quiet: true });
  const mongoUri = process.env.MONGODB_URI ?? engine!.uri;
  const pubsub = { kind: 'redis', url: TEST_REDIS_URL, channelPrefix: prefix };
  // A short BullMQ lock, so that a killed worker's job is found stalled within seconds.
  const jobs = { ...E2E_JOBS, queue: 'bullmq', queueName, lockDurationMs: 2000 };
  server = await startTestServer({ mongoUri, pubsub, jobs });

  writeFileSync(path.join(dir, 'worker.yaml'), yaml.dump({ mongoUri, workspaceDir: server.workspaceDir, pubsub, jobs }));
  worker = await startWorker();
});

/** `lora-registry worker` as its own process, resolved once it takes jobs; its output collects in `workerOutput`. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'worker', '--config', path.join(dir, 'worker.yaml'), '--concurrency', '1'], {
    cwd: REPO_ROOT,
    env: { ...process.env, MONGODB_URI: '', REDIS_URL: '', PUBSUB: '', JOB_QUEUE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      workerOutput += chunk.toString();
      if (output.includes('taking runs from BullMQ queue')) resolve();
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${output}`)));
  });
  return child;
}

after(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await server?.close();
  await engine?.stop();
  const queue = new Queue(queueName, { connection: { url: TEST_REDIS_URL } });
  await queue.obliterate({ force: true });
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a worker process trains the launched run; the API subscriber follows it to COMPLETED, every step stored once', { timeout: 180_000 }, async () => {
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'on-a-worker', project: 'scale', configYaml: tinyConfigYaml({ max_steps: 20 }) } });
  const id: string = launchTraining.id;
  assert.equal(launchTraining.status, 'QUEUED');
  const client = wsClient(server.wsUrl);
  try {
    const { done } = collectProgress(client, id, (e) => e.kind === 'STATUS' && ['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED'].includes(e.status));
    const events = await done;
    assert.equal(events[0]!.kind, 'SNAPSHOT');
    assert.equal(events.at(-1)!.status, 'COMPLETED', `${JSON.stringify(events.at(-1))}\n${workerOutput}`);
    const steps = events.filter((e) => e.kind === 'STEP');
    assert.ok(steps.length >= 10, `live steps arrived through Redis (${steps.length})`);
    assert.ok(steps.every((e, i) => i === 0 || e.step! > steps[i - 1]!.step!), 'in step order, no repeats');
  } finally {
    await client.dispose();
  }
  const experiment = await waitForStatus(server.url, id, ['COMPLETED']);
  assert.deepEqual(stepsOf(experiment.metrics), range(1, 20), 'every step stored once');
  assert.deepEqual(experiment.statusHistory.map((s: { status: string }) => s.status), ['QUEUED', 'RUNNING', 'COMPLETED']);
  assert.deepEqual(experiment.checkpoints.map((c: { step: number }) => c.step), [10, 20]);
  assert.ok(experiment.artifacts.some((a: { kind: string }) => a.kind === 'ADAPTER'));
  assert.match(workerOutput, new RegExp(`experimentId=${id} RUNNING pid=`), 'the worker ran it');
  assert.match(workerOutput, new RegExp(`experimentId=${id} COMPLETED`));
});

test('cancelTraining on the API stops the run on the worker with a checkpoint where it stopped', { timeout: 180_000 }, async () => {
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'cancel-on-worker', project: 'scale', configYaml: tinyConfigYaml({ max_steps: 400 }) } });
  const id: string = launchTraining.id;
  await followUntil(server.wsUrl, id, (e) => e.kind === 'STEP' && e.step! >= 3);
  const { cancelTraining } = await gqlData(server.url, /* GraphQL */ `mutation ($id: ID!) { cancelTraining(id: $id) { id status } }`, { id });
  assert.equal(cancelTraining.status, 'RUNNING', 'it runs on the worker until it stops');
  const cancelled = await waitForStatus(server.url, id, ['CANCELLED', 'FAILED', 'COMPLETED'], 120_000);
  assert.equal(cancelled.status, 'CANCELLED', `${JSON.stringify(cancelled.error)}\n${workerOutput}`);
  assert.equal(cancelled.error.type, 'CANCELLED');
  const stoppedAt: number = cancelled.summary.steps;
  assert.ok(stoppedAt >= 3 && stoppedAt < 400, `stopped at ${stoppedAt}`);
  assert.equal(cancelled.checkpoints.at(-1).step, stoppedAt, 'the trainer got SIGTERM and saved a checkpoint where it stopped');
  assert.deepEqual(stepsOf(cancelled.metrics), range(1, stoppedAt));
  assert.match(workerOutput, new RegExp(`experimentId=${id} cancel requested`));
});

test('a worker killed mid-run: another worker takes the stalled job over and completes the run from its checkpoint', { timeout: 180_000 }, async () => {
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'worker-dies', project: 'scale', configYaml: tinyConfigYaml({ max_steps: 30 }) } });
  const id: string = launchTraining.id;
  await followUntil(server.wsUrl, id, (e) => e.kind === 'CHECKPOINT' && e.step === 10);
  const killed = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGKILL');
  await killed;
  worker = await startWorker();
  const done = await waitForStatus(server.url, id, ['COMPLETED', 'FAILED', 'CANCELLED'], 150_000);
  assert.equal(done.status, 'COMPLETED', `${JSON.stringify(done.error)}\n${workerOutput}`);
  const history: string[] = done.statusHistory.map((s: { status: string }) => s.status);
  assert.deepEqual(history, ['QUEUED', 'RUNNING', 'INTERRUPTED', 'QUEUED', 'RUNNING', 'COMPLETED']);
  assert.deepEqual(stepsOf(done.metrics), range(1, 30), 'every step stored once across both workers');
  assert.match(workerOutput, new RegExp(`experimentId=${id} INTERRUPTED: the worker running it \\(${os.hostname()}\\) stopped mid-run`));
});

test('a worker stopped with SIGTERM: its run checkpoints and ends INTERRUPTED; resumeTraining hands it to the next worker', { timeout: 180_000 }, async () => {
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'worker-stops', project: 'scale', configYaml: tinyConfigYaml({ max_steps: 30 }) } });
  const id: string = launchTraining.id;
  await followUntil(server.wsUrl, id, (e) => e.kind === 'STEP' && e.step! >= 3);
  const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, workerOutput);
  const interrupted = await waitForStatus(server.url, id, ['INTERRUPTED', 'COMPLETED', 'FAILED', 'CANCELLED']);
  assert.equal(interrupted.status, 'INTERRUPTED', workerOutput);
  assert.equal(interrupted.checkpoints.at(-1).step, interrupted.summary.steps, 'checkpoint where it stopped');

  worker = await startWorker();
  await gqlData(server.url, /* GraphQL */ `mutation ($id: ID!) { resumeTraining(id: $id) { id status } }`, { id });
  const done = await waitForStatus(server.url, id, ['COMPLETED', 'FAILED', 'CANCELLED'], 150_000);
  assert.equal(done.status, 'COMPLETED', `${JSON.stringify(done.error)}\n${workerOutput}`);
  assert.deepEqual(done.statusHistory.map((s: { status: string }) => s.status), ['QUEUED', 'RUNNING', 'INTERRUPTED', 'QUEUED', 'RUNNING', 'COMPLETED']);
  assert.deepEqual(stepsOf(done.metrics), range(1, 30));
});
