// Conformance: reading and writing documents through the driver's CRUD API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId, type Collection, type Document } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

describe('CRUD', () => {
  let mongo: MongoUnderTest;
  let items: Collection<AnyDocument>;
  before(async () => {
    mongo = await openMongoUnderTest('crud');
    items = mongo.db.collection<AnyDocument>('items');
    await items.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, n: i, group: i % 3, tags: [`t${i % 5}`], nested: { half: Math.floor(i / 2) } })) as never);
  });
  after(() => mongo.close());

  it('finds with filter, sort, skip, limit and projection', async () => {
    const docs = await items.find({ group: 1, n: { $lt: 100 } }).sort({ n: -1 }).skip(2).limit(5).project({ _id: 0, n: 1, 'nested.half': 1 }).toArray();
    assert.deepEqual(docs, [
      { n: 91, nested: { half: 45 } },
      { n: 88, nested: { half: 44 } },
      { n: 85, nested: { half: 42 } },
      { n: 82, nested: { half: 41 } },
      { n: 79, nested: { half: 39 } },
    ]);
  });

  it('pages a large result through getMore with the requested batch size', async () => {
    const cursor = items.find({}, { batchSize: 7 }).sort({ n: 1 });
    const seen: number[] = [];
    for await (const doc of cursor) seen.push(doc.n as number);
    assert.equal(seen.length, 300);
    assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
    assert.deepEqual(seen.slice(-2), [298, 299]);
  });

  it('kills a cursor that is closed early, and a later getMore on it fails', async () => {
    const cursor = items.find({}, { batchSize: 2 });
    await cursor.next();
    const id = cursor.id;
    assert.ok(id && !id.isZero(), 'the cursor stays open after the first batch');
    await cursor.close();
    await assert.rejects(mongo.db.command({ getMore: id, collection: 'items' }), (err: { code?: number }) => err.code === 43);
  });

  it('counts and finds distinct values', async () => {
    assert.equal(await items.countDocuments({ group: 2 }), 100);
    assert.equal(await items.countDocuments({}, { skip: 10, limit: 20 }), 20);
    assert.equal(await items.estimatedDocumentCount(), 300);
    assert.deepEqual((await items.distinct('tags')).sort(), ['t0', 't1', 't2', 't3', 't4']);
    assert.deepEqual((await items.distinct('group', { n: { $lt: 2 } })).sort(), [0, 1]);
  });

  it('updates with operators, upserts and reports MongoDB counts', async () => {
    const coll = mongo.db.collection<AnyDocument>('updates');
    await coll.insertMany([{ _id: 1, v: 1, list: [1, 2] }, { _id: 2, v: 2, list: [3] }] as never);
    const many = await coll.updateMany({}, { $inc: { v: 10 }, $push: { list: 9 } as never, $set: { touched: true } });
    assert.equal(many.matchedCount, 2);
    assert.equal(many.modifiedCount, 2);
    const same = await coll.updateOne({ _id: 1 } as never, { $set: { touched: true } });
    assert.equal(same.matchedCount, 1);
    assert.equal(same.modifiedCount, 0, 'setting a field to its value modifies nothing');
    const upsert = await coll.updateOne({ key: 'k1', n: { $gt: 5 } }, { $set: { made: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    assert.equal(upsert.upsertedCount, 1);
    assert.ok(upsert.upsertedId instanceof ObjectId);
    const made = await coll.findOne({ _id: upsert.upsertedId } as never);
    assert.deepEqual({ ...made, _id: undefined }, { _id: undefined, key: 'k1', made: 1, created: true });
    const again = await coll.updateOne({ key: 'k1' }, { $set: { made: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    assert.equal(again.matchedCount, 1);
    assert.equal((await coll.findOne({ key: 'k1' }))?.created, true, '$setOnInsert applies only on insert');
    assert.deepEqual(await coll.findOne({ _id: 1 } as never), { _id: 1, v: 11, list: [1, 2, 9], touched: true });
  });

  it('updates array elements through arrayFilters and the positional operator', async () => {
    const coll = mongo.db.collection<AnyDocument>('arrays');
    await coll.insertOne({ _id: 'a', grades: [{ g: 80, k: 'x' }, { g: 95, k: 'y' }, { g: 60, k: 'z' }] } as never);
    await coll.updateOne({ _id: 'a' } as never, { $set: { 'grades.$[low].pass': false } }, { arrayFilters: [{ 'low.g': { $lt: 70 } }] });
    await coll.updateOne({ _id: 'a', 'grades.k': 'y' } as never, { $inc: { 'grades.$.g': 1 } });
    assert.deepEqual((await coll.findOne({ _id: 'a' } as never))?.grades, [{ g: 80, k: 'x' }, { g: 96, k: 'y' }, { g: 60, k: 'z', pass: false }]);
  });

  it('applies pipeline-style updates', async () => {
    const coll = mongo.db.collection<AnyDocument>('pipelined');
    await coll.insertMany([{ _id: 1, a: 2, b: 3 }, { _id: 2, a: 5, b: 5 }] as never);
    const result = await coll.updateMany({}, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'b' }]);
    assert.equal(result.modifiedCount, 2);
    assert.deepEqual(await coll.find().sort({ _id: 1 }).toArray(), [{ _id: 1, a: 2, sum: 5 }, { _id: 2, a: 5, sum: 10 }]);
  });

  it('replaces documents and refuses to change _id', async () => {
    const coll = mongo.db.collection<AnyDocument>('replace');
    await coll.insertOne({ _id: 7, old: true } as never);
    await coll.replaceOne({ _id: 7 } as never, { fresh: 1 });
    assert.deepEqual(await coll.findOne({ _id: 7 } as never), { _id: 7, fresh: 1 });
    await assert.rejects(coll.updateOne({ _id: 7 } as never, { $set: { _id: 8 } }), (err: { code?: number }) => err.code === 66);
  });

  it('deletes one or many', async () => {
    const coll = mongo.db.collection<AnyDocument>('deletes');
    await coll.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }, { k: 3 }]);
    assert.equal((await coll.deleteOne({ k: 1 })).deletedCount, 1);
    assert.equal((await coll.deleteMany({ k: { $in: [1, 2] } })).deletedCount, 2);
    assert.deepEqual(await coll.find({}, { projection: { _id: 0 } }).toArray(), [{ k: 3 }]);
  });

  it('finds and modifies with sort, returning the document before or after', async () => {
    const coll = mongo.db.collection<AnyDocument>('fam');
    await coll.insertMany([{ q: 'job', p: 1, state: 'ready' }, { q: 'job', p: 5, state: 'ready' }]);
    const taken = await coll.findOneAndUpdate({ q: 'job', state: 'ready' }, { $set: { state: 'taken' } }, { sort: { p: -1 }, returnDocument: 'after', projection: { _id: 0 } });
    assert.deepEqual(taken, { q: 'job', p: 5, state: 'taken' });
    const before = await coll.findOneAndUpdate({ q: 'job', state: 'ready' }, { $set: { state: 'taken' } }, { returnDocument: 'before', projection: { _id: 0, state: 1 } });
    assert.deepEqual(before, { state: 'ready' });
    const none = await coll.findOneAndUpdate({ q: 'job', state: 'ready' }, { $set: { state: 'x' } });
    assert.equal(none, null);
    const upserted = await coll.findOneAndUpdate({ q: 'new' }, { $set: { state: 'fresh' } }, { upsert: true, returnDocument: 'after', includeResultMetadata: true });
    assert.equal(upserted.lastErrorObject?.updatedExisting, false);
    assert.equal(upserted.value?.state, 'fresh');
    const removed = await coll.findOneAndDelete({ q: 'new' });
    assert.equal(removed?.state, 'fresh');
    assert.equal(await coll.countDocuments({ q: 'new' }), 0);
  });

  it('round-trips BSON types', async () => {
    const coll = mongo.db.collection<AnyDocument>('types');
    const id = new ObjectId();
    const when = new Date('2024-05-06T07:08:09.010Z');
    await coll.insertOne({ _id: id, when, big: 2 ** 40, f: 1.5, s: 'é', bin: Buffer.from([1, 2, 3]), nil: null, nested: { arr: [1, 'two', { three: 3 }] } } as never);
    const doc = await coll.findOne({ _id: id, when } as never);
    assert.ok(doc);
    assert.equal(doc.when.getTime(), when.getTime());
    assert.equal(doc.big, 2 ** 40);
    assert.equal(doc.f, 1.5);
    assert.equal(doc.s, 'é');
    assert.deepEqual(Buffer.from(doc.bin.buffer), Buffer.from([1, 2, 3]));
    assert.equal(doc.nil, null);
    assert.deepEqual(doc.nested, { arr: [1, 'two', { three: 3 }] });
  });

  it('keeps binary values intact when later large messages arrive on the same connection', async () => {
    const coll = mongo.db.collection<AnyDocument>('binaries');
    const batch = (fill: number) => Array.from({ length: 300 }, (_, i) => ({ _id: fill * 1000 + i, bin: Buffer.alloc(1024, fill), pad: 'p'.repeat(200) }));
    await coll.insertMany(batch(1)); // each batch is one message of ~400 KB
    await coll.insertMany(batch(2));
    await coll.insertMany(batch(3));
    const first = await coll.find({ _id: { $gte: 1000, $lt: 2000 } }).toArray();
    assert.equal(first.length, 300);
    assert.ok(first.every((doc) => Buffer.from(doc.bin.buffer).equals(Buffer.alloc(1024, 1))), 'the first batch still holds its own bytes');
  });

  it('applies an unacknowledged (w: 0) write', async () => {
    const coll = mongo.db.collection<AnyDocument>('unacknowledged');
    await coll.insertOne({ _id: 'fire-and-forget' }, { writeConcern: { w: 0 } });
    // The next command on the connection is answered after the unacknowledged one ran.
    let found = null;
    for (let attempt = 0; attempt < 50 && !found; attempt++) found = await coll.findOne({ _id: 'fire-and-forget' });
    assert.deepEqual(found, { _id: 'fire-and-forget' });
  });

  it('creates, lists and drops collections and databases', async () => {
    await mongo.db.createCollection('made');
    await assert.rejects(mongo.db.createCollection('made'), (err: { code?: number }) => err.code === 48);
    const names = (await mongo.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    assert.ok(names.includes('made') && names.includes('items'));
    const filtered = await mongo.db.listCollections({ name: 'made' }).toArray();
    assert.deepEqual(filtered.map((c) => c.name), ['made']);
    assert.equal(await mongo.db.collection('made').drop(), true);
    assert.ok(!(await mongo.db.listCollections().toArray()).some((c) => c.name === 'made'));
    const other = mongo.client.db(`${mongo.db.databaseName}_x`);
    await other.collection('c').insertOne({ a: 1 });
    assert.equal(await other.dropDatabase(), true);
    assert.equal(await other.collection('c').countDocuments(), 0);
  });
});
