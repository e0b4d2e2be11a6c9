// RedisPubSub against a real Redis: what one instance publishes reaches the subscribers of
// another with ObjectIds and Dates intact, topics are SUBSCRIBEd once per process and
// UNSUBSCRIBEd with their last subscriber, a slow subscriber's buffer stays bounded, and a
// killed subscriber connection reconnects and resubscribes by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import type { Redis } from 'ioredis';
import { MAX_BUFFERED_PER_SUBSCRIBER } from '../../src/jobs/pubsub.ts';
import { RedisPubSub } from '../../src/jobs/redis-pubsub.ts';
import { openPubSub, pubsubSettingsFrom } from '../../src/jobs/pubsub-settings.ts';
import { loadServerConfig } from '../../src/server/config.ts';
import { adminClient, TEST_REDIS_URL, uniquePrefix } from './redis-fixture.ts';

const prefix = uniquePrefix('pubsub');
const logB: string[] = [];
let a: RedisPubSub;
let b: RedisPubSub;
let admin: Redis;

before(async () => {
  a = await RedisPubSub.connect({ url: TEST_REDIS_URL, channelPrefix: prefix, log: () => {} });
  b = await RedisPubSub.connect({ url: TEST_REDIS_URL, channelPrefix: prefix, log: (l) => logB.push(l) });
  admin = adminClient();
});

after(async () => {
  await a?.close();
  await b?.close();
  admin?.disconnect();
});

async function redisSubscribers(topic: string): Promise<number> {
  const [, count] = (await admin.pubsub('NUMSUB', prefix + topic)) as [string, number];
  return count;
}

/** Commands on one connection run in order: once a later SUBSCRIBE is acknowledged, earlier (UN)SUBSCRIBEs are done. */
async function settled(pubsub: RedisPubSub): Promise<void> {
  const barrier = pubsub.subscribe(`barrier-${Math.random()}`);
  await barrier.ready;
  await barrier.return!();
}

test('a payload published by one instance reaches the other with its ObjectIds and Dates', async () => {
  const sub = b.subscribe<{ _id: ObjectId; at: Date; nested: { ids: ObjectId[] }; loss: number; none: null }>('experimentUpdated:p1');
  await sub.ready;
  const id = new ObjectId();
  const at = new Date('2026-11-25T07:00:00.123Z');
  a.publish('experimentUpdated:p1', { _id: id, at, nested: { ids: [id] }, loss: 1.25, none: null });
  const { value } = await sub.next();
  assert.ok(value._id instanceof ObjectId && value._id.equals(id), 'ObjectId survives');
  assert.ok(value.nested.ids[0] instanceof ObjectId);
  assert.ok(value.at instanceof Date && value.at.getTime() === at.getTime(), 'Date survives');
  assert.equal(value.loss, 1.25);
  assert.equal(value.none, null);
  await sub.return!();
});

test('one SUBSCRIBE per topic per process; UNSUBSCRIBE when its last local subscriber leaves', async () => {
  const topic = 'trainingProgress:t2';
  const first = b.subscribe(topic);
  const second = b.subscribe(topic);
  await Promise.all([first.ready, second.ready]);
  assert.equal(b.subscriberCount(topic), 2);
  assert.equal(a.subscriberCount(topic), 0, 'the count is of local subscribers');
  assert.equal(await redisSubscribers(topic), 1, 'one Redis subscription for both');

  a.publish(topic, { n: 1 });
  assert.deepEqual((await first.next()).value, { n: 1 });
  assert.deepEqual((await second.next()).value, { n: 1 });

  await first.return!();
  await settled(b);
  assert.equal(await redisSubscribers(topic), 1, 'still subscribed for the second');
  await second.return!();
  await settled(b);
  assert.equal(b.subscriberCount(topic), 0);
  assert.equal(await redisSubscribers(topic), 0, 'unsubscribed with the last one');
  assert.equal((await first.next()).done, true);
});

