// A fresh database for one analytics test file: the embedded engine (temp data dir, port 0)
// by default, or a throw-away database on the MongoDB at MONGODB_URI when it is set, so the
// same tests check the pipelines against real MongoDB.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';
import { ensureCoreIndexes } from '../../src/store/indexes.ts';
import { ensureAnalyticsIndexes } from '../../src/store/analytics/analytics-indexes.ts';

export interface TestDatabase {
  db: Db;
  client: MongoClient;
  /** True on real MongoDB (MONGODB_URI), whose TTL monitor runs only every 60 s. */
  external: boolean;
  close(): Promise<void>;
}

export async function openTestDatabase(options: { ttlSweepIntervalMs?: number } = {}): Promise<TestDatabase> {
  const external = process.env.MONGODB_URI;
  if (external) {
    const client = await MongoClient.connect(external);
    const db = client.db(`analytics_test_${randomBytes(4).toString('hex')}`);
    await ensureCoreIndexes(db);
    await ensureAnalyticsIndexes(db);
    return {
      db,
      client,
      external: true,
      async close() {
        await db.dropDatabase();
        await client.close();
      },
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lora-analytics-'));
  const engine = await startEmbeddedMongo({ dataDir: dir, port: 0, quiet: true, ...options });
  const client = await MongoClient.connect(engine.uri);
  const db = client.db('analytics_test');
  await ensureCoreIndexes(db);
  await ensureAnalyticsIndexes(db);
  return {
    db,
    client,
    external: false,
    async close() {
      await client.close();
      await engine.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
