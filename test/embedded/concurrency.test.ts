// 100 clients writing and reading at once: every write lands once, counters add up, a unique
// key is won by exactly one client, and each client reads back its own writes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

const CLIENTS = 100;
const WRITES_PER_CLIENT = 10;

describe('concurrency', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('concurrency');
  });
  after(() => mongo.close());

  it('keeps results consistent with 100 clients at once', async () => {
    const dbName = mongo.db.databaseName;
    await mongo.db.collection('claims').createIndex({ key: 1 }, { unique: true });
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => new MongoClient(mongo.uri, { maxPoolSize: 2 }).connect()));
    try {
      const outcomes = await Promise.all(
        clients.map(async (client, c) => {
          const db = client.db(dbName);
          const events = db.collection<AnyDocument>('events');
          const counters = db.collection<AnyDocument>('counters');
          for (let i = 0; i < WRITES_PER_CLIENT; i++) {
            await events.insertOne({ client: c, i });
            await counters.updateOne({ _id: 'shared' }, { $inc: { n: 1 } }, { upsert: true });
            const mine = await events.countDocuments({ client: c });
            assert.equal(mine, i + 1, `client ${c} reads its own ${i + 1} writes`);
          }
          try {
            await db.collection('claims').insertOne({ key: 'the-one', by: c });
            return 'won';
          } catch (err) {
            assert.equal((err as { code?: number }).code, 11000);
            return 'lost';
          }
        }),
      );
      assert.equal(outcomes.filter((o) => o === 'won').length, 1, 'exactly one client holds the unique key');
      assert.equal(await mongo.db.collection('events').countDocuments(), CLIENTS * WRITES_PER_CLIENT);
      assert.equal((await mongo.db.collection<AnyDocument>('counters').findOne({ _id: 'shared' }))?.n, CLIENTS * WRITES_PER_CLIENT);
      const perClient = await mongo.db.collection('events').aggregate([{ $group: { _id: '$client', n: { $sum: 1 }, distinctI: { $addToSet: '$i' } } }]).toArray();
      assert.equal(perClient.length, CLIENTS);
      assert.ok(perClient.every((g) => g.n === WRITES_PER_CLIENT && g.distinctI.length === WRITES_PER_CLIENT));
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  for (const maxPoolSize of [1, undefined]) {
    it(`answers 40 concurrent bulk writes on one client (maxPoolSize ${maxPoolSize ?? 'default'}) while the monitor polls`, async () => {
      const client = await new MongoClient(mongo.uri, { ...(maxPoolSize ? { maxPoolSize } : {}), heartbeatFrequencyMS: 500 }).connect();
      try {
        const coll = client.db(mongo.db.databaseName).collection<AnyDocument>(`bulk_pool_${maxPoolSize ?? 'default'}`);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, b) =>
            coll.bulkWrite(
              [
                ...Array.from({ length: 50 }, (_, i) => ({ insertOne: { document: { _id: `${b}-${i}`, b, i } } })),
                { updateMany: { filter: { b }, update: { $inc: { touched: 1 } } } },
                { updateOne: { filter: { _id: `${b}-counter` }, update: { $inc: { n: 1 } }, upsert: true } },
                { deleteOne: { filter: { _id: `${b}-0` } } },
              ],
              { ordered: b % 2 === 0 },
            ),
          ),
        );
        for (const result of results) {
          assert.equal(result.insertedCount, 50);
          assert.equal(result.modifiedCount, 50);
          assert.equal(result.upsertedCount, 1);
          assert.equal(result.deletedCount, 1);
        }
        assert.equal(await coll.countDocuments(), 40 * 50);
      } finally {
        await client.close();
      }
    });
  }
});
