// The engine's compiled fast paths ($group with the standard accumulators, $sort + $limit,
// $skip, $limit, $project/$addFields, $unwind) must give exactly mingo's result on the same
// data (except $unwind of an empty string or document, where they follow MongoDB).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId, type Document } from 'bson';
import { Aggregator } from 'mingo';
import { runFastStages } from '../../src/embedded/pipeline-fast-paths.ts';
import { openMongoUnderTest } from './mongo-under-test.ts';

/** Deterministic data with the awkward cases: missing fields, nulls, mixed types, nesting. */
function sampleDocuments(count: number): Document[] {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  return Array.from({ length: count }, (_, i) => {
    const doc: Document = { _id: i, rank: [4, 8, 16, 32][i % 4], loss: Math.round(random() * 1000) / 100, status: ['COMPLETED', 'FAILED', 'RUNNING'][i % 3] };
    if (i % 7 !== 0) doc.config = { lr: [0.001, 0.01, 0.1][i % 3], rank: doc.rank };
    if (i % 11 === 0) doc.loss = null;
    if (i % 13 === 0) delete doc.loss;
    if (i % 17 === 0) doc.loss = 'n/a';
    // NaN only where mingo's own accumulators are consistent about it (not $min/$max/$sort).
    doc.score = i % 19 === 0 ? Number.NaN : i % 23 === 0 ? 'none' : (i % 101) / 7;
    doc.when = new Date(1_700_000_000_000 + (i % 50) * 1000);
    doc.name = `run-${(i * 7919) % count}`;
    // Search tokens: words with repeats, an empty list, null, or none at all.
    // Attempts: an array of documents (unwound, then grouped by a path inside the elements).
    if (i % 4 !== 3) doc.attempts = Array.from({ length: i % 4 }, (_, k) => ({ lr: [0.1, 0.01][k % 2], ok: (i + k) % 3 === 0 }));
    if (i % 10 === 0) doc.tokens = null;
    else if (i % 9 !== 0) doc.tokens = i % 31 === 0 ? [] : Array.from({ length: 1 + (i % 5) }, (_, k) => ['ukiyo', '富士山', 'cat', 'a', 'b'][(i * (k + 3)) % 5]);
    return doc;
  });
}

const docs = sampleDocuments(3000);