test('a subscriber that does not read keeps only the newest payloads', async () => {
  const topic = 'trainingProgress:t3';
  const idle = b.subscribe<{ n: number }>(topic);
  const reader = b.subscribe<{ n: number | 'end' }>(topic);
  await reader.ready;
  const total = MAX_BUFFERED_PER_SUBSCRIBER + 5;
  for (let n = 0; n < total; n++) a.publish(topic, { n });
  a.publish(topic, { n: 'end' });
  // Both are fed by the same message handler: when the reader has the end, so has the idle one.
  for (;;) if ((await reader.next()).value.n === 'end') break;
  assert.deepEqual((await idle.next()).value, { n: 6 }, 'the oldest 6 of 10,006 were dropped');
  await idle.return!();
  await reader.return!();
});

test('a killed subscriber connection reconnects, resubscribes, and logs the outage once', { timeout: 30_000 }, async () => {
  const topic = 'trainingProgress:t4';
  const sub = b.subscribe<{ n: number }>(topic);
  await sub.ready;
  const clients = (await admin.client('LIST')) as string;
  // Both instances name their subscriber alike; kill every one of this test's prefix.
  const ids = clients.split('\n').filter((l) => l.includes(` name=${prefix}subscriber `)).map((l) => /^id=(\d+)/.exec(l)![1]!);
  assert.equal(ids.length, 2, 'both subscriber connections are named after the prefix');
  for (const id of ids) await admin.client('KILL', 'ID', id);

  let received: { n: number } | undefined;
  const receiving = sub.next().then((r) => (received = r.value));
  for (let n = 0; received === undefined; n++) {
    a.publish(topic, { n });
    await Promise.race([receiving, new Promise((r) => setTimeout(r, 50))]);
  }
  assert.equal(typeof received.n, 'number');
  const newIds = ((await admin.client('LIST')) as string).split('\n').filter((l) => l.includes(` name=${prefix}subscriber `)).map((l) => /^id=(\d+)/.exec(l)![1]!);
  assert.ok(newIds.every((id) => !ids.includes(id)), 'new connections');
  assert.equal(logB.filter((l) => l.includes('lost the Redis subscriber connection')).length, 1, logB.join('\n'));
  assert.equal(logB.filter((l) => l.includes('Redis subscriber connection') && l.includes('is back')).length, 1, logB.join('\n'));
  await sub.return!();
});

test('an unreachable Redis is a start-up error naming the URL and the ways out', async () => {
  await assert.rejects(
    RedisPubSub.connect({ url: 'redis://:secret@127.0.0.1:1', channelPrefix: prefix }),
    (err: Error) => {
      assert.match(err.message, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
      assert.doesNotMatch(err.message, /secret/);
      assert.match(err.message, /ECONNREFUSED/);
      assert.match(err.message, /REDIS_URL/);
      assert.match(err.message, /PUBSUB=memory/);
      return true;
    },
  );
});

test('settings: memory by default, redis from the config file section or PUBSUB / REDIS_URL', async () => {
  assert.deepEqual(pubsubSettingsFrom(undefined), { kind: 'memory', url: 'redis://127.0.0.1:6379', channelPrefix: 'lora-registry:' });
  const config = loadServerConfig({ file: 'configs/server.yaml', env: { PUBSUB: 'redis', REDIS_URL: 'redis://cache:6380/2' } });
  assert.deepEqual(pubsubSettingsFrom(config.pubsub), { kind: 'redis', url: 'redis://cache:6380/2', channelPrefix: 'lora-registry:' });
  assert.throws(() => pubsubSettingsFrom({ kind: 'kafka' }), /pubsub\.kind \(or PUBSUB\) must be one of memory, redis, got "kafka"/);
  assert.throws(() => pubsubSettingsFrom({ url: 'http://x' }), /pubsub\.url \(or REDIS_URL\) must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/x"/);
  assert.throws(() => pubsubSettingsFrom({ channel: 'x' }), /pubsub\.channel is not a setting; known: kind, url, channelPrefix/);
  const memory = await openPubSub(pubsubSettingsFrom({}), () => {});
  assert.equal(memory.pubsub.constructor.name, 'InMemoryPubSub');
});
