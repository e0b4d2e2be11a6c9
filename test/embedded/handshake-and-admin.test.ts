// Conformance: the handshake and server-level commands, as the official driver sees them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoServerError } from 'mongodb';
import { openMongoUnderTest, type MongoUnderTest } from './mongo-under-test.ts';

describe('handshake and server commands', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('handshake');
  });
  after(() => mongo.close());

  it('answers hello as a writable standalone with a wire version range the driver accepts', async () => {
    const hello = await mongo.db.admin().command({ hello: 1 });
    assert.equal(hello.ok, 1);
    assert.equal(hello.isWritablePrimary, true);
    assert.ok(hello.maxWireVersion >= 9, `maxWireVersion ${hello.maxWireVersion}`);
    assert.ok(hello.minWireVersion <= hello.maxWireVersion);
    assert.equal(hello.maxBsonObjectSize, 16 * 1024 * 1024);
    const legacy = await mongo.db.admin().command({ isMaster: 1 });
    assert.equal(legacy.ismaster, true);
  });

  it('answers ping, buildInfo and listDatabases', async () => {
    assert.equal((await mongo.db.command({ ping: 1 })).ok, 1);
    const info = await mongo.db.admin().command({ buildInfo: 1 });
    assert.match(info.version, /^\d+\.\d+/);
    await mongo.db.collection('present').insertOne({ a: 1 });
    const { databases } = await mongo.db.admin().listDatabases();
    assert.ok(databases.some((d) => d.name === mongo.db.databaseName), 'the test database is listed after a write');
  });

  it('ends sessions the driver opened', async () => {
    const session = mongo.client.startSession();
    await mongo.db.collection('present').findOne({}, { session });
    await session.endSession();
    assert.equal((await mongo.db.admin().command({ endSessions: [session.id] })).ok, 1);
  });

  it('answers an unknown command with CommandNotFound (59)', async () => {
    await assert.rejects(mongo.db.command({ noSuchCommandHere: 1 }), (err: unknown) => {
      assert.ok(err instanceof MongoServerError);
      assert.equal(err.code, 59);
      assert.equal(err.codeName, 'CommandNotFound');
      assert.match(err.message, /noSuchCommandHere/);
      return true;
    });
  });
});
