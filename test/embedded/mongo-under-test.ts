// The database a conformance test talks to: MongoDB itself when MONGODB_URI is set (the
// compatibility promise: the same suite passes there), otherwise a fresh embedded engine in a
// temporary directory. Each test file gets its own database, dropped at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo, type EmbeddedMongoOptions } from '../../src/embedded/index.ts';

export interface MongoUnderTest {
  uri: string;
  client: MongoClient;
  db: Db;
  /** True when the suite runs against a real MongoDB (MONGODB_URI). */
  external: boolean;
  close(): Promise<void>;
}

export async function openMongoUnderTest(label: string, engineOptions: Partial<EmbeddedMongoOptions> = {}): Promise<MongoUnderTest> {
  const external = Boolean(process.env.MONGODB_URI);
  let engine: EmbeddedMongo | undefined;
  let dataDir: string | undefined;
  let uri = process.env.MONGODB_URI ?? '';
  if (!external) {
    dataDir = mkdtempSync(path.join(tmpdir(), `embedded-${label}-`));
    engine = await startEmbeddedMongo({ dataDir, port: 0, quiet: true, ...engineOptions });
    uri = engine.uri;
  }
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(`conformance_${label}_${process.pid}_${Date.now() % 100000}`.slice(0, 63));
  return {
    uri,
    client,
    db,
    external,
    async close() {
      await db.dropDatabase().catch(() => {});
      await client.close();
      await engine?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Documents of any shape and _id type. The driver's schema typing (which assumes ObjectId _ids)
 * is not what these tests exercise; the server's behaviour is.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDocument = any;
