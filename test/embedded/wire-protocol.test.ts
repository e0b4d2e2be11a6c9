// Conformance at the byte level: OP_MSG with a CRC-32C checksum and with a document-sequence
// section is served; a malformed message closes that connection and the server keeps serving.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BSON, type Document } from 'bson';
import { crc32c } from '../../src/embedded/crc32c.ts';
import { openMongoUnderTest, type MongoUnderTest } from './mongo-under-test.ts';

function opMsg(requestId: number, body: Document, options: { checksum?: boolean; flags?: number; sequence?: { identifier: string; docs: Document[] } } = {}): Buffer {
  const parts: Buffer[] = [Buffer.from([0]), Buffer.from(BSON.serialize(body))];
  if (options.sequence) {
    const docs = Buffer.concat(options.sequence.docs.map((d) => Buffer.from(BSON.serialize(d))));
    const identifier = Buffer.from(`${options.sequence.identifier}\0`);
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + identifier.length + docs.length);
    parts.push(Buffer.from([1]), size, identifier, docs);
  }
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE((options.checksum ? 1 : 0) | (options.flags ?? 0));
  const payload = Buffer.concat([flags, ...parts]);
  const header = Buffer.alloc(16);
  const length = 16 + payload.length + (options.checksum ? 4 : 0);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  const message = Buffer.concat([header, payload, Buffer.alloc(options.checksum ? 4 : 0)]);
  if (options.checksum) message.writeUInt32LE(crc32c(message, 0, message.length - 4), message.length - 4);
  return message;
}

function hostAndPort(uri: string): { host: string; port: number } {
  const match = /^mongodb:\/\/(?:[^@/]*@)?\[?([^\]/:,]+)\]?(?::(\d+))?/.exec(uri);
  assert.ok(match, `cannot read host from ${uri}`);
  return { host: match[1], port: Number(match[2] ?? 27017) };
}

async function openSocket(uri: string): Promise<Socket> {
  const { host, port } = hostAndPort(uri);
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Send one message and read one reply's body document (OP_MSG, section kind 0). */
async function roundTrip(socket: Socket, message: Buffer): Promise<Document> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= received.readInt32LE(0)) {
        socket.off('data', onData);
        assert.equal(received.readInt32LE(12), 2013, 'reply is OP_MSG');
        resolve(BSON.deserialize(received.subarray(21, received.readInt32LE(0))));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(message);
  });
}

