// Conformance: an upsert may give the new document its _id through the update ($setOnInsert,
// or $set with the filter's own _id), as MongoDB allows; changing an existing _id stays refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

describe('upserts that set _id', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('upsertid');
  });
  after(() => mongo.close());

  it('takes _id from $setOnInsert when the filter is not on _id, and ignores it on a match', async () => {
    const coll = mongo.db.collection<AnyDocument>('set_on_insert');
    const inserted = await coll.updateOne({ name: 'a' }, { $setOnInsert: { _id: 'A' }, $set: { v: 1 } }, { upsert: true });
    assert.equal(inserted.upsertedCount, 1);
    assert.equal(inserted.upsertedId, 'A');
    const matched = await coll.updateOne({ name: 'a' }, { $setOnInsert: { _id: 'other' }, $set: { v: 2 } }, { upsert: true });
    assert.equal(matched.matchedCount, 1);
    assert.equal(matched.upsertedCount, 0);
    const onlySetOnInsert = await coll.updateOne({ name: 'b' }, { $setOnInsert: { _id: 'B' } }, { upsert: true });
    assert.equal(onlySetOnInsert.upsertedId, 'B');
    assert.deepEqual(await coll.find().sort({ _id: 1 }).toArray(), [
      { _id: 'A', name: 'a', v: 2 },
      { _id: 'B', name: 'b' },
    ]);
  });

  it('accepts $set of the filter\'s own _id, on insert and on a match', async () => {
    const coll = mongo.db.collection<AnyDocument>('set_same_id');
    const inserted = await coll.updateOne({ _id: 'C' }, { $set: { _id: 'C', v: 1 } }, { upsert: true });
    assert.equal(inserted.upsertedId, 'C');
    const matched = await coll.updateOne({ _id: 'C' }, { $set: { _id: 'C', v: 2 } }, { upsert: true });
    assert.equal(matched.matchedCount, 1);
    const viaSetOnInsert = await coll.findOneAndUpdate({ _id: 'D' }, { $setOnInsert: { _id: 'D', v: 3 } }, { upsert: true, returnDocument: 'after' });
    assert.deepEqual(viaSetOnInsert, { _id: 'D', v: 3 });
    assert.deepEqual(await coll.find().sort({ _id: 1 }).toArray(), [{ _id: 'C', v: 2 }, { _id: 'D', v: 3 }]);
  });

  it('refuses an _id that differs from the filter\'s, and a change of an existing _id', async () => {
    const coll = mongo.db.collection<AnyDocument>('different_id');
    await assert.rejects(coll.updateOne({ _id: 'E' }, { $setOnInsert: { _id: 'F' } }, { upsert: true }), (err: AnyDocument) => err.code === 66);
    await coll.insertOne({ _id: 'G', name: 'g' });
    await assert.rejects(coll.updateOne({ name: 'g' }, { $set: { _id: 'H' } }, { upsert: true }), (err: AnyDocument) => err.code === 66);
    assert.deepEqual(await coll.find().toArray(), [{ _id: 'G', name: 'g' }]);
  });
});
