// End to end over real HTTP and WebSocket: launch the tiny config, follow it live, and trace
// its final adapter back to the exact config; cancel a run and resume it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { gqlData, startTestServer, type TestServer } from '../server/harness.ts';
import { collectProgress, E2E_JOBS, EXPERIMENT, LAUNCH, range, stepsOf, tinyConfigYaml, waitForStatus, wsClient } from './training-client.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ jobs: E2E_JOBS });
});

after(async () => {
  await server?.close();
});

test('launch the tiny config, watch the loss fall live, then find the run and its exact config from the adapter hash', async () => {
  const configYaml = tinyConfigYaml();
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'tiny-e2e', project: 'e2e', tags: ['tiny'], configYaml } });
  assert.equal(launchTraining.status, 'QUEUED');
  const id: string = launchTraining.id;
  assert.equal(launchTraining.outputDir, path.join(server.workspaceDir, id));

  const client = wsClient(server.wsUrl);
  try {
    const { done } = collectProgress(client, id, (e) => e.kind === 'STATUS' && ['COMPLETED', 'FAILED'].includes(e.status));
    const events = await done;
    assert.equal(events[0]!.kind, 'SNAPSHOT');
    assert.equal(events.at(-1)!.status, 'COMPLETED', JSON.stringify(events.at(-1)));
    const steps = events.filter((e) => e.kind === 'STEP');
    assert.ok(steps.length >= 20, `live steps arrived (${steps.length})`);
    assert.ok(steps.every((e, i) => i === 0 || e.step! > steps[i - 1]!.step!), 'in step order, no repeats');
    assert.ok(steps.every((e) => e.learningRate !== null && e.gradNorm !== null && e.tokensPerSecond !== null && e.etaSeconds !== null && e.totalSteps === 30));
    const mean = (xs: ProgressLoss[]) => xs.reduce((a, e) => a + e.loss!, 0) / xs.length;
    type ProgressLoss = { loss: number | null };
    assert.ok(mean(steps.slice(-5)) < mean(steps.slice(0, 5)) - 1, `loss falls: ${mean(steps.slice(0, 5))} -> ${mean(steps.slice(-5))}`);
    assert.ok(events.some((e) => e.kind === 'CHECKPOINT' && e.step === 10));
  } finally {
    await client.dispose();
  }

  const { experiment } = await gqlData(server.url, EXPERIMENT, { id, points: 1000 });
  assert.equal(experiment.status, 'COMPLETED');
  assert.deepEqual(experiment.statusHistory.map((s: { status: string }) => s.status), ['QUEUED', 'RUNNING', 'COMPLETED']);
  assert.deepEqual(stepsOf(experiment.metrics), range(1, 30), 'every step stored once');
  assert.equal(experiment.summary.steps, 30);
  assert.equal(experiment.summary.finalLoss, experiment.metrics.at(-1).value);
  assert.equal(experiment.summary.minLoss, Math.min(...experiment.metrics.map((p: { value: number }) => p.value)));
  assert.ok(experiment.summary.tokensPerSecond > 0 && experiment.summary.wallSeconds > 0 && experiment.summary.finalEvalLoss > 0);
  assert.equal(experiment.environment.node, process.version);
  assert.equal(experiment.environment.executionProvider, 'cpu');
  assert.match(experiment.dataset.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(experiment.checkpoints.map((c: { step: number }) => c.step), [10, 20, 30]);
  assert.deepEqual(experiment.metricKeys, ['evalLoss', 'gradNorm', 'learningRate', 'loss', 'tokensPerSecond']);
  const curve = await gqlData(server.url, EXPERIMENT, { id, points: 6 });
  assert.equal(curve.experiment.metrics.length, 6);
  assert.equal(curve.experiment.metrics.at(-1).step, 30);

  const adapter = experiment.artifacts.find((a: { kind: string }) => a.kind === 'ADAPTER');
  assert.equal(adapter.path, path.join(server.workspaceDir, id, 'adapter_model.safetensors'));
  const { artifactByHash } = await gqlData(
    server.url,
    /* GraphQL */ `query ($sha: String!) { artifactByHash(sha256: $sha) { kind bytes experiment { id name project status rawConfig configHash config { loraRank maxSteps } } } }`,
    { sha: adapter.sha256 },
  );
  assert.equal(artifactByHash.experiment.id, id);
  assert.deepEqual(artifactByHash.experiment.rawConfig, yaml.load(configYaml), 'the exact config as given');
  assert.equal(artifactByHash.experiment.config.maxSteps, 30);

  // One id everywhere: the run's own log lines name the experiment.
  const logLines = readFileSync(path.join(server.workspaceDir, id, 'logs', 'train.log'), 'utf8').trim().split('\n');
  assert.ok(logLines.length > 10 && logLines.every((l) => JSON.parse(l).experimentId === id));
});

test('cancelTraining stops a run with a checkpoint at the step it reached; resumeTraining completes it without gaps', async () => {
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'cancel-me', project: 'e2e', configYaml: tinyConfigYaml({ max_steps: 30 }) } });
  const id: string = launchTraining.id;
  const client = wsClient(server.wsUrl);
  try {
    const { done } = collectProgress(client, id, (e) => e.kind === 'STEP' && e.step! >= 5);
    await done;
  } finally {
    await client.dispose();
  }
  const { cancelTraining } = await gqlData(server.url, /* GraphQL */ `mutation ($id: ID!) { cancelTraining(id: $id) { id status } }`, { id });
  assert.equal(cancelTraining.id, id);
  const cancelled = await waitForStatus(server.url, id, ['CANCELLED', 'FAILED', 'COMPLETED']);
  assert.equal(cancelled.status, 'CANCELLED');
  assert.equal(cancelled.error.type, 'CANCELLED');
  const stoppedAt: number = cancelled.summary.steps;
  assert.ok(stoppedAt >= 5 && stoppedAt < 30);
  assert.equal(cancelled.checkpoints.at(-1).step, stoppedAt, 'checkpoint saved where it stopped');

  const { resumeTraining } = await gqlData(server.url, /* GraphQL */ `mutation ($id: ID!) { resumeTraining(id: $id) { id status } }`, { id });
  assert.equal(resumeTraining.status, 'QUEUED');
  const done = await waitForStatus(server.url, id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  assert.deepEqual(stepsOf(done.metrics), range(1, 30));
  assert.deepEqual(done.statusHistory.map((s: { status: string }) => s.status), ['QUEUED', 'RUNNING', 'CANCELLED', 'QUEUED', 'RUNNING', 'COMPLETED']);
});
