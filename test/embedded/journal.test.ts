// The engine's journal: restart keeps the data, a torn or corrupt tail is cut off (and only the
// tail), compaction bounds the file and keeps the state, and a data directory has one owner.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongoOptions } from '../../src/embedded/index.ts';
import { JOURNAL_FILE } from '../../src/embedded/journal.ts';

const dirs: string[] = [];
function freshDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'embedded-journal-'));
  dirs.push(dir);
  return dir;
}

/** Start an engine on dataDir, run `work` with a connected client, stop. */
async function withEngine<T>(dataDir: string, work: (client: MongoClient) => Promise<T>, options: Partial<EmbeddedMongoOptions> = {}): Promise<T> {
  const engine = await startEmbeddedMongo({ dataDir, port: 0, quiet: true, ...options });
  const client = new MongoClient(engine.uri);
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.close();
    await engine.stop();
  }
}

describe('journal', () => {
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('brings back documents, updates, deletes, indexes and drops after a restart', async () => {
    const dataDir = freshDataDir();
    await withEngine(dataDir, async (client) => {
      const db = client.db('keep');
      await db.collection('a').insertMany([{ _id: 1, v: 1 }, { _id: 2, v: 2 }, { _id: 3, v: 3 }] as never[]);
      await db.collection('a').updateOne({ _id: 2 } as never, { $set: { v: 20 } });
      await db.collection('a').deleteOne({ _id: 3 } as never);
      await db.collection('a').createIndex({ v: 1 }, { unique: true });
      await db.collection('gone').insertOne({ x: 1 });
      await db.collection('gone').drop();
      await client.db('dropped').collection('c').insertOne({ x: 1 });
      await client.db('dropped').dropDatabase();
    });
    await withEngine(dataDir, async (client) => {
      const db = client.db('keep');
      assert.deepEqual(await db.collection('a').find().toArray(), [{ _id: 1, v: 1 }, { _id: 2, v: 20 }]);
      assert.deepEqual((await db.collection('a').listIndexes().toArray()).map((i) => i.name), ['_id_', 'v_1']);
      await assert.rejects(db.collection('a').insertOne({ v: 1 }), (err: { code?: number }) => err.code === 11000);
      assert.deepEqual((await db.listCollections().toArray()).map((c) => c.name), ['a']);
      assert.ok(!(await client.db('admin').admin().listDatabases()).databases.some((d) => d.name === 'dropped'));
    });
  });

  it('cuts off a torn last record and keeps everything before it', async () => {
    const dataDir = freshDataDir();
    await withEngine(dataDir, (client) => client.db('t').collection('c').insertMany(Array.from({ length: 50 }, (_, i) => ({ i }))));
    const journal = path.join(dataDir, JOURNAL_FILE);
    const intactSize = statSync(journal).size;
    // A record header promising 1000 bytes, followed by only 10: a write torn by a crash.
    const torn = Buffer.alloc(18);
    torn.writeUInt32LE(1000, 0);
    appendFileSync(journal, torn);
    await withEngine(dataDir, async (client) => {
      assert.equal(await client.db('t').collection('c').countDocuments(), 50);
      await client.db('t').collection('c').insertOne({ i: 50 });
    });
    assert.ok(statSync(journal).size > intactSize, 'new records follow the intact ones');
    await withEngine(dataDir, async (client) => assert.equal(await client.db('t').collection('c').countDocuments(), 51));
  });

  it('stops replay at a record that fails its checksum', async () => {
    const dataDir = freshDataDir();
    const journal = path.join(dataDir, JOURNAL_FILE);
    await withEngine(dataDir, async (client) => {
      await client.db('t').collection('c').insertOne({ _id: 'first' } as never);
    });
    const sizeAfterFirst = statSync(journal).size;
    await withEngine(dataDir, async (client) => {
      await client.db('t').collection('c').insertOne({ _id: 'second', text: 'abcdefghij' } as never);
    });
    const bytes = readFileSync(journal);
    bytes[bytes.length - 3] ^= 0xff; // flip bits inside the last record's payload
    writeFileSync(journal, bytes);
    await withEngine(dataDir, async (client) => {
      assert.deepEqual(await client.db('t').collection('c').find().toArray(), [{ _id: 'first' }]);
    });
    assert.equal(statSync(journal).size, sizeAfterFirst, 'the corrupt record was cut off');
  });

  it('compacts a journal of many overwrites and keeps the state', async () => {
    const dataDir = freshDataDir();
    const journal = path.join(dataDir, JOURNAL_FILE);
    await withEngine(
      dataDir,
      async (client) => {
        const coll = client.db('t').collection('counters');
        await coll.createIndex({ name: 1 }, { unique: true });
        await coll.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, name: `c${i}`, n: 0, pad: 'p'.repeat(500) })) as never[]);
        for (let round = 0; round < 100; round++) await coll.updateMany({}, { $inc: { n: 1 } });
        await coll.deleteOne({ _id: 19 } as never);
      },
      { journalCompactAtBytes: 64 * 1024 },
    );
    // 100 rounds rewrite 20 documents of ~0.5 KB each: about 1 MB of records without compaction.
    assert.ok(statSync(journal).size < 256 * 1024, `journal is ${statSync(journal).size} bytes after compaction`);
    await withEngine(dataDir, async (client) => {
      const coll = client.db('t').collection('counters');
      const docs = await coll.find().toArray();
      assert.equal(docs.length, 19);
      assert.ok(docs.every((d) => d.n === 100));
      await assert.rejects(coll.insertOne({ name: 'c3' }), (err: { code?: number }) => err.code === 11000, 'the unique index came back');
    });
  });

  it('compacts at start-up a journal that grew past the threshold', async () => {
    const dataDir = freshDataDir();
    const journal = path.join(dataDir, JOURNAL_FILE);
    await withEngine(dataDir, async (client) => {
      const coll = client.db('t').collection('c');
      await coll.insertOne({ _id: 'only', n: 0, pad: 'p'.repeat(2000) } as never);
      for (let i = 0; i < 200; i++) await coll.updateOne({ _id: 'only' } as never, { $inc: { n: 1 } });
    });
    const before = statSync(journal).size;
    assert.ok(before > 200 * 2000, `the journal holds every rewrite (${before} bytes)`);
    await withEngine(dataDir, async (client) => {
      assert.equal(statSync(journal).size < 16 * 1024, true, `compacted to ${statSync(journal).size} bytes`);
      assert.equal((await client.db('t').collection('c').findOne({ _id: 'only' } as never))?.n, 200);
    }, { journalCompactAtBytes: 64 * 1024 });
  });

  it('refuses a data directory that another running engine holds', async () => {
    const dataDir = freshDataDir();
    const engine = await startEmbeddedMongo({ dataDir, port: 0, quiet: true });
    try {
      await assert.rejects(startEmbeddedMongo({ dataDir, port: 0, quiet: true }), /in use by another embedded engine/);
    } finally {
      await engine.stop();
    }
    const again = await startEmbeddedMongo({ dataDir, port: 0, quiet: true });
    await again.stop();
  });

  it('refuses a journal file it did not write', async () => {
    const dataDir = freshDataDir();
    writeFileSync(path.join(dataDir, JOURNAL_FILE), 'this is somebody else\'s file');
    await assert.rejects(startEmbeddedMongo({ dataDir, port: 0, quiet: true }), /not a journal of this engine/);
    assert.equal(readFileSync(path.join(dataDir, JOURNAL_FILE), 'utf8'), 'this is somebody else\'s file', 'the file is left as it was');
  });
});
