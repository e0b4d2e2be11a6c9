// Conformance: insertMany and bulkWrite, ordered and unordered, with per-item write errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoBulkWriteError, type Document } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

describe('bulk writes', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('bulk');
  });
  after(() => mongo.close());

  it('stops an ordered insertMany at the first duplicate and reports its index', async () => {
    const coll = mongo.db.collection<AnyDocument>('ordered');
    await assert.rejects(coll.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }]), (err: unknown) => {
      assert.ok(err instanceof MongoBulkWriteError);
      assert.equal(err.code, 11000);
      assert.equal(err.insertedCount, 2);
      assert.equal(err.writeErrors instanceof Array ? err.writeErrors.length : 1, 1);
      const first = Array.isArray(err.writeErrors) ? err.writeErrors[0] : err.writeErrors;
      assert.equal(first.index, 2);
      assert.match(first.errmsg ?? '', /E11000 duplicate key error collection: .*\.ordered index: _id_ dup key: \{ _id: 1 \}/);
      return true;
    });
    assert.deepEqual((await coll.find().toArray()).map((d) => d._id), [1, 2]);
  });

  it('goes on past errors in an unordered insertMany', async () => {
    const coll = mongo.db.collection<AnyDocument>('unordered');
    await assert.rejects(coll.insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }], { ordered: false }), (err: unknown) => {
      assert.ok(err instanceof MongoBulkWriteError);
      assert.equal(err.insertedCount, 3);
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      assert.deepEqual(errors.map((e) => [e.index, e.code]), [[1, 11000], [3, 11000]]);
      return true;
    });
    assert.equal(await coll.countDocuments(), 3);
  });

  it('runs a mixed bulkWrite and reports every count', async () => {
    const coll = mongo.db.collection<AnyDocument>('mixed');
    await coll.insertMany([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { _id: 'c', n: 3 }]);
    const result = await coll.bulkWrite([
      { insertOne: { document: { _id: 'd', n: 4 } } },
      { updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 10 } } } },
      { updateMany: { filter: { n: { $gte: 3 } }, update: { $set: { big: true } } } },
      { replaceOne: { filter: { _id: 'b' }, replacement: { n: 20 } } },
      { updateOne: { filter: { _id: 'e' }, update: { $set: { n: 5 } }, upsert: true } },
      { deleteOne: { filter: { _id: 'c' } } },
      { deleteMany: { filter: { n: { $lt: 0 } } } },
    ]);
    assert.equal(result.insertedCount, 1);
    assert.equal(result.matchedCount, 1 + 3 + 1);
    assert.equal(result.modifiedCount, 1 + 3 + 1);
    assert.equal(result.upsertedCount, 1);
    assert.deepEqual(result.upsertedIds, { 4: 'e' });
    assert.equal(result.deletedCount, 1);
    assert.deepEqual(await coll.find().sort({ _id: 1 }).toArray(), [
      { _id: 'a', n: 11, big: true },
      { _id: 'b', n: 20 },
      { _id: 'd', n: 4, big: true },
      { _id: 'e', n: 5 },
    ]);
  });

  it('reports per-item errors of an unordered bulkWrite and applies the rest', async () => {
    const coll = mongo.db.collection<AnyDocument>('bulkerrors');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ _id: 1, email: 'a@x' });
    await assert.rejects(
      coll.bulkWrite(
        [
          { insertOne: { document: { _id: 2, email: 'a@x' } } },
          { insertOne: { document: { _id: 3, email: 'c@x' } } },
          { updateOne: { filter: { _id: 3 }, update: { $set: { email: 'a@x' } } } },
          { insertOne: { document: { _id: 4, email: 'd@x' } } },
        ],
        { ordered: false },
      ),
      (err: unknown) => {
        assert.ok(err instanceof MongoBulkWriteError);
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        assert.deepEqual(errors.map((e) => [e.index, e.code]).sort(), [[0, 11000], [2, 11000]]);
        assert.equal(err.insertedCount, 2);
        return true;
      },
    );
    assert.deepEqual((await coll.find().sort({ _id: 1 }).toArray()).map((d) => d.email), ['a@x', 'c@x', 'd@x']);
  });

  it('inserts a large batch split by the driver across several messages', async () => {
    const coll = mongo.db.collection<AnyDocument>('large');
    const docs = Array.from({ length: 120_000 }, (_, i) => ({ i }));
    const result = await coll.insertMany(docs);
    assert.equal(result.insertedCount, 120_000);
    assert.equal(await coll.countDocuments(), 120_000);
  });
});
