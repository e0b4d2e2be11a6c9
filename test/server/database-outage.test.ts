// With MONGODB_URI pointing at a database that goes away: /healthz turns 503, queries fail
// with a masked INTERNAL_SERVER_ERROR (no hosts or driver details), the server stays up,
// and both recover when the database is back on the same address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded/index.ts';
import { gql, gqlData, startTestServer, type TestServer } from './harness.ts';

let dir: string;
let engine: EmbeddedMongo;
let server: TestServer;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'database-outage-'));
  engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), port: 0, quiet: true });
  server = await startTestServer({ mongoUri: `${engine.uri}/outage_test?serverSelectionTimeoutMS=1500` });
});

after(async () => {
  await server?.close();
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function health(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(server.url.replace(/\/graphql$/, '/healthz'));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('healthz follows the database; errors are masked; the server survives the outage', async () => {
  assert.deepEqual((await health()).status, 200);
  await gqlData(server.url, '{ experiments { totalCount } }');

  const port = engine.port;
  await engine.stop();
  const down = await health();
  assert.equal(down.status, 503);
  assert.equal(down.body.database, 'unreachable');

  const failed = await gql(server.url, '{ experiments { totalCount } }');
  assert.equal(failed.errors?.[0]?.extensions?.code, 'INTERNAL_SERVER_ERROR');
  assert.doesNotMatch(JSON.stringify(failed.errors), /127\.0\.0\.1|ECONNREFUSED|Mongo|stack/i);
  const info = await gqlData(server.url, '{ serverInfo { version } }');
  assert.equal(info.serverInfo.version, '0.1.0', 'fields that need no database still answer');

  engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), port, quiet: true });
  let recovered = await health();
  for (let i = 0; i < 20 && recovered.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    recovered = await health();
  }
  assert.equal(recovered.status, 200);
  const data = await gqlData(server.url, '{ experiments { totalCount } }');
  assert.equal(data.experiments.totalCount, 0);
});
