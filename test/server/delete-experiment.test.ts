// deleteExperiment removes the run's metric buckets, checkpoint and artifact records;
// files only with deleteFiles: true, and then only inside the workspace directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import { COLLECTIONS } from '../../src/store/documents.ts';
import { gql, gqlData, startTestServer, type TestServer } from './harness.ts';
import { CREATE_EXPERIMENT, runInput } from './fixtures.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.close();
});

const DELETE = /* GraphQL */ `
  mutation Delete($id: ID!, $deleteFiles: Boolean) {
    deleteExperiment(id: $id, deleteFiles: $deleteFiles) {
      deletedId deletedCheckpoints deletedArtifacts deletedMetricBuckets deletedFiles skippedFiles { path reason }
    }
  }
`;

async function createRunWithFiles(name: string, outputDir: string): Promise<string> {
  const absolute = path.resolve(server.workspaceDir, outputDir);
  await mkdir(path.join(absolute, 'checkpoint-100'), { recursive: true });
  await writeFile(path.join(absolute, 'adapter_model.safetensors'), 'adapter');
  await writeFile(path.join(absolute, 'checkpoint-100', 'adapter_model.safetensors'), 'ckpt');
  const data = await gqlData(server.url, CREATE_EXPERIMENT, { input: runInput({ name, checkpoints: 1, outputDir }) });
  const id = data.createExperiment.id as string;
  // Metric buckets as the metrics area writes them (collection `metrics`, field `experimentId`).
  await server.store.db.collection(COLLECTIONS.metrics).insertMany([
    { _id: `${id}:loss:0` as never, experimentId: new ObjectId(id), key: 'loss', block: 0 },
    { _id: `${id}:lr:0` as never, experimentId: new ObjectId(id), key: 'lr', block: 0 },
  ]);
  await server.store.db.collection(COLLECTIONS.metricRollups).insertOne({ _id: `${id}:loss:0` as never, experimentId: new ObjectId(id), key: 'loss', group: 0 });
  return id;
}

async function countFor(collection: string, id: string): Promise<number> {
  return server.store.db.collection(collection).countDocuments({ experimentId: new ObjectId(id) });
}

test('records go with the experiment; files stay unless asked', async () => {
  const keep = await createRunWithFiles('keep-files', 'keep-files');
  const other = await createRunWithFiles('neighbour', 'neighbour');
  const data = await gqlData(server.url, DELETE, { id: keep });
  assert.deepEqual(data.deleteExperiment, {
    deletedId: keep, deletedCheckpoints: 1, deletedArtifacts: 2, deletedMetricBuckets: 2, deletedFiles: [], skippedFiles: [],
  });
  for (const collection of [COLLECTIONS.metrics, COLLECTIONS.metricRollups, COLLECTIONS.checkpoints, COLLECTIONS.artifacts]) {
    assert.equal(await countFor(collection, keep), 0, collection);
  }
  assert.equal(await countFor(COLLECTIONS.metrics, other), 2, 'other runs keep their metrics');
  assert.equal(await countFor(COLLECTIONS.metricRollups, other), 1, 'other runs keep their metric rollups');
  assert.equal(await countFor(COLLECTIONS.artifacts, other), 2);
  assert.equal(existsSync(path.join(server.workspaceDir, 'keep-files', 'adapter_model.safetensors')), true);
  const again = await gql(server.url, 'query($id: ID!) { experiment(id: $id) { id } }', { id: keep });
  assert.equal(again.errors?.[0]?.extensions?.code, 'NOT_FOUND');
});

test('deleteFiles: true removes the output directory inside the workspace', async () => {
  const id = await createRunWithFiles('drop-files', 'drop-files');
  const data = await gqlData(server.url, DELETE, { id, deleteFiles: true });
  assert.deepEqual(data.deleteExperiment.deletedFiles, [path.join(server.workspaceDir, 'drop-files')]);
  assert.deepEqual(data.deleteExperiment.skippedFiles, []);
  assert.equal(existsSync(path.join(server.workspaceDir, 'drop-files')), false);
  assert.equal(existsSync(path.join(server.workspaceDir, 'neighbour')), true);
});

test('deleteFiles: true never touches paths that escape the workspace', async () => {
  const outside = path.join(server.workspaceDir, '..', 'outside-workspace');
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'precious.safetensors'), 'keep');
  const input = runInput({ name: 'escape', outputDir: '../outside-workspace' });
  input.artifacts = [{ sha256: 'f'.repeat(64), kind: 'ADAPTER', format: 'safetensors', path: path.join(outside, 'precious.safetensors'), bytes: 4 }];
  const created = await gqlData(server.url, CREATE_EXPERIMENT, { input });
  const data = await gqlData(server.url, DELETE, { id: created.createExperiment.id, deleteFiles: true });
  assert.deepEqual(data.deleteExperiment.deletedFiles, []);
  assert.equal(data.deleteExperiment.skippedFiles.length, 2);
  for (const skipped of data.deleteExperiment.skippedFiles) assert.match(skipped.reason, /outside the workspace/);
  assert.equal(existsSync(path.join(outside, 'precious.safetensors')), true);
});
