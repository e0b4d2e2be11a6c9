// A fresh embedded engine and driver connection for one analytics test file.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';
import { ensureCoreIndexes } from '../../src/store/indexes.ts';
import { ensureAnalyticsIndexes } from '../../src/store/analytics/analytics-indexes.ts';

export interface TestDatabase {
  db: Db;
  client: MongoClient;
  close(): Promise<void>;
}

export async function openTestDatabase(options: { ttlSweepIntervalMs?: number } = {}): Promise<TestDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lora-analytics-'));
  const engine = await startEmbeddedMongo({ dataDir: dir, port: 0, quiet: true, ...options });
  const client = await MongoClient.connect(engine.uri);
  const db = client.db('analytics_test');
  await ensureCoreIndexes(db);
  await ensureAnalyticsIndexes(db);
  return {
    db,
    client,
    async close() {
      await client.close();
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
