// Newest-first pages and word intersections: a filter sorted on _id with a limit is answered by
// walking the _id order and stopping at the limit, and `$and` of several values of one indexed
// array field looks at the documents holding all of them. Results are checked against a
// plain sort of every document; how few documents were examined is the engine's promise (on
// MongoDB, MONGODB_URI, only the results are checked).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';
import { IdOrder } from '../../src/embedded/id-order.ts';
import { Rng } from '../../src/training/rng.ts';

/** Deterministic pseudo-random numbers in [0, 1). */
function seeded(seed: number): () => number {
  const rng = Rng.fromSeed(seed);
  return () => rng.nextFloat();
}

/** `count` documents with ObjectIds one second apart, inserted in a shuffled order. */
function makeDocs(count: number, random: () => number): AnyDocument[] {
  const docs = Array.from({ length: count }, (_, i) => {
    const words = ['common'];
    if (i % 2 === 0) words.push('half');
    if (i % 97 === 0) words.push('rare');
    return { _id: ObjectId.createFromTime(1_700_000_000 + i), n: i, words };
  });
  for (let i = docs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [docs[i], docs[j]] = [docs[j]!, docs[i]!];
  }
  return docs;
}

function byIdDescending(docs: AnyDocument[]): AnyDocument[] {
  return [...docs].sort((a, b) => b._id.toHexString().localeCompare(a._id.toHexString()));
}

describe('sorted walks over _id and index intersection', () => {
  let mongo: MongoUnderTest;
  before(async () => {
    mongo = await openMongoUnderTest('idwalk');
  });
  after(() => mongo.close());

  it('returns the newest matches of a broad filter after out-of-order inserts and deletes, examining few documents', async () => {
    const coll = mongo.db.collection<AnyDocument>('runs');
    await coll.createIndex({ words: 1 });
    const docs = makeDocs(3000, seeded(7));
    // In several batches, so appends and out-of-order inserts mix.
    for (let i = 0; i < docs.length; i += 500) await coll.insertMany(docs.slice(i, i + 500));
    const removed = new Set(docs.filter((d) => d.n % 5 === 0).map((d) => d.n));
    await coll.deleteMany({ n: { $in: [...removed] } });
    const alive = docs.filter((d) => !removed.has(d.n));

    const expectHalf = byIdDescending(alive.filter((d) => d.words.includes('half'))).map((d) => d.n);
    assert.deepEqual((await coll.find({ words: 'half' }).sort({ _id: -1 }).limit(10).toArray()).map((d) => d.n), expectHalf.slice(0, 10));
    assert.deepEqual((await coll.find({ words: 'half' }).sort({ _id: -1 }).skip(7).limit(5).toArray()).map((d) => d.n), expectHalf.slice(7, 12));
    assert.deepEqual((await coll.find({ words: 'half' }).sort({ _id: 1 }).limit(4).toArray()).map((d) => d.n), [...expectHalf].reverse().slice(0, 4));
    const page = await coll.aggregate([{ $match: { words: 'half' } }, { $sort: { _id: -1 } }, { $limit: 6 }, { $project: { n: 1 } }]).toArray();
    assert.deepEqual(page.map((d) => d.n), expectHalf.slice(0, 6));

    // A re-inserted document takes its place in the order again.
    const newest = byIdDescending(alive)[0]!;
    await coll.deleteOne({ _id: newest._id });
    assert.notEqual((await coll.find({}).sort({ _id: -1 }).limit(1).toArray())[0].n, newest.n);
    await coll.insertOne(newest);
    assert.equal((await coll.find({}).sort({ _id: -1 }).limit(1).toArray())[0].n, newest.n);

    if (!mongo.external) {
      const explained = await coll.find({ words: 'half' }).sort({ _id: -1 }).limit(10).explain('executionStats');
      assert.ok(explained.executionStats.totalDocsExamined <= 40, `examined ${explained.executionStats.totalDocsExamined} of ${expectHalf.length} candidates`);
    }
  });

  it('falls back to the index when the filter is too selective for the walk, with the same results', async () => {
    const coll = mongo.db.collection<AnyDocument>('runs');
    const expectRare = byIdDescending(await coll.find({}).toArray()).filter((d) => d.words.includes('rare')).map((d) => d.n);
    assert.ok(expectRare.length > 5);
    assert.deepEqual((await coll.find({ words: 'rare' }).sort({ _id: -1 }).limit(5).toArray()).map((d) => d.n), expectRare.slice(0, 5));
    if (!mongo.external) {
      const explained = await coll.find({ words: 'rare' }).sort({ _id: -1 }).limit(5).explain('executionStats');
      // The walk gives up after as many documents as the index names, then reads those.
      assert.ok(explained.executionStats.totalDocsExamined <= expectRare.length, `examined ${explained.executionStats.totalDocsExamined}`);
    }
  });

  it('intersects several values of one indexed array field', async () => {
    const coll = mongo.db.collection<AnyDocument>('runs');
    const all = await coll.find({}).toArray();
    const both = byIdDescending(all.filter((d) => d.words.includes('half') && d.words.includes('rare'))).map((d) => d.n);
    assert.ok(both.length > 0);
    const filter = { $and: [{ words: 'common' }, { words: 'half' }, { words: 'rare' }] };
    assert.deepEqual((await coll.find(filter).sort({ _id: -1 }).toArray()).map((d) => d.n), both);
    assert.deepEqual(await coll.find({ $and: [{ words: 'rare' }, { words: 'never' }] }).toArray(), []);
    if (!mongo.external) {
      const explained = await coll.find(filter).explain('executionStats');
      assert.equal(explained.executionStats.totalDocsExamined, both.length);
      const disjoint = await coll.find({ $and: [{ words: 'half' }, { words: 'never' }] }).explain('executionStats');
      assert.equal(disjoint.executionStats.totalDocsExamined, 0);
    }
  });

  it('answers $all from the index and $or as the union of its branches\' lookups', async () => {
    const coll = mongo.db.collection<AnyDocument>('runs');
    const all = await coll.find({}).toArray();
    const has = (d: AnyDocument, w: string) => d.words.includes(w);
    const allOf = byIdDescending(all.filter((d) => has(d, 'half') && has(d, 'rare'))).map((d) => d.n);
    assert.deepEqual((await coll.find({ words: { $all: ['half', 'rare'] } }).sort({ _id: -1 }).toArray()).map((d) => d.n), allOf);
    // Runs with at least two of three words, none with all three: a search tier's filter.
    const filter = {
      $or: [{ words: { $all: ['half', 'rare'] } }, { words: { $all: ['rare', 'never'] } }, { words: { $all: ['half', 'never'] } }],
      $nor: [{ words: { $all: ['half', 'rare', 'never'] } }],
    };
    assert.deepEqual((await coll.find(filter).sort({ _id: -1 }).limit(5).toArray()).map((d) => d.n), allOf.slice(0, 5));
    const either = byIdDescending(all.filter((d) => has(d, 'rare') || d.n % 500 === 1)).map((d) => d.n);
    assert.deepEqual((await coll.find({ $or: [{ words: 'rare' }, { n: { $in: [1, 501, 1001, 1501, 2001, 2501] } }] }).sort({ _id: -1 }).toArray()).map((d) => d.n), either);
    if (!mongo.external) {
      const explainedAll = await coll.find({ words: { $all: ['half', 'rare'] } }).explain('executionStats');
      assert.equal(explainedAll.executionStats.totalDocsExamined, allOf.length);
      const explainedOr = await coll.find(filter).explain('executionStats');
      assert.equal(explainedOr.executionStats.totalDocsExamined, allOf.length);
    }
  });

  it('answers lookups on the fields before _id in an index like {n: 1, _id: 1}', async () => {
    const coll = mongo.db.collection<AnyDocument>('runs');
    await coll.createIndex({ n: 1, _id: 1 });
    const [one] = await coll.find({ n: 7 }).toArray();
    assert.equal(one.n, 7);
    assert.deepEqual((await coll.find({ n: 7, _id: one._id }).toArray()).map((d) => d.n), [7]);
    assert.deepEqual(await coll.find({ n: 7, _id: new ObjectId() }).toArray(), []);
    if (!mongo.external) {
      const explained = await coll.find({ n: 7 }).explain('executionStats');
      assert.equal(explained.executionStats.totalDocsExamined, 1);
      assert.equal(explained.queryPlanner.winningPlan.inputStage.indexName, 'n_1__id_1');
    }
  });

  it('sorts non-ObjectId _ids correctly (they take the general path)', async () => {
    const coll = mongo.db.collection<AnyDocument>('mixed');
    await coll.insertMany([{ _id: 10, k: 1 }, { _id: 9, k: 1 }, { _id: 'b', k: 1 }, { _id: new ObjectId(), k: 1 }, { _id: 100, k: 2 }]);
    assert.deepEqual((await coll.find({ k: 1 }).sort({ _id: 1 }).limit(3).toArray()).map((d) => d._id), [9, 10, 'b']);
  });
});

