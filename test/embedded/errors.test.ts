// Conformance: what is refused, and how. Oversized documents, unsupported operators and stages
// (named in the error), transactions and change streams on a standalone server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoServerError, type Document } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

describe('refusals', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('errors');
  });
  after(() => mongo.close());

  it('refuses a document over 16 MiB on insert and leaves nothing behind', async () => {
    const coll = mongo.db.collection<AnyDocument>('big');
    await assert.rejects(coll.insertOne({ _id: 'huge', blob: 'x'.repeat(16 * 1024 * 1024 + 10) }));
    assert.equal(await coll.countDocuments({ _id: 'huge' }), 0);
  });

  it('refuses an update whose result would pass 16 MiB', async () => {
    const coll = mongo.db.collection<AnyDocument>('grow');
    const nineMiB = 'y'.repeat(9 * 1024 * 1024);
    await coll.insertOne({ _id: 'g', a: nineMiB });
    await assert.rejects(coll.updateOne({ _id: 'g' }, { $set: { b: nineMiB } }), (err: unknown) => {
      assert.ok(err instanceof MongoServerError);
      assert.equal(err.code, 17419);
      assert.match(err.message, /too large/i);
      return true;
    });
    const doc = await coll.findOne({ _id: 'g' }, { projection: { b: 1 } });
    assert.deepEqual(doc, { _id: 'g' });
  });

  it('names an unknown query operator', async () => {
    await assert.rejects(mongo.db.collection('any').find({ a: { $frobnicate: 1 } }).toArray(), (err: unknown) => {
      assert.ok(err instanceof MongoServerError);
      assert.match(err.message, /\$frobnicate/);
      return true;
    });
  });

  it('names an unknown pipeline stage', async () => {
    await mongo.db.collection('any').insertOne({ a: 1 });
    await assert.rejects(mongo.db.collection('any').aggregate([{ $teleport: {} }]).toArray(), (err: unknown) => {
      assert.ok(err instanceof MongoServerError);
      assert.equal(err.code, 40324);
      assert.match(err.message, /\$teleport/);
      return true;
    });
  });

  it('names an unknown expression operator and update operator', async () => {
    await assert.rejects(mongo.db.collection('any').aggregate([{ $project: { x: { $levitate: '$a' } } }]).toArray(), /\$levitate/);
    await assert.rejects(mongo.db.collection('any').updateOne({}, { $teleport: { a: 1 } } as never), /\$teleport/);
  });

  it('refuses transactions with an error naming them', async () => {
    const session = mongo.client.startSession();
    try {
      await assert.rejects(
        session.withTransaction(async () => {
          await mongo.db.collection('tx').insertOne({ a: 1 }, { session });
        }),
        // MongoDB's standalone answer reaches the application rewritten by the driver as
        // advice about retryable writes; the embedded engine names transactions.
        /[Tt]ransaction|retryable writes/,
      );
    } finally {
      await session.endSession();
    }
    assert.equal(await mongo.db.collection('tx').countDocuments(), 0, 'nothing was written by the refused transaction');
  });

  it('refuses change streams with an error naming them', async () => {
    const stream = mongo.db.collection('any').watch();
    await assert.rejects(stream.tryNext(), /\$changeStream|change stream/i);
    await stream.close();
  });
});
