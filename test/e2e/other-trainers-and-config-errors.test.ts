// End to end over HTTP and WebSocket: an allow-listed external command and the logMetrics
// mutation feed the same records and live streams as the built-in trainer; a late
// subscriber gets the current state first; malformed configs are refused with the path of
// the bad key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gql, gqlData, startTestServer, type TestServer } from '../server/harness.ts';
import { collectProgress, E2E_JOBS, EXPERIMENT, LAUNCH, range, stepsOf, tinyConfig, tinyConfigYaml, waitForStatus, wsClient } from './training-client.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ jobs: E2E_JOBS });
});

after(async () => {
  await server?.close();
});

const LOG_METRICS = /* GraphQL */ `
  mutation Log($id: ID!, $points: [MetricPointInput!]!, $status: ExperimentStatus) {
    logMetrics(experimentId: $id, points: $points, status: $status) { written skipped experiment { id status summary { finalLoss minLoss bestStep steps } } }
  }
`;

test('an external command from the allow-list runs and is recorded like the built-in trainer; experimentUpdated follows it', async () => {
  const { externalRunners } = await gqlData(server.url, '{ externalRunners { name description } }');
  assert.deepEqual(externalRunners, [{ name: 'fixture-trainer', description: 'test fixture' }]);
  const client = wsClient(server.wsUrl);
  try {
    const updates: { status: string; id: string }[] = [];
    const updatesDone = (async () => {
      for await (const r of client.iterate<{ experimentUpdated: { id: string; status: string } }>({ query: 'subscription { experimentUpdated(project: "ext") { id status } }' })) {
        updates.push(r.data!.experimentUpdated);
        if (r.data!.experimentUpdated.status === 'COMPLETED') break;
      }
    })();
    await new Promise((r) => setTimeout(r, 200)); // the subscription is registered before the launch
    const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'kohya-like', project: 'ext', externalCommand: 'fixture-trainer' } });
    assert.equal(launchTraining.runner, 'EXTERNAL');
    const done = await waitForStatus(server.url, launchTraining.id, ['COMPLETED', 'FAILED']);
    await updatesDone;
    assert.equal(done.status, 'COMPLETED');
    assert.deepEqual(stepsOf(done.metrics), range(1, 25));
    assert.deepEqual(done.checkpoints.map((c: { step: number }) => c.step), [10, 20]);
    assert.ok(done.artifacts.some((a: { kind: string }) => a.kind === 'ADAPTER'));
    assert.ok(updates.every((u) => u.id === launchTraining.id));
    assert.deepEqual([...new Set(updates.map((u) => u.status))], ['RUNNING', 'COMPLETED']);
  } finally {
    await client.dispose();
  }
});

