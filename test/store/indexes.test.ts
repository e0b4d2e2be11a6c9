// Every query path of the core API has an index whose leading key is the queried field,
// created by ensureCoreIndexes (which start-up runs; running it twice is harmless).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded/index.ts';
import { COLLECTIONS } from '../../src/store/documents.ts';
import { EXPERIMENT_SORT_PATHS } from '../../src/store/experiment-sort.ts';
import { ensureCoreIndexes } from '../../src/store/indexes.ts';

let dir: string;
let engine: EmbeddedMongo;
let client: MongoClient;
let db: Db;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'core-indexes-'));
  engine = await startEmbeddedMongo({ dataDir: dir, port: 0, quiet: true });
  client = await new MongoClient(engine.uri).connect();
  db = client.db('indexes_test');
  await ensureCoreIndexes(db);
  await ensureCoreIndexes(db);
});

after(async () => {
  await client?.close();
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function leadingKeys(collection: string): Promise<Set<string>> {
  const indexes = await db.collection(collection).listIndexes().toArray();
  return new Set(indexes.map((index) => Object.keys(index.key as object)[0]!));
}

test('experiments: every sort field and every equality filter leads an index', async () => {
  const leading = await leadingKeys(COLLECTIONS.experiments);
  const queried = [
    ...Object.values(EXPERIMENT_SORT_PATHS),
    'project', 'tags', 'status', 'error.type', 'configHash', 'dataset.sha256', 'baseModel.sha256', 'expiresAt',
  ];
  for (const field of queried) assert.ok(leading.has(field), `no index leads with experiments.${field}`);
});

test('children are indexed by their parent, artifacts by hash, and the TTL index expires runs', async () => {
  assert.ok((await leadingKeys(COLLECTIONS.checkpoints)).has('experimentId'));
  const artifactKeys = await leadingKeys(COLLECTIONS.artifacts);
  for (const field of ['sha256', 'experimentId', 'checkpointId']) assert.ok(artifactKeys.has(field), `artifacts.${field}`);
  assert.ok((await leadingKeys(COLLECTIONS.metrics)).has('experimentId'));
  const ttl = (await db.collection(COLLECTIONS.experiments).listIndexes().toArray()).find((i) => 'expiresAt' in i.key);
  assert.equal(ttl?.expireAfterSeconds, 0);
});
