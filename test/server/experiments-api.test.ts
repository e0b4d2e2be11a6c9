// The experiments API end to end over a real HTTP port: recording runs, the filters users
// ask for, Relay paging, artifactByHash, update and delete with their error codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gql, gqlData, startTestServer, type TestServer } from './harness.ts';
import { CREATE_EXPERIMENT, hashOf, runInput } from './fixtures.ts';

let server: TestServer;
const ids = new Map<string, string>();

before(async () => {
  server = await startTestServer();
  const runs = [
    runInput({ name: 'neon-city', tags: ['cyberpunk', 'sdxl'], finalLoss: 0.31, rank: 16, checkpoints: 2 }),
    runInput({ name: 'neon-rain', tags: ['cyberpunk'], finalLoss: 0.52, rank: 8 }),
    runInput({ name: 'chrome-dreams', tags: ['cyberpunk'], finalLoss: 0.2, rank: 32, status: 'RUNNING' }),
    runInput({ name: 'watercolor', tags: ['painting'], finalLoss: 0.25, rank: 8, learningRate: 5e-4 }),
    runInput({ name: 'oom-run', tags: ['cyberpunk'], finalLoss: null, status: 'FAILED', error: { type: 'CUDA_OOM', message: 'CUDA out of memory. Tried to allocate 2.00 GiB' } }),
    runInput({ name: 'nan-run', finalLoss: null, status: 'FAILED', error: { type: 'NAN_LOSS', message: 'loss became NaN at step 40' } }),
    runInput({ name: 'other-project', project: 'audio', tags: ['cyberpunk'], finalLoss: 0.1 }),
  ];
  for (const input of runs) {
    const data = await gqlData(server.url, CREATE_EXPERIMENT, { input });
    ids.set(data.createExperiment.id, input.name as string);
    ids.set(input.name as string, data.createExperiment.id);
  }
});

after(async () => {
  await server?.close();
});