test('logMetrics: a run trained elsewhere logs its points (a replay stores nothing twice), live subscribers see them, a late one gets the state first', async () => {
  const { launchTraining } = await gqlData(server.url, LAUNCH, { input: { name: 'notebook', project: 'nb', logOnly: true, configYaml: 'lora_rank: 16\nlearning_rate: 0.0001\n' } });
  assert.equal(launchTraining.status, 'RUNNING');
  assert.equal(launchTraining.runner, 'LOGGED');
  const id: string = launchTraining.id;
  const client = wsClient(server.wsUrl);
  try {
    const live = collectProgress(client, id, (e) => e.kind === 'STEP' && e.step === 20);
    await new Promise((r) => setTimeout(r, 200));
    const points = range(1, 20).flatMap((step) => [
      { step, key: 'loss', value: 3 - step / 10 },
      { step, key: 'learningRate', value: 1e-4 },
    ]);
    const first = await gqlData(server.url, LOG_METRICS, { id, points: points.slice(0, 20) });
    assert.deepEqual([first.logMetrics.written, first.logMetrics.skipped], [20, 0]);
    // The notebook's retry sends the first batch again together with the rest.
    const second = await gqlData(server.url, LOG_METRICS, { id, points });
    assert.deepEqual([second.logMetrics.written, second.logMetrics.skipped], [20, 20]);
    assert.deepEqual(second.logMetrics.experiment.summary, { finalLoss: 1, minLoss: 1, bestStep: 20, steps: 20 });
    const events = await live.done;
    assert.equal(events[0]!.kind, 'SNAPSHOT');
    assert.deepEqual(events.filter((e) => e.kind === 'STEP').map((e) => e.step), range(1, 20));

    const late = await collectProgress(client, id, () => true).done;
    assert.equal(late[0]!.kind, 'SNAPSHOT');
    assert.equal(late[0]!.step, 20);
    assert.equal(late[0]!.loss, 1);
  } finally {
    await client.dispose();
  }
  const ended = await gqlData(server.url, LOG_METRICS, { id, points: [], status: 'COMPLETED' });
  assert.equal(ended.logMetrics.experiment.status, 'COMPLETED');
  const { experiment } = await gqlData(server.url, EXPERIMENT, { id, points: 1000 });
  assert.deepEqual(stepsOf(experiment.metrics), range(1, 20));
  assert.deepEqual(experiment.metricKeys, ['learningRate', 'loss']);
  const bad = await gql(server.url, LOG_METRICS, { id, points: [{ step: -1, key: 'loss', value: 1 }] });
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.deepEqual(bad.errors?.[0]?.extensions?.argumentPath, ['points', 0, 'step']);
});

async function launchError(input: Record<string, unknown>): Promise<{ message: string; argumentPath: unknown }> {
  const res = await gql(server.url, LAUNCH, { input: { name: 'bad', project: 'e2e', ...input } });
  assert.equal(res.data, null);
  const error = res.errors![0]!;
  assert.equal(error.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(error));
  return { message: error.message, argumentPath: error.extensions?.argumentPath };
}

test('malformed configs are refused with BAD_USER_INPUT naming the path of the bad key, and nothing is queued', async () => {
  const before = (await gqlData(server.url, '{ experiments(first: 100) { totalCount } }')).experiments.totalCount;

  const notYaml = await launchError({ configYaml: 'lora_rank: [8\n' });
  assert.deepEqual(notYaml.argumentPath, ['input', 'configYaml']);
  assert.match(notYaml.message, /not valid YAML/);

  const badRank = await launchError({ configYaml: tinyConfigYaml({ lora_rank: 0, learning_rate: 'fast' }) });
  assert.deepEqual(badRank.argumentPath, ['input', 'configYaml', 'lora_rank']);
  assert.match(badRank.message, /input\.configYaml\.lora_rank: "lora_rank": 0 is not allowed; expected an integer >= 1/);
  assert.match(badRank.message, /input\.configYaml\.learning_rate: .*expected a number > 0/, 'every bad key is listed');

  const typo = await launchError({ configYaml: tinyConfigYaml({ lora_rnk: 8 }) });
  assert.deepEqual(typo.argumentPath, ['input', 'configYaml', 'lora_rnk']);
  assert.match(typo.message, /did you mean "lora_rank"/);

  const { base_model, train_data_dir } = tinyConfig();
  const typed = await launchError({ config: { baseModel: base_model, trainDataDir: train_data_dir, loraRank: 4, batchSize: 0 } });
  assert.deepEqual(typed.argumentPath, ['input', 'config', 'batchSize']);

  const missingData = await launchError({ configYaml: tinyConfigYaml({ train_data_dir: '/nonexistent/data' }) });
  assert.deepEqual(missingData.argumentPath, ['input', 'configYaml', 'train_data_dir']);
  assert.match(missingData.message, /does not exist/);

  const noConfig = await launchError({});
  assert.deepEqual(noConfig.argumentPath, ['input', 'configYaml']);

  const notAllowed = await launchError({ externalCommand: '/bin/sh' });
  assert.deepEqual(notAllowed.argumentPath, ['input', 'externalCommand']);

  const after = (await gqlData(server.url, '{ experiments(first: 100) { totalCount } }')).experiments.totalCount;
  assert.equal(after, before, 'no experiment was created');
});
