// Hostile requests are refused before they run, with a code the client can act on, and the
// server keeps serving: deep queries, huge selections, alias floods, fragment bombs,
// oversized bodies, malformed JSON. Tools' standard introspection query still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getIntrospectionQuery } from 'graphql';
import { gql, gqlData, startTestServer, type TestServer } from './harness.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ limits: { maxBodyBytes: 256 * 1024 } });
});

after(async () => {
  await server?.close();
});

async function assertStillServing(): Promise<void> {
  const data = await gqlData(server.url, '{ serverInfo { version } }');
  assert.equal(data.serverInfo.version, '0.1.0');
}

test('a query nested deeper than the limit is refused (limit maxDepth)', async () => {
  const cycle = (levels: number) => {
    let q = 'id';
    for (let i = 0; i < levels; i++) q = `checkpoints { experiment { ${q} } }`;
    return `{ experiments { edges { node { ${q} } } } }`;
  };
  const ok = await gql(server.url, cycle(3)); // depth 3 + 2*3 + 1 = 10
  assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
  const res = await gql(server.url, cycle(30));
  assert.equal(res.status, 400);
  assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.equal(res.errors?.[0]?.extensions?.limit, 'maxDepth');
  assert.match(res.errors![0]!.message, /at most 10/);
  assert.equal(res.data, undefined, 'nothing executed');
  await assertStillServing();
});

test('depth hidden in fragments counts too', async () => {
  const fragments = Array.from({ length: 12 }, (_, i) =>
    `fragment F${i} on Experiment { checkpoints { experiment { ${i === 11 ? 'id' : `...F${i + 1}`} } } }`).join('\n');
  const res = await gql(server.url, `{ experiments { edges { node { ...F0 } } } }\n${fragments}`);
  assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.equal(res.errors?.[0]?.extensions?.limit, 'maxDepth');
});

test('too many fields, a fragment bomb and an alias flood are refused (limits maxFields, maxAliases)', async () => {
  const wide = `{ ${Array.from({ length: 1001 }, () => 'serverInfo { version }').join(' ')} }`;
  const wideRes = await gql(server.url, wide);
  assert.equal(wideRes.errors?.[0]?.extensions?.limit, 'maxFields');

  // Each fragment spreads the next twice: 2^40 fields once expanded, a few hundred bytes on the wire.
  const bomb = Array.from({ length: 40 }, (_, i) =>
    `fragment B${i} on ServerInfo { ${i === 39 ? 'version' : `...B${i + 1} ...B${i + 1}`} }`).join('\n');
  const bombRes = await gql(server.url, `{ serverInfo { ...B0 } }\n${bomb}`);
  assert.equal(bombRes.errors?.[0]?.extensions?.limit, 'maxFields');

  const aliases = `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: serverInfo { version }`).join(' ')} }`;
  const aliasRes = await gql(server.url, aliases);
  assert.equal(aliasRes.errors?.[0]?.extensions?.limit, 'maxAliases');
  assert.match(aliasRes.errors![0]!.message, /aliases/);
  await assertStillServing();
});

test('a document with more tokens than the limit is refused while parsing, before validation', async () => {
  const huge = `{ ${Array.from({ length: 5000 }, () => 'serverInfo { version }').join(' ')} }`; // 20,002 tokens
  const res = await gql(server.url, huge);
  assert.equal(res.status, 400);
  assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_PARSE_FAILED');
  assert.match(res.errors![0]!.message, /15000 tokens/);
  await assertStillServing();
});

test('the standard introspection query is allowed', async () => {
  const res = await gql(server.url, getIntrospectionQuery());
  assert.equal(res.errors, undefined, JSON.stringify(res.errors?.[0]));
  assert.equal(res.data?.__schema.queryType.name, 'Query');
});

test('introspection nested beyond its own limit is refused', async () => {
  let q = 'name';
  for (let i = 0; i < 10; i++) q = `fields { type { ${q} } }`;
  const res = await gql(server.url, `{ __schema { types { ${q} } } }`);
  assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
  assert.equal(res.errors?.[0]?.extensions?.limit, 'maxIntrospectionDepth');
});

test('a body over the size limit is refused with 413 PAYLOAD_TOO_LARGE', async () => {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ serverInfo { version } } # ${'x'.repeat(300 * 1024)}` }),
  });
  assert.equal(res.status, 413);
  const body = (await res.json()) as any;
  assert.equal(body.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
  await assertStillServing();
});

test('a body that is not JSON is refused with 400', async () => {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
  assert.equal(res.status, 400);
  const body = (await res.json()) as any;
  assert.equal(body.errors[0].extensions.code, 'BAD_REQUEST');
  await assertStillServing();
});
