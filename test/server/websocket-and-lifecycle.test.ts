// One port serves HTTP GraphQL, WebSocket subscriptions at the same path and /healthz;
// stop() drains: open subscriptions are closed and the port is released.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createServer } from '../../src/server/create-server.ts';
import { gqlData, startTestServer, type TestServer } from './harness.ts';

let server: TestServer;
let stopped = false;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  if (!stopped) await server?.close();
});

function wsClient(url: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

test('subscriptions over WebSocket on the same port and path as HTTP', async () => {
  assert.equal(new URL(server.wsUrl).port, new URL(server.url).port);
  assert.equal(new URL(server.wsUrl).pathname, '/graphql');
  const client = wsClient(server.wsUrl);
  try {
    const times: string[] = [];
    const iterator = client.iterate<{ serverTime: string }>({ query: 'subscription { serverTime }' });
    for await (const result of iterator) {
      assert.equal(result.errors, undefined);
      times.push(result.data!.serverTime);
      if (times.length === 2) break;
    }
    assert.equal(times.length, 2);
    assert.ok(Date.parse(times[1]!) > Date.parse(times[0]!), `${times[0]} then ${times[1]}`);
    // Queries work over the socket too, with the same context (store access).
    const result = await new Promise<any>((resolve, reject) => {
      let value: any;
      client.subscribe({ query: '{ experiments(first: 1) { totalCount } }' }, {
        next: (v) => { value = v; },
        error: reject,
        complete: () => resolve(value),
      });
    });
    assert.deepEqual(result.data, { experiments: { totalCount: 0 } });
  } finally {
    await client.dispose();
  }
});

test('the limits apply over WebSocket as well', async () => {
  const client = wsClient(server.wsUrl);
  try {
    const deep = `{ ${'experiments { edges { node { checkpoints { experiment { '.repeat(3)}id${' } } } } }'.repeat(3)} }`;
    const errors = await new Promise<any>((resolve) => {
      client.subscribe({ query: deep }, { next: () => {}, error: resolve, complete: () => resolve(null) });
    });
    assert.ok(Array.isArray(errors), `expected validation errors, got ${JSON.stringify(errors)}`);
    assert.equal(errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(errors[0].extensions.limit, 'maxDepth');
  } finally {
    await client.dispose();
  }
});

test('/healthz reports the database reachable', async () => {
  const res = await fetch(server.url.replace(/\/graphql$/, '/healthz'));
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.status, 'ok');
  assert.equal(body.database, 'reachable');
});

test('a second server on a port in use fails to start with EADDRINUSE; the first keeps serving', async () => {
  await assert.rejects(
    createServer({ port: server.port, host: '127.0.0.1', dataDir: path.join(server.dataDir, 'second'), log: () => {} }),
    /EADDRINUSE/,
  );
  const data = await gqlData(server.url, '{ serverInfo { version } }');
  assert.equal(data.serverInfo.version, '0.1.0');
});

test('stop() drains: subscriptions end, the port closes, the database is released', async () => {
  const client = wsClient(server.wsUrl);
  const ended = new Promise<string>((resolve) => {
    client.subscribe({ query: 'subscription { serverTime }' }, {
      next: () => {},
      error: (err) => resolve(`error: ${(err as { code?: number }).code ?? String(err)}`),
      complete: () => resolve('complete'),
    });
  });
  await gqlData(server.url, '{ serverInfo { version } }');
  await server.close();
  stopped = true;
  const how = await ended;
  assert.match(how, /^(complete|error: 1001)$/, how);
  await assert.rejects(fetch(server.url.replace(/\/graphql$/, '/healthz')));
  await client.dispose();
});