describe('IdOrder', () => {
  it('keeps ascending ObjectId keys through random inserts and removals', () => {
    const random = seeded(11);
    const order = new IdOrder();
    const present = new Set<string>();
    const key = () => `o${Math.floor(random() * 0xffffff).toString(16).padStart(24, '0')}`;
    for (let round = 0; round < 2000; round++) {
      const roll = random();
      if (roll < 0.6) {
        const k = key();
        if (!present.has(k)) {
          present.add(k);
          order.inserted(k);
        }
      } else if (present.size > 0) {
        const k = [...present][Math.floor(random() * present.size)]!;
        present.delete(k);
        order.removed(k);
        if (roll > 0.9) {
          present.add(k); // removed and inserted again
          order.inserted(k);
        }
      }
      if (round % 97 === 0) assert.deepEqual(order.ascendingKeys((k) => present.has(k)), [...present].sort());
    }
    assert.deepEqual(order.ascendingKeys((k) => present.has(k)), [...present].sort());
  });

  it('offers no order while a non-ObjectId key is present', () => {
    const order = new IdOrder();
    order.inserted('oaaaaaaaaaaaaaaaaaaaaaaaa');
    order.inserted('n5');
    assert.equal(order.ascendingKeys(() => true), null);
    order.removed('n5');
    assert.deepEqual(order.ascendingKeys(() => true), ['oaaaaaaaaaaaaaaaaaaaaaaaa']);
  });
});