const pipelines: Document[][] = [
  [{ $group: { _id: '$rank', avg: { $avg: '$loss' } } }],
  [{ $group: { _id: '$rank', n: { $sum: 1 }, total: { $sum: '$loss' }, avg: { $avg: '$loss' }, min: { $min: '$loss' }, max: { $max: '$loss' } } }],
  [{ $group: { _id: '$config.lr', first: { $first: '$name' }, last: { $last: '$name' }, count: { $count: {} }, latest: { $max: '$when' }, earliest: { $min: '$when' } } }],
  [{ $group: { _id: { r: '$rank', s: '$status' }, names: { $push: '$name' }, ranks: { $addToSet: '$config.rank' } } }],
  [{ $group: { _id: null, avg: { $avg: '$loss' }, statuses: { $addToSet: '$status' } } }],
  [{ $group: { _id: { score: '$score', s: '$status', when: '$when' }, n: { $sum: 1 } } }],
  [{ $group: { _id: { score: '$score', s: '$status' }, n: { $sum: 1 } } }],
  [{ $group: { _id: '$score', n: { $sum: 1 } } }],
  // Keys of primitives (null tokens) and of arrays mixed: groups come out in first-seen order.
  [{ $match: { tokens: { $exists: true } } }, { $group: { _id: { r: '$rank', t: '$tokens', s: '$score' }, n: { $sum: 1 } } }],
  [{ $group: { _id: { lr: '$config.lr', s: '$status', name: '$name' }, n: { $sum: 1 } } }, { $group: { _id: '$n', groups: { $sum: 1 } } }],
  [{ $group: { _id: '$status', losses: { $push: '$loss' }, first: { $first: '$loss' }, last: { $last: '$config.lr' }, seen: { $addToSet: '$loss' } } }],
  [{ $group: { _id: '$missingField', n: { $sum: 1 }, weighted: { $sum: 0.1 } } }],
  [{ $group: { _id: '$config.rank', pop: { $stdDevPop: '$loss' }, samp: { $stdDevSamp: '$loss' }, avg: { $avg: '$loss' } } }],
  [{ $group: { _id: '$status', sum: { $sum: '$score' }, avg: { $avg: '$score' }, pop: { $stdDevPop: '$score' }, n: { $count: {} } } }],
  [{ $match: { status: { $in: ['FAILED', 'RUNNING'] }, rank: { $gte: 16 } } }, { $sort: { name: 1 } }, { $limit: 5 }],
  [{ $group: { _id: '$rank', avg: { $avg: '$loss' } } }, { $match: { avg: { $gt: 4.8 } } }],
  [{ $match: { loss: { $gt: -Infinity, $lt: Infinity } } }, { $group: { _id: '$config.rank', count: { $sum: 1 }, avg: { $avg: '$loss' }, min: { $min: '$loss' }, max: { $max: '$loss' }, stddev: { $stdDevPop: '$loss' } } }, { $sort: { _id: 1 } }],
  [{ $group: { _id: '$rank', avg: { $avg: '$loss' } } }, { $sort: { avg: -1 } }, { $limit: 2 }],
  [{ $sort: { loss: -1, name: 1 } }, { $limit: 25 }],
  [{ $sort: { when: 1, _id: -1 } }, { $limit: 10 }, { $skip: 3 }],
  [{ $sort: { 'config.lr': 1, name: -1 } }, { $limit: 7 }],
  [{ $skip: 2990 }, { $limit: 5 }],
  [
    { $match: { tokens: { $in: ['富士山', 'ukiyo'] } } },
    { $project: { _id: 1, tokens: 1 } },
    { $addFields: { matchedWords: { $setIntersection: [{ $ifNull: ['$tokens', []] }, ['富士山', 'ukiyo']] } } },
    { $project: { _id: 1, matchedWords: 1, searchScore: { $size: '$matchedWords' } } },
    { $sort: { searchScore: -1, _id: -1 } },
    { $limit: 21 },
  ],
  [{ $project: { name: 1, rank: 1 } }, { $limit: 50 }],
  [{ $project: { _id: 0, name: 1, n: { $size: { $ifNull: ['$tokens', []] } }, lr: '$config.lr', fixed: 'x', when: 1 } }],
  [{ $set: { both: { $setIntersection: [['cat', 'a', 'zzz'], '$tokens'] }, first: { $ifNull: ['$loss', '$score', null] } } }],
  [{ $addFields: { rank: { $ifNull: ['$config.rank', null] }, n: { $size: { $ifNull: ['$tokens', ['none']] } } } }, { $group: { _id: '$n', ranks: { $addToSet: '$rank' } } }],
  // $unwind over arrays, empty arrays, null and missing fields, and a field that is not an array.
  [{ $unwind: '$tokens' }],
  [{ $unwind: { path: '$tokens' } }, { $limit: 40 }],
  [{ $unwind: { path: '$tokens', preserveNullAndEmptyArrays: true } }],
  [{ $unwind: { path: '$tokens', includeArrayIndex: 'at' } }],
  [{ $unwind: { path: '$tokens', includeArrayIndex: 'rank', preserveNullAndEmptyArrays: true } }],
  [{ $unwind: { path: '$tokens', preserveNullAndEmptyArrays: false, includeArrayIndex: 'at' } }, { $unwind: { path: '$rank', includeArrayIndex: 'i' } }],
  [{ $unwind: { path: '$loss', preserveNullAndEmptyArrays: true } }],
  [
    { $match: { loss: { $gt: -Infinity, $lt: Infinity } } },
    { $unwind: { path: '$tokens', preserveNullAndEmptyArrays: true } },
    { $group: { _id: '$tokens', count: { $sum: 1 }, avg: { $avg: '$loss' }, values: { $push: '$loss' } } },
    { $sort: { _id: 1 } },
  ],
  [{ $unwind: '$tokens' }, { $group: { _id: { rank: '$rank', token: '$tokens' }, n: { $sum: 1 }, losses: { $push: '$loss' } } }, { $sort: { '_id.rank': 1, '_id.token': -1 } }],
  // Straight into $group: the group reads the index, the emptied field, nested element paths, and no field at all.
  [{ $unwind: { path: '$tokens', includeArrayIndex: 'at', preserveNullAndEmptyArrays: true } }, { $group: { _id: '$at', n: { $sum: 1 }, tokens: { $push: '$tokens' }, names: { $addToSet: '$status' } } }, { $sort: { _id: 1 } }],
  [{ $unwind: '$attempts' }, { $group: { _id: { lr: '$attempts.lr', ok: '$attempts.ok' }, n: { $sum: 1 }, avg: { $avg: '$loss' }, first: { $first: '$name' }, last: { $last: '$attempts' } } }, { $sort: { '_id.lr': 1, '_id.ok': 1 } }],
  [{ $unwind: { path: '$attempts', preserveNullAndEmptyArrays: true } }, { $group: { _id: null, n: { $count: {} }, attempts: { $push: '$attempts' } } }],
  [{ $unwind: { path: '$config', includeArrayIndex: 'i' } }, { $group: { _id: '$config.lr', n: { $sum: 1 }, i: { $addToSet: '$i' } } }, { $sort: { _id: 1 } }],
];