const LIST = /* GraphQL */ `
  query List($filter: ExperimentFilter, $sort: ExperimentSort, $first: Int, $after: String) {
    experiments(filter: $filter, sort: $sort, first: $first, after: $after) {
      totalCount
      edges { cursor node { id name status summary { finalLoss } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

async function names(filter: Record<string, unknown>, sort?: Record<string, unknown>): Promise<string[]> {
  const data = await gqlData(server.url, LIST, { filter, sort, first: 100 });
  return data.experiments.edges.map((e: any) => e.node.name);
}

test('createExperiment records the run with its typed config, hash and linked records', async () => {
  const data = await gqlData(server.url, /* GraphQL */ `
    query One($id: ID!) {
      experiment(id: $id) {
        name project tags status configHash runner createdAt
        config { loraRank loraAlpha learningRate baseModel trainDataDir }
        rawConfig
        baseModel { path sha256 name }
        dataset { path sha256 fileCount tokens files { path } }
        summary { finalLoss minLoss steps }
        checkpoints { step epoch loss dir files { path sha256 bytes } artifacts { kind } experiment { name } }
        artifacts { kind format bytes checkpoint { step } experiment { name } }
        finals: artifacts(kind: ADAPTER) { path bytes }
      }
    }`, { id: ids.get('neon-city') });
  const e = data.experiment;
  assert.equal(e.name, 'neon-city');
  assert.deepEqual(e.tags, ['cyberpunk', 'sdxl']);
  assert.equal(e.runner, 'LOGGED');
  assert.match(e.configHash, /^[0-9a-f]{64}$/);
  assert.deepEqual(e.config, { loraRank: 16, loraAlpha: 16, learningRate: 1e-4, baseModel: 'models/gpt2', trainDataDir: 'data/poems' });
  assert.equal(e.rawConfig.lora_rank, 16);
  assert.equal(e.baseModel.sha256, hashOf('gpt2'));
  assert.deepEqual(e.dataset, { path: 'data/poems', sha256: hashOf('poems'), fileCount: 3, tokens: 12000, files: [] });
  assert.deepEqual(e.checkpoints.map((c: any) => c.step), [100, 200]);
  assert.equal(e.checkpoints[0].experiment.name, 'neon-city');
  assert.deepEqual(e.checkpoints[0].artifacts, [{ kind: 'CHECKPOINT_ADAPTER' }]);
  assert.equal(e.artifacts.length, 3);
  assert.deepEqual(e.artifacts.map((a: any) => a.checkpoint?.step ?? null), [100, 200, null]);
  // 3 GB does not fit a GraphQL Int; SafeInt carries it exactly.
  assert.deepEqual(e.finals, [{ path: 'out/neon-city/adapter_model.safetensors', bytes: 3_000_000_000 }]);
  assert.ok(!Number.isNaN(Date.parse(e.createdAt)));
});

test('"experiments tagged cyberpunk with final loss under 0.4 that completed"', async () => {
  const found = await names({ tags: { all: ['cyberpunk'] }, finalLoss: { lt: 0.4 }, status: ['COMPLETED'] }, { field: 'FINAL_LOSS', direction: 'ASC' });
  assert.deepEqual(found, ['other-project', 'neon-city']);
  assert.deepEqual(await names({ project: 'default', tags: { all: ['cyberpunk'] }, finalLoss: { lt: 0.4 }, status: ['COMPLETED'] }), ['neon-city']);
});

test('"failed runs that ran out of GPU memory"', async () => {
  assert.deepEqual(await names({ status: ['FAILED'], errorType: ['CUDA_OOM'] }), ['oom-run']);
});

test('tags any/all, rank set, learning-rate range, name contains, created range', async () => {
  assert.deepEqual(await names({ tags: { any: ['painting', 'sdxl'] } }, { field: 'NAME', direction: 'ASC' }), ['neon-city', 'watercolor']);
  assert.deepEqual(await names({ tags: { all: ['cyberpunk', 'sdxl'] } }), ['neon-city']);
  assert.deepEqual(await names({ loraRankIn: [16, 32] }, { field: 'LORA_RANK', direction: 'DESC' }), ['chrome-dreams', 'neon-city']);
  assert.deepEqual(await names({ learningRate: { gt: 1e-4 } }), ['watercolor']);
  assert.deepEqual(await names({ nameContains: 'NEON' }, { field: 'NAME', direction: 'ASC' }), ['neon-city', 'neon-rain']);
  assert.deepEqual(await names({ createdAt: { gte: '2000-01-01T00:00:00Z', lt: '2000-01-02T00:00:00Z' } }), []);
  assert.equal((await names({ createdAt: { gte: '2000-01-01T00:00:00Z' } })).length, 7);
});

test('operator injection: text that looks like an operator matches literally, objects are refused', async () => {
  assert.deepEqual(await names({ nameContains: '{"$gt": ""}' }), []);
  assert.deepEqual(await names({ nameContains: '.*' }), []);
  assert.deepEqual(await names({ tags: { any: ['{"$ne": null}'] } }), []);
  assert.deepEqual(await names({ project: '{"$ne": "x"}' }), []);
  const refused = await gql(server.url, LIST, { filter: { nameContains: { $gt: '' } } });
  assert.equal(refused.status, 400);
  assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  const refusedTags = await gql(server.url, LIST, { filter: { tags: { all: { $exists: true } } } });
  assert.equal(refusedTags.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
});

test('Relay paging walks every experiment exactly once with opaque cursors, for each sort', async () => {
  for (const sort of [
    { field: 'CREATED_AT', direction: 'DESC' },
    { field: 'FINAL_LOSS', direction: 'ASC' },
    { field: 'FINAL_LOSS', direction: 'DESC' },
    { field: 'NAME', direction: 'ASC' },
  ]) {
    const all = await names({}, sort);
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const data: any = await gqlData(server.url, LIST, { sort, first: 2, after });
      const conn = data.experiments;
      assert.equal(conn.totalCount, 7);
      assert.equal(conn.pageInfo.hasPreviousPage, after !== null);
      seen.push(...conn.edges.map((e: any) => e.node.name));
      if (!conn.pageInfo.hasNextPage) break;
      assert.equal(conn.pageInfo.endCursor, conn.edges.at(-1).cursor);
      after = conn.pageInfo.endCursor;
    }
    assert.deepEqual(seen, all, `paging with ${JSON.stringify(sort)}`);
    assert.equal(new Set(seen).size, 7);
  }
  const ascending = await names({}, { field: 'FINAL_LOSS', direction: 'ASC' });
  assert.deepEqual(ascending.slice(0, 2).sort(), ['nan-run', 'oom-run'], 'runs without a final loss sort first ascending');
});

test('bad arguments are BAD_USER_INPUT naming the argument path', async () => {
  const cases: [string, Record<string, unknown>, (string | number)[]][] = [
    [LIST, { first: 101 }, ['first']],
    [LIST, { first: -1 }, ['first']],
    [LIST, { after: 'garbage' }, ['after']],
    [LIST, { filter: { finalLoss: { gte: 2, lte: 1 } } }, ['filter', 'finalLoss']],
    [LIST, { filter: { configHash: 'xyz' } }, ['filter', 'configHash']],
    ['query($id: ID!) { experiment(id: $id) { id } }', { id: 'nope' }, ['id']],
    [CREATE_EXPERIMENT, { input: { ...runInput({ name: 'bad' }), project: 'has space' } }, ['input', 'project']],
    [CREATE_EXPERIMENT, { input: { ...runInput({ name: 'bad', checkpoints: 1 }), artifacts: [{ sha256: 'abc', kind: 'ADAPTER', format: 'x', path: 'p', bytes: 1 }] } }, ['input', 'artifacts', 0, 'sha256']],
    [CREATE_EXPERIMENT, { input: { ...runInput({ name: 'bad' }), status: 'FAILED', error: null } }, ['input', 'error']],
  ];
  for (const [query, variables, argumentPath] of cases) {
    const res = await gql(server.url, query, variables);
    const error = res.errors?.[0];
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', `${JSON.stringify(variables)}: ${JSON.stringify(res.errors)}`);
    assert.deepEqual(error?.extensions?.argumentPath, argumentPath);
  }
});

test('unknown ids are NOT_FOUND', async () => {
  const missing = '65a0000000000000000000ff';
  const one = await gql(server.url, 'query($id: ID!) { experiment(id: $id) { id } }', { id: missing });
  assert.equal(one.data?.experiment, null);
  assert.equal(one.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  const upd = await gql(server.url, 'mutation($id: ID!) { updateExperiment(id: $id, input: { notes: "x" }) { id } }', { id: missing });
  assert.equal(upd.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  const del = await gql(server.url, 'mutation($id: ID!) { deleteExperiment(id: $id) { deletedId } }', { id: missing });
  assert.equal(del.errors?.[0]?.extensions?.code, 'NOT_FOUND');
});

test('"which config produced the model with this hash": artifactByHash by full hash and by unique prefix', async () => {
  const query = /* GraphQL */ `
    query Which($sha: String!) {
      artifactByHash(sha256: $sha) {
        kind path
        experiment { name configHash config { loraRank learningRate } dataset { path sha256 } baseModel { path sha256 } }
      }
    }`;
  const full = hashOf('watercolor/final');
  const byFull = await gqlData(server.url, query, { sha: full });
  assert.equal(byFull.artifactByHash.experiment.name, 'watercolor');
  assert.deepEqual(byFull.artifactByHash.experiment.config, { loraRank: 8, learningRate: 5e-4 });
  assert.equal(byFull.artifactByHash.experiment.dataset.sha256, hashOf('poems'));
  const byPrefix = await gqlData(server.url, query, { sha: full.slice(0, 10).toUpperCase() });
  assert.equal(byPrefix.artifactByHash.experiment.name, 'watercolor');
  const unknownPrefix = (full[0] === 'f' ? '0' : 'f') + full.slice(1, 12);
  const none = await gqlData(server.url, query, { sha: unknownPrefix });
  assert.equal(none.artifactByHash, null);
  const short = await gql(server.url, query, { sha: full.slice(0, 7) });
  assert.equal(short.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.deepEqual(short.errors?.[0]?.extensions?.argumentPath, ['sha256']);
  assert.match(short.errors![0]!.message, /at least 8/);
  const notHex = await gql(server.url, query, { sha: '{"$gt":""}' });
  assert.equal(notHex.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
});

test('an ambiguous hash prefix is a clear BAD_USER_INPUT listing candidates', async () => {
  const a = 'abcdef01' + '1'.repeat(56);
  const b = 'abcdef01' + '2'.repeat(56);
  const input = runInput({ name: 'twins' });
  input.artifacts = [
    { sha256: a, kind: 'ADAPTER', format: 'safetensors', path: 'out/twins/a.safetensors', bytes: 1 },
    { sha256: b, kind: 'ADAPTER', format: 'safetensors', path: 'out/twins/b.safetensors', bytes: 1 },
  ];
  const created = await gqlData(server.url, CREATE_EXPERIMENT, { input });
  const res = await gql(server.url, 'query($s: String!) { artifactByHash(sha256: $s) { sha256 } }', { s: 'abcdef01' });
  assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.match(res.errors![0]!.message, /matches more than one artifact/);
  assert.deepEqual(res.errors?.[0]?.extensions?.candidates, [a, b]);
  const exact = await gqlData(server.url, 'query($s: String!) { artifactByHash(sha256: $s) { sha256 } }', { s: 'abcdef012' });
  assert.equal(exact.artifactByHash.sha256, b);
  await gqlData(server.url, 'mutation($id: ID!) { deleteExperiment(id: $id) { deletedId } }', { id: created.createExperiment.id });
});

test('updateExperiment changes only tags, notes and name', async () => {
  const id = ids.get('neon-rain');
  const data = await gqlData(server.url, /* GraphQL */ `
    mutation($id: ID!) { updateExperiment(id: $id, input: { tags: [" cyberpunk ", "keeper", "keeper"], notes: "best so far" }) { name tags notes updatedAt createdAt } }`, { id });
  assert.deepEqual(data.updateExperiment.tags, ['cyberpunk', 'keeper']);
  assert.equal(data.updateExperiment.notes, 'best so far');
  assert.equal(data.updateExperiment.name, 'neon-rain');
  assert.ok(Date.parse(data.updateExperiment.updatedAt) >= Date.parse(data.updateExperiment.createdAt));
  const empty = await gql(server.url, 'mutation($id: ID!) { updateExperiment(id: $id, input: {}) { id } }', { id });
  assert.equal(empty.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.deepEqual(empty.errors?.[0]?.extensions?.argumentPath, ['input']);
});
