// Conformance: unique and compound unique indexes, the duplicate-key error, index listing and
// dropping, equality lookups answered by an index (seen through explain), TTL expiry.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { MongoServerError, type Document } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

/** Every plan stage in an explain document, whatever its layout (classic or slot-based). */
function planStages(node: unknown, out: Document[] = []): Document[] {
  if (Array.isArray(node)) node.forEach((n) => planStages(n, out));
  else if (node && typeof node === 'object') {
    if (typeof (node as Document).stage === 'string') out.push(node as Document);
    for (const value of Object.values(node)) planStages(value, out);
  }
  return out;
}

describe('indexes', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    // TTL expiry is checked by the engine every 100 ms here; mongod's monitor runs every 60 s.
    mongo = await openMongoUnderTest('indexes', { ttlSweepIntervalMs: 100 });
  });
  after(() => mongo.close());

  it('enforces a unique index with MongoDB\'s duplicate-key error', async () => {
    const coll = mongo.db.collection<AnyDocument>('users');
    assert.equal(await coll.createIndex({ email: 1 }, { unique: true }), 'email_1');
    await coll.insertOne({ email: 'a@example.com' });
    await assert.rejects(coll.insertOne({ email: 'a@example.com' }), (err: unknown) => {
      assert.ok(err instanceof MongoServerError);
      assert.equal(err.code, 11000);
      assert.match(err.message, new RegExp(`^E11000 duplicate key error collection: ${mongo.db.databaseName}\\.users index: email_1 dup key: \\{ email: "a@example\\.com" \\}$`));
      assert.deepEqual(err.keyPattern, { email: 1 });
      assert.deepEqual(err.keyValue, { email: 'a@example.com' });
      return true;
    });
    const other = await coll.insertOne({ email: 'b@example.com' });
    await assert.rejects(coll.updateOne({ _id: other.insertedId }, { $set: { email: 'a@example.com' } }), (err: { code?: number }) => err.code === 11000);
    assert.equal(await coll.countDocuments({ email: 'a@example.com' }), 1);
  });

  it('enforces a compound unique index on the combination only', async () => {
    const coll = mongo.db.collection<AnyDocument>('pairs');
    await coll.createIndex({ experiment: 1, step: 1 }, { unique: true, name: 'experiment_step' });
    await coll.insertMany([{ experiment: 'e1', step: 1 }, { experiment: 'e1', step: 2 }, { experiment: 'e2', step: 1 }]);
    await assert.rejects(coll.insertOne({ experiment: 'e1', step: 2 }), (err: unknown) => {
      assert.ok(err instanceof MongoServerError);
      assert.equal(err.code, 11000);
      assert.match(err.message, /index: experiment_step dup key: \{ experiment: "e1", step: 2 \}/);
      assert.deepEqual(err.keyValue, { experiment: 'e1', step: 2 });
      return true;
    });
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    const coll = mongo.db.collection<AnyDocument>('dupes');
    await coll.insertMany([{ k: 1 }, { k: 1 }]);
    await assert.rejects(coll.createIndex({ k: 1 }, { unique: true }), (err: { code?: number }) => err.code === 11000);
    assert.deepEqual((await coll.listIndexes().toArray()).map((i) => i.name), ['_id_']);
  });

  it('lists and drops indexes', async () => {
    const coll = mongo.db.collection<AnyDocument>('listing');
    await coll.createIndexes([{ key: { a: 1 } }, { key: { b: -1, c: 1 }, name: 'b_c' }, { key: { at: 1 }, expireAfterSeconds: 3600 }]);
    const indexes = await coll.listIndexes().toArray();
    assert.deepEqual(indexes.map((i) => [i.name, i.key]), [['_id_', { _id: 1 }], ['a_1', { a: 1 }], ['b_c', { b: -1, c: 1 }], ['at_1', { at: 1 }]]);
    assert.equal(indexes.find((i) => i.name === 'at_1')?.expireAfterSeconds, 3600);
    assert.equal(await coll.createIndex({ _id: 1 }), '_id_1', 'asking for the _id index again is accepted');
    await coll.dropIndex('a_1');
    await assert.rejects(coll.dropIndex('a_1'), (err: { code?: number }) => err.code === 27);
    await coll.dropIndexes();
    assert.deepEqual((await coll.listIndexes().toArray()).map((i) => i.name), ['_id_']);
    await assert.rejects(mongo.db.collection('never_made').listIndexes().toArray(), (err: { code?: number }) => err.code === 26);
  });

  it('answers an equality lookup on an indexed field from the index, not a scan', async () => {
    const coll = mongo.db.collection<AnyDocument>('lookups');
    await coll.insertMany(Array.from({ length: 2000 }, (_, i) => ({ sku: `sku-${i}`, bucket: i % 10, plain: i })));
    await coll.createIndex({ sku: 1 }, { unique: true });
    await coll.createIndex({ bucket: 1, sku: 1 });
    const indexed = await coll.find({ sku: 'sku-1234' }).explain('executionStats');
    assert.ok(planStages(indexed.queryPlanner.winningPlan).some((s) => /IXSCAN/.test(s.stage) && s.indexName === 'sku_1'), JSON.stringify(indexed.queryPlanner.winningPlan));
    assert.equal(indexed.executionStats.nReturned, 1);
    assert.ok(indexed.executionStats.totalDocsExamined <= 1, `examined ${indexed.executionStats.totalDocsExamined} documents`);
    const prefix = await coll.find({ bucket: 3 }).explain('executionStats');
    assert.equal(prefix.executionStats.nReturned, 200);
    assert.ok(prefix.executionStats.totalDocsExamined <= 200, `prefix lookup examined ${prefix.executionStats.totalDocsExamined}`);
    const unindexed = await coll.find({ plain: 1234 }).explain('executionStats');
    assert.ok(planStages(unindexed.queryPlanner.winningPlan).some((s) => s.stage === 'COLLSCAN'));
    assert.equal(unindexed.executionStats.totalDocsExamined, 2000);
    assert.deepEqual(await coll.find({ sku: { $in: ['sku-5', 'sku-7', 'nope'] } }, { projection: { _id: 0, plain: 1 } }).sort({ plain: 1 }).toArray(), [{ plain: 5 }, { plain: 7 }]);
  });

  it('keeps compound unique keys apart when a value contains the engine\'s key separator', async () => {
    const coll = mongo.db.collection<AnyDocument>('separators');
    await coll.createIndex({ a: 1, b: 1 }, { unique: true });
    // Spelled naively, both would be the key "sx|sy|sz".
    await coll.insertOne({ a: 'x|sy', b: 'z' });
    await coll.insertOne({ a: 'x', b: 'y|sz' });
    await coll.insertOne({ a: 'x\\', b: '|' });
    await coll.insertOne({ a: 'x\\|', b: '' });
    await assert.rejects(coll.insertOne({ a: 'x|sy', b: 'z' }), (err: { code?: number }) => err.code === 11000);
    assert.deepEqual((await coll.find({ a: 'x', b: 'y|sz' }).toArray()).map((d) => d.b), ['y|sz']);
    assert.deepEqual((await coll.find({ a: 'x|sy' }).toArray()).map((d) => d.b), ['z']);
    assert.equal(await coll.countDocuments({ a: 'x\\' }), 1);
  });

  it('expires documents through a TTL index', async () => {
    const coll = mongo.db.collection<AnyDocument>('sessions');
    await coll.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await coll.insertMany([
      { name: 'old', expiresAt: new Date(Date.now() - 60_000) },
      { name: 'fresh', expiresAt: new Date(Date.now() + 3_600_000) },
      { name: 'no-date', expiresAt: 'not a date' },
    ]);
    // mongod's TTL monitor runs once a minute; the engine under test sweeps every 100 ms.
    const deadline = Date.now() + (mongo.external ? 130_000 : 5_000);
    while ((await coll.countDocuments({ name: 'old' })) > 0) {
      assert.ok(Date.now() < deadline, 'the expired document was not removed in time');
      await sleep(50);
    }
    assert.deepEqual((await coll.find().sort({ name: 1 }).toArray()).map((d) => d.name), ['fresh', 'no-date']);
  });
});
