// Conformance: aggregation pipelines through the driver, with MongoDB's results.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Collection, Document } from 'mongodb';
import { openMongoUnderTest, type AnyDocument, type MongoUnderTest } from './mongo-under-test.ts';

const runs = [
  { _id: 1, project: 'a', rank: 4, loss: 1.0, status: 'COMPLETED', tags: ['x', 'y'], steps: 100 },
  { _id: 2, project: 'a', rank: 8, loss: 0.5, status: 'COMPLETED', tags: ['y'], steps: 200 },
  { _id: 3, project: 'b', rank: 4, loss: 2.0, status: 'FAILED', tags: [], steps: 50 },
  { _id: 4, project: 'b', rank: 8, loss: 0.25, status: 'COMPLETED', tags: ['x'], steps: 400 },
  { _id: 5, project: 'b', rank: 16, loss: 0.75, status: 'RUNNING', steps: 300 },
];

describe('aggregation', () => {
  let mongo: MongoUnderTest;
  let coll: Collection<AnyDocument>;
  before(async () => {
    mongo = await openMongoUnderTest('aggregation');
    coll = mongo.db.collection<AnyDocument>('runs');
    await coll.insertMany(runs as Document[]);
    await mongo.db.collection<AnyDocument>('projects').insertMany([{ _id: 'a', owner: 'ann' }, { _id: 'b', owner: 'bob' }]);
  });
  after(() => mongo.close());

  it('groups with the common accumulators', async () => {
    const result = await coll
      .aggregate([
        { $match: { status: { $ne: 'RUNNING' } } },
        { $group: { _id: '$rank', n: { $sum: 1 }, total: { $sum: '$steps' }, avg: { $avg: '$loss' }, min: { $min: '$loss' }, max: { $max: '$loss' }, first: { $first: '$_id' }, last: { $last: '$_id' }, ids: { $push: '$_id' }, projects: { $addToSet: '$project' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    assert.deepEqual(result.map((r) => ({ ...r, projects: [...r.projects].sort() })), [
      { _id: 4, n: 2, total: 150, avg: 1.5, min: 1.0, max: 2.0, first: 1, last: 3, ids: [1, 3], projects: ['a', 'b'] },
      { _id: 8, n: 2, total: 600, avg: 0.375, min: 0.25, max: 0.5, first: 2, last: 4, ids: [2, 4], projects: ['a', 'b'] },
    ]);
  });

  it('groups by a compound key and by null', async () => {
    const byPair = await coll.aggregate([{ $group: { _id: { p: '$project', s: '$status' }, c: { $count: {} } } }, { $sort: { '_id.p': 1, '_id.s': 1 } }]).toArray();
    assert.deepEqual(byPair, [
      { _id: { p: 'a', s: 'COMPLETED' }, c: 2 },
      { _id: { p: 'b', s: 'COMPLETED' }, c: 1 },
      { _id: { p: 'b', s: 'FAILED' }, c: 1 },
      { _id: { p: 'b', s: 'RUNNING' }, c: 1 },
    ]);
    const all = await coll.aggregate([{ $group: { _id: null, avgSteps: { $avg: '$steps' }, stdDev: { $stdDevPop: '$rank' } } }]).toArray();
    assert.equal(all[0].avgSteps, 210);
    assert.ok(Math.abs(all[0].stdDev - Math.sqrt(((4 - 8) ** 2 * 2 + 0 * 2 + 8 ** 2) / 5)) < 1e-9);
  });

  it('projects, adds fields, unwinds, sorts, skips, limits and counts', async () => {
    const result = await coll
      .aggregate([
        { $unwind: '$tags' },
        { $addFields: { lossPct: { $multiply: ['$loss', 100] } } },
        { $project: { _id: 0, id: '$_id', tag: '$tags', lossPct: 1, upper: { $toUpper: '$project' } } },
        { $sort: { lossPct: 1, tag: 1 } },
        { $skip: 1 },
        { $limit: 2 },
      ])
      .toArray();
    assert.deepEqual(result, [
      { lossPct: 50, id: 2, tag: 'y', upper: 'A' },
      { lossPct: 100, id: 1, tag: 'x', upper: 'A' },
    ]);
    assert.deepEqual(await coll.aggregate([{ $match: { rank: { $gte: 8 } } }, { $count: 'bigRanks' }]).toArray(), [{ bigRanks: 3 }]);
    const preserved = await coll.aggregate([{ $match: { _id: { $in: [3, 5] } } }, { $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } }, { $project: { tags: 1 } }]).toArray();
    assert.deepEqual(preserved.sort((a, b) => a._id - b._id), [{ _id: 3 }, { _id: 5 }]);
  });

  it('leaves the stored documents untouched by stages that reshape them', async () => {
    await coll.aggregate([{ $unwind: '$tags' }, { $set: { 'extra.field': 1 } }, { $unset: 'loss' }]).toArray();
    assert.deepEqual(await coll.findOne({ _id: 1 }), runs[0]);
  });

  it('leaves the stored documents untouched when a reshaping stage follows a $match and $group', async () => {
    const nested = mongo.db.collection<AnyDocument>('nested');
    await nested.insertMany([{ _id: 1, g: 'x', sub: { a: 1 }, list: [{ v: 1 }] }, { _id: 2, g: 'x', sub: { a: 2 }, list: [{ v: 2 }] }]);
    await nested.aggregate([{ $match: { g: 'x' } }, { $set: { 'sub.b': 1, 'list.w': 2 } }, { $unset: 'g' }]).toArray();
    const grouped = await nested
      .aggregate([{ $match: { g: 'x' } }, { $group: { _id: '$g', subs: { $push: '$sub' }, first: { $first: '$sub' } } }, { $set: { 'first.c': 3 } }])
      .toArray();
    assert.deepEqual(grouped, [{ _id: 'x', subs: [{ a: 1 }, { a: 2 }], first: { a: 1, c: 3 } }]);
    assert.deepEqual(await nested.find().sort({ _id: 1 }).toArray(), [{ _id: 1, g: 'x', sub: { a: 1 }, list: [{ v: 1 }] }, { _id: 2, g: 'x', sub: { a: 2 }, list: [{ v: 2 }] }]);
  });

  it('joins with $lookup, both forms', async () => {
    const joined = await coll.aggregate([{ $match: { _id: { $in: [1, 3] } } }, { $lookup: { from: 'projects', localField: 'project', foreignField: '_id', as: 'p' } }, { $project: { owner: { $first: '$p.owner' } } }, { $sort: { _id: 1 } }]).toArray();
    assert.deepEqual(joined, [{ _id: 1, owner: 'ann' }, { _id: 3, owner: 'bob' }]);
    const correlated = await mongo.db
      .collection('projects')
      .aggregate([{ $lookup: { from: 'runs', let: { pid: '$_id' }, pipeline: [{ $match: { $expr: { $eq: ['$project', '$$pid'] } } }, { $group: { _id: null, best: { $min: '$loss' } } }], as: 'stats' } }, { $project: { best: { $first: '$stats.best' } } }, { $sort: { _id: 1 } }])
      .toArray();
    assert.deepEqual(correlated, [{ _id: 'a', best: 0.5 }, { _id: 'b', best: 0.25 }]);
  });

  it('runs $facet and $bucket', async () => {
    const [facets] = await coll
      .aggregate([
        {
          $facet: {
            byStatus: [{ $sortByCount: '$status' }, { $sort: { count: -1, _id: 1 } }],
            lossBuckets: [{ $bucket: { groupBy: '$loss', boundaries: [0, 0.5, 1, 5], default: 'other', output: { n: { $sum: 1 } } } }],
          },
        },
      ])
      .toArray();
    assert.deepEqual(facets.byStatus, [{ _id: 'COMPLETED', count: 3 }, { _id: 'FAILED', count: 1 }, { _id: 'RUNNING', count: 1 }]);
    assert.deepEqual(facets.lossBuckets, [{ _id: 0, n: 1 }, { _id: 0.5, n: 2 }, { _id: 1, n: 2 }]);
  });

  it('evaluates expression operators', async () => {
    const [doc] = await coll
      .aggregate([
        { $match: { _id: 2 } },
        { $project: { _id: 0, label: { $concat: ['$project', '-', { $toString: '$rank' }] }, ok: { $cond: [{ $lt: ['$loss', 1] }, 'good', 'bad'] }, size: { $size: '$tags' }, rounded: { $round: [{ $divide: ['$steps', 3] }, 2] } } },
      ])
      .toArray();
    assert.deepEqual(doc, { label: 'a-8', ok: 'good', size: 1, rounded: 66.67 });
  });

  it('pages a large aggregation result through getMore', async () => {
    const many = mongo.db.collection('many');
    await many.insertMany(Array.from({ length: 1000 }, (_, i) => ({ i })));
    const out = await many.aggregate([{ $sort: { i: -1 } }, { $project: { _id: 0, i: 1 } }], { batchSize: 50 }).toArray();
    assert.equal(out.length, 1000);
    assert.deepEqual(out[0], { i: 999 });
    assert.deepEqual(out[999], { i: 0 });
  });
});