describe('wire protocol', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('wire');
  });
  after(() => mongo.close());

  it('serves an OP_MSG whose checksum is present and correct', async () => {
    const socket = await openSocket(mongo.uri);
    try {
      const reply = await roundTrip(socket, opMsg(1, { ping: 1, $db: 'admin' }, { checksum: true }));
      assert.equal(reply.ok, 1);
    } finally {
      socket.destroy();
    }
  });

  it('answers the legacy OP_QUERY isMaster handshake with OP_REPLY', async () => {
    const socket = await openSocket(mongo.uri);
    try {
      const query = Buffer.from(BSON.serialize({ isMaster: 1 }));
      const collection = Buffer.from('admin.$cmd\0');
      const fields = Buffer.alloc(12); // flags, then numberToSkip 0, numberToReturn -1
      fields.writeInt32LE(-1, 8);
      const header = Buffer.alloc(16);
      const length = 16 + 4 + collection.length + 8 + query.length;
      header.writeInt32LE(length, 0);
      header.writeInt32LE(7, 4);
      header.writeInt32LE(2004, 12);
      const message = Buffer.concat([header, fields.subarray(0, 4), collection, fields.subarray(4), query]);
      const reply = await new Promise<Buffer>((resolve) => {
        let received = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (received.length >= 4 && received.length >= received.readInt32LE(0)) resolve(received);
        });
        socket.write(message);
      });
      assert.equal(reply.readInt32LE(8), 7, 'responseTo is the request id');
      assert.equal(reply.readInt32LE(12), 1, 'OP_REPLY');
      assert.equal(reply.readInt32LE(32), 1, 'one document returned');
      const body = BSON.deserialize(reply.subarray(36));
      assert.equal(body.ok, 1);
      assert.equal(body.ismaster, true);
    } finally {
      socket.destroy();
    }
  });

  it('sends no reply to a moreToCome request and never sets moreToCome on a reply, replies in request order', async () => {
    const moreToCome = 1 << 1;
    const exhaustAllowed = 1 << 16;
    const socket = await openSocket(mongo.uri);
    try {
      const db = mongo.db.databaseName;
      // All in one write, so the server has several requests in hand at once.
      const requests = [
        opMsg(11, { insert: 'unacknowledged', documents: [{ _id: 1 }], writeConcern: { w: 0 }, $db: db }, { flags: moreToCome }),
        opMsg(12, { insert: 'acknowledged', $db: db }, { sequence: { identifier: 'documents', docs: Array.from({ length: 200 }, (_, i) => ({ _id: i })) } }),
        opMsg(13, { ping: 1, $db: 'admin' }, { flags: exhaustAllowed }),
        opMsg(14, { insert: 'unacknowledged', documents: [{ _id: 2 }], writeConcern: { w: 0 }, $db: db }, { flags: moreToCome }),
        opMsg(15, { find: 'acknowledged', filter: {}, batchSize: 1000, $db: db }, { checksum: true }),
      ];
      const replies = await new Promise<Buffer[]>((resolve, reject) => {
        let received = Buffer.alloc(0);
        const frames: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          while (received.length >= 4 && received.length >= received.readInt32LE(0)) {
            frames.push(received.subarray(0, received.readInt32LE(0)));
            received = received.subarray(received.readInt32LE(0));
          }
          // The find answers last: once it is in, any reply to a moreToCome request would be too.
          if (frames.some((f) => f.readInt32LE(8) === 15)) setTimeout(() => resolve(frames), 50);
        });
        socket.once('error', reject);
        socket.write(Buffer.concat(requests));
      });
      assert.deepEqual(replies.map((r) => r.readInt32LE(8)), [12, 13, 15], 'one reply per acknowledged request, in order');
      for (const reply of replies) {
        assert.equal(reply.readInt32LE(12), 2013);
        assert.equal(reply.readUInt32LE(16) & moreToCome, 0, `reply to ${reply.readInt32LE(8)} has moreToCome set`);
      }
      const found = BSON.deserialize(replies[2].subarray(21, 21 + replies[2].readInt32LE(21)));
      assert.equal(found.cursor.firstBatch.length, 200);
      assert.equal(await mongo.db.collection('unacknowledged').countDocuments(), 2);
    } finally {
      socket.destroy();
    }
  });

  it('takes insert documents from a document-sequence section', async () => {
    const socket = await openSocket(mongo.uri);
    try {
      const reply = await roundTrip(socket, opMsg(2, { insert: 'sequenced', $db: mongo.db.databaseName }, { sequence: { identifier: 'documents', docs: [{ _id: 1 }, { _id: 2 }, { _id: 3 }] } }));
      assert.equal(reply.ok, 1);
      assert.equal(reply.n, 3);
      assert.equal(await mongo.db.collection('sequenced').countDocuments(), 3);
    } finally {
      socket.destroy();
    }
  });

  it('refuses a document over 16 MiB sent past the driver\'s own check', async () => {
    const socket = await openSocket(mongo.uri);
    try {
      const huge = { _id: 'huge', blob: 'z'.repeat(16 * 1024 * 1024 + 100) };
      const reply = await roundTrip(socket, opMsg(4, { insert: 'oversized', $db: mongo.db.databaseName }, { sequence: { identifier: 'documents', docs: [huge] } }));
      const code = reply.ok === 1 ? reply.writeErrors?.[0]?.code : reply.code;
      assert.equal(code, 10334, JSON.stringify({ ...reply, errmsg: reply.errmsg ?? reply.writeErrors?.[0]?.errmsg }));
      assert.equal(await mongo.db.collection('oversized').countDocuments(), 0);
    } finally {
      socket.destroy();
    }
  });

  it('closes a connection that sends a malformed message and keeps serving the others', async () => {
    const healthy = await openSocket(mongo.uri);
    const broken = await openSocket(mongo.uri);
    try {
      const closed = new Promise<void>((resolve) => broken.once('close', () => resolve()));
      const garbage = Buffer.alloc(64, 0xab);
      garbage.writeInt32LE(64, 0);
      garbage.writeInt32LE(2013, 12); // OP_MSG whose body is not BSON
      broken.write(garbage);
      await closed;
      const reply = await roundTrip(healthy, opMsg(3, { ping: 1, $db: 'admin' }));
      assert.equal(reply.ok, 1);
      assert.equal((await mongo.db.command({ ping: 1 })).ok, 1, 'the driver still gets through');
    } finally {
      healthy.destroy();
      broken.destroy();
    }
  });

  it('closes a connection that declares an impossible message length', async () => {
    const broken = await openSocket(mongo.uri);
    const closed = new Promise<void>((resolve) => broken.once('close', () => resolve()));
    const header = Buffer.alloc(16);
    header.writeInt32LE(-5, 0);
    broken.write(header);
    await closed;
    assert.equal((await mongo.db.command({ ping: 1 })).ok, 1);
  });
});