/** mingo on a copy: its $unwind edits the documents it reads, which would hide differences. */
function mingoOnly(pipeline: Document[]): Document[] {
  return new Aggregator(pipeline).run(structuredClone(docs)) as Document[];
}

describe('pipeline fast paths agree with mingo', () => {
  for (const pipeline of pipelines) {
    it(JSON.stringify(pipeline), () => {
      const fast = runFastStages(docs, pipeline);
      assert.ok(fast.rest.length < pipeline.length, 'the fast path took at least one stage');
      const result = fast.rest.length ? (new Aggregator(fast.rest).run(fast.docs) as Document[]) : fast.docs;
      assert.deepEqual(result, mingoOnly(pipeline));
    });
  }

  it('leaves expressions it does not compile to mingo', () => {
    const pipeline = [{ $group: { _id: { $toUpper: '$status' }, n: { $sum: 1 } } }];
    const fast = runFastStages(docs, pipeline);
    assert.equal(fast.rest.length, 1);
    assert.equal(fast.docs, docs);
  });

  it('leaves $project/$addFields to mingo where a value needs it ($size of a non-array, a missing result)', () => {
    for (const stage of [{ $project: { n: { $size: '$tokens' } } }, { $addFields: { copy: '$notThere' } }, { $project: { name: 0 } }, { $project: { name: 1, 'config.lr': 1 } }]) {
      const fast = runFastStages(docs, [stage]);
      assert.equal(fast.rest.length, 1, JSON.stringify(stage));
      assert.equal(fast.docs, docs);
    }
  });

  it('leaves $unwind of a nested path or with an unknown option to mingo', () => {
    for (const stage of [{ $unwind: '$config.rank' }, { $unwind: { path: '$tokens', includeArrayIndex: 'a.b' } }, { $unwind: { path: '$tokens', extra: 1 } }, { $unwind: 'tokens' }]) {
      const fast = runFastStages(docs, [stage]);
      assert.equal(fast.rest.length, 1, JSON.stringify(stage));
    }
  });

  it('$unwind keeps an empty string or empty document as a one-element array, as MongoDB does (mingo drops them)', () => {
    const input = [{ _id: 1, v: '' }, { _id: 2, v: {} }, { _id: 3, v: [] }, { _id: 4, v: null }, { _id: 5 }, { _id: 6, v: [{}, ''] }];
    assert.deepEqual(runFastStages(input, [{ $unwind: { path: '$v', includeArrayIndex: 'i' } }]).docs, [
      { _id: 1, v: '', i: null }, { _id: 2, v: {}, i: null }, { _id: 6, v: {}, i: 0 }, { _id: 6, v: '', i: 1 },
    ]);
    assert.deepEqual(runFastStages(input, [{ $unwind: { path: '$v', preserveNullAndEmptyArrays: true } }]).docs, [
      { _id: 1, v: '' }, { _id: 2, v: {} }, { _id: 3 }, { _id: 4, v: null }, { _id: 5 }, { _id: 6, v: {} }, { _id: 6, v: '' },
    ]);
    assert.deepEqual(input[2], { _id: 3, v: [] }, 'the input documents are left as they were');
  });

  it('orders ObjectIds, dates and numbers in a top-k as BSON does (ties to the next key), other types through mingo', () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({
      _id: i,
      // Repeated ids and times, a string among the ObjectIds (BSON puts strings before them).
      ref: i % 29 === 0 ? `ref-${i}` : ObjectId.createFromTime(1_700_000_000 + ((i * 37) % 150)),
      when: new Date(1_700_000_000_000 + ((i * 13) % 40) * 1000),
    }));
    const rank = (r: (typeof rows)[number]) => (typeof r.ref === 'string' ? `0${r.ref}` : `1${r.ref.toHexString()}`);
    const byRefDescending = [...rows].sort((a, b) => rank(b).localeCompare(rank(a)) || a.when.getTime() - b.when.getTime() || a._id - b._id);
    const top = runFastStages(rows, [{ $sort: { ref: -1, when: 1, _id: 1 } }, { $limit: 60 }]);
    assert.equal(top.rest.length, 0);
    assert.deepEqual(top.docs.map((r) => r._id), byRefDescending.slice(0, 60).map((r) => r._id));
    const bottom = runFastStages(rows, [{ $sort: { ref: 1, when: -1, _id: -1 } }, { $limit: 30 }]);
    assert.deepEqual(bottom.docs.map((r) => r._id), [...byRefDescending].reverse().slice(0, 30).map((r) => r._id));
  });

  it('leaves a sort on array values to mingo', () => {
    const withArrays = [{ _id: 1, v: [3, 1] }, { _id: 2, v: 2 }];
    const fast = runFastStages(withArrays, [{ $sort: { v: 1 } }, { $limit: 1 }]);
    assert.equal(fast.rest.length, 2);
  });

  it('puts NaN below every number in $min and $max, as BSON order does', () => {
    const values = [{ v: 3 }, { v: Number.NaN }, { v: 1 }, { v: null }, {}];
    const [row] = runFastStages(values, [{ $group: { _id: null, min: { $min: '$v' }, max: { $max: '$v' } } }]).docs;
    assert.ok(Number.isNaN(row.min));
    assert.equal(row.max, 3);
  });
});

