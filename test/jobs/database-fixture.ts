// A fresh embedded engine in a temp directory, reached through the official driver.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded/index.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';

export interface TestDatabase {
  db: Db;
  client: MongoClient;
  engine: EmbeddedMongo;
  dir: string;
  close(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lora-jobs-'));
  const engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), port: 0, quiet: true });
  const client = new MongoClient(engine.uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const database: TestDatabase = {
    db: client.db('lora_registry_test'),
    client,
    engine,
    dir,
    async close() {
      await client.close();
      // `this.engine`, not the first one: an outage test replaces the engine mid-test.
      await database.engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return database;
}

/** A fresh database with the metric store's indexes, and the metrics repository over it. */
export async function startMetricsDatabase(): Promise<{ database: TestDatabase; metrics: MetricsRepository }> {
  const database = await startTestDatabase();
  const metrics = new MetricsRepository(database.db);
  await metrics.ensureIndexes();
  return { database, metrics };
}
