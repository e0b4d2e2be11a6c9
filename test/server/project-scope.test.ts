// The caller's project scope narrows every read and write: a caller limited to one
// project cannot see, find by hash, change or delete another project's runs, nor create
// runs in it. (The scope comes from the request headers through `resolveScope`.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_PROJECTS, projectsScope } from '../../src/store/scope.ts';
import { gqlData, startTestServer, type GraphQLResponse, type TestServer } from './harness.ts';
import { CREATE_EXPERIMENT, hashOf, runInput } from './fixtures.ts';

let server: TestServer;
const ids: Record<string, string> = {};

before(async () => {
  server = await startTestServer({
    resolveScope: (headers) => {
      const header = headers['x-test-projects'];
      return typeof header === 'string' ? projectsScope(header.split(',')) : ALL_PROJECTS;
    },
  });
  for (const project of ['vision', 'audio']) {
    const data = await gqlData(server.url, CREATE_EXPERIMENT, { input: runInput({ name: `${project}-run`, project, checkpoints: 1 }) });
    ids[project] = data.createExperiment.id;
  }
});

after(async () => {
  await server?.close();
});

async function asVision(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-test-projects': 'vision' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as object) };
}

test('lists, counts and lookups see only the projects in scope', async () => {
  const list = await asVision('{ experiments { totalCount edges { node { project } } } }');
  assert.deepEqual(list.data?.experiments, { totalCount: 1, edges: [{ node: { project: 'vision' } }] });
  const narrowed = await asVision('{ experiments(filter: { project: "audio" }) { totalCount } }');
  assert.equal(narrowed.data?.experiments.totalCount, 0);
  const foreign = await asVision('query($id: ID!) { experiment(id: $id) { id } }', { id: ids.audio });
  assert.equal(foreign.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  const byHash = await asVision('query($s: String!) { artifactByHash(sha256: $s) { id } }', { s: hashOf('audio-run/final') });
  assert.equal(byHash.data?.artifactByHash, null);
  const own = await asVision('query($s: String!) { artifactByHash(sha256: $s) { experiment { name } } }', { s: hashOf('vision-run/final') });
  assert.equal(own.data?.artifactByHash.experiment.name, 'vision-run');
});

test('writes outside the scope are refused', async () => {
  const create = await asVision(CREATE_EXPERIMENT, { input: runInput({ name: 'sneaky', project: 'audio' }) });
  assert.equal(create.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const update = await asVision('mutation($id: ID!) { updateExperiment(id: $id, input: { notes: "x" }) { id } }', { id: ids.audio });
  assert.equal(update.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  const del = await asVision('mutation($id: ID!) { deleteExperiment(id: $id) { deletedId } }', { id: ids.audio });
  assert.equal(del.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  const all = await gqlData(server.url, '{ experiments { totalCount } }');
  assert.equal(all.experiments.totalCount, 2, 'nothing was created or deleted');
});