describe('a leading $match on an indexed field agrees with mingo', () => {
  it('gives mingo\'s result through the driver, answered from the index', async () => {
    const mongo = await openMongoUnderTest('fastmatch');
    try {
      const coll = mongo.db.collection('runs');
      await coll.insertMany(docs.map((d) => ({ ...d })));
      await coll.createIndex({ status: 1 });
      const pipelines: Document[][] = [
        [{ $match: { status: 'FAILED' } }, { $group: { _id: '$rank', avg: { $avg: '$loss' }, n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
        [{ $match: { status: { $in: ['FAILED', 'RUNNING'] }, rank: { $gte: 16 } } }, { $sort: { name: 1 } }, { $limit: 5 }],
      ];
      for (const pipeline of pipelines) {
        assert.deepEqual(await coll.aggregate(pipeline).toArray(), mingoOnly(pipeline), JSON.stringify(pipeline));
      }
      // find with sort + limit takes the top-k path: same documents as mingo's full sort.
      const topTen = await coll.find({ rank: { $gte: 8 } }).sort({ loss: -1, name: 1 }).skip(3).limit(10).toArray();
      assert.deepEqual(topTen, mingoOnly([{ $match: { rank: { $gte: 8 } } }, { $sort: { loss: -1, name: 1 } }, { $skip: 3 }, { $limit: 10 }]));
      const plan = await coll.find({ status: 'FAILED' }).explain('executionStats');
      assert.equal(plan.executionStats.totalDocsExamined, docs.filter((d) => d.status === 'FAILED').length);
    } finally {
      await mongo.close();
    }
  });
});
