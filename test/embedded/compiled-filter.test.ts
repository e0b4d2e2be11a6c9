// The engine's compiled filters must select exactly what mingo selects, document by document,
// including arrays, nested paths, missing fields, nulls and mixed types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId, type Document } from 'bson';
import { Query } from 'mingo';
import { compileSimpleFilter } from '../../src/embedded/compiled-filter.ts';

const docs: Document[] = [
  { _id: 1, status: 'COMPLETED', rank: 8, loss: 0.5, tags: ['x', 'y'], config: { lr: 0.01, rank: 8 }, when: new Date(1000) },
  { _id: 2, status: 'FAILED', rank: 4, loss: null, tags: [], config: { lr: 0.1 }, when: new Date(2000) },
  { _id: 3, status: 'RUNNING', rank: '8', tags: 'x', config: null },
  { _id: 4, status: 'COMPLETED', rank: [4, 16], loss: 2, config: { lr: [0.01, 0.02] }, when: [new Date(500), new Date(3000)] },
  { _id: 5, rank: 32, loss: 1.5, config: [{ lr: 0.01 }, { lr: 0.5 }], flag: true },
  { _id: 6, status: 'COMPLETED', rank: [[8]], loss: -1, config: { lr: 0.01, nested: { deep: 'yes' } }, flag: false, oid: new ObjectId('64b7f0000000000000000000') },
  { _id: 7, status: ['COMPLETED', 'FAILED'], rank: 8.0, loss: Number.POSITIVE_INFINITY, config: 'scalar' },
  { _id: 8 },
  // ObjectIds: alone, in arrays, nested, and a string spelling the same hex (not equal).
  { _id: 9, oid: new ObjectId('64b7f0000000000000000001'), parent: { id: new ObjectId('64b7f0000000000000000003') } },
  { _id: 10, oid: [new ObjectId('64b7f0000000000000000002'), new ObjectId('64b7f0000000000000000000')], parent: { id: 1 } },
  { _id: 11, oid: '64b7f0000000000000000000', status: 'COMPLETED', parent: [{ id: new ObjectId('64b7f0000000000000000003') }] },
];

const filters: Document[] = [
  { status: 'COMPLETED' },
  { rank: 8 },
  { rank: '8' },
  { rank: { $eq: 4 } },
  { rank: { $ne: 8 } },
  { status: { $ne: 'COMPLETED' } },
  { rank: { $in: [4, 32] } },
  { status: { $nin: ['COMPLETED', 'RUNNING'] } },
  { loss: { $gt: 0.5 } },
  { loss: { $gte: 0.5, $lt: 2 } },
  { rank: { $gt: 5, $lt: 10 } },
  { when: { $gte: new Date(1000) } },
  { when: { $lt: new Date(1000) } },
  { 'config.lr': 0.01 },
  { 'config.lr': { $gt: 0.05 } },
  { 'config.nested.deep': 'yes' },
  { 'config.lr': { $exists: true } },
  { loss: { $exists: false } },
  { loss: { $exists: true }, status: 'COMPLETED' },
  { flag: false },
  { flag: { $ne: true } },
  { tags: 'x' },
  { $and: [{ status: 'COMPLETED' }, { rank: { $gte: 8 } }] },
  { status: 'COMPLETED', 'config.lr': { $in: [0.01, 0.5] } },
  { 'config.lr': { $ne: 0.01 } },
  { oid: new ObjectId('64b7f0000000000000000000') },
  { oid: { $eq: new ObjectId('64b7f0000000000000000001') } },
  { oid: { $ne: new ObjectId('64b7f0000000000000000000') } },
  { oid: { $in: [new ObjectId('64b7f0000000000000000001'), new ObjectId('64b7f0000000000000000000'), '64b7f0000000000000000002'] } },
  { oid: { $in: ['64b7f0000000000000000000', 3] } },
  { oid: { $nin: [new ObjectId('64b7f0000000000000000000')] }, status: 'COMPLETED' },
  { 'parent.id': { $in: [new ObjectId('64b7f0000000000000000003'), 1] } },
  { tags: { $all: ['x', 'y'] } },
  { tags: { $all: ['x'] } },
  { rank: { $all: [4, 16] } },
  { status: { $all: ['COMPLETED', 'FAILED'] } },
  { $or: [{ status: 'FAILED' }, { rank: { $gte: 16 } }] },
  { $or: [{ tags: { $all: ['x', 'y'] } }, { 'config.lr': 0.5 }], status: { $ne: 'RUNNING' } },
  { $nor: [{ status: 'COMPLETED' }, { loss: { $exists: false } }] },
  { tags: { $in: ['x', 'y'] }, $nor: [{ tags: { $all: ['x', 'y'] } }] },
  { $and: [{ $or: [{ rank: 8 }, { rank: 4 }] }, { $or: [{ flag: true }, { status: 'COMPLETED' }] }] },
  // A branch that must ask mingo for some documents (a path through an array).
  { $or: [{ 'config.lr': 0.5 }, { status: 'RUNNING' }] },
  { $nor: [{ 'config.lr': 0.5 }] },
];

/**
 * Where mingo is wrong about MongoDB, the compiled path follows MongoDB: filter (as JSON) and
 * document _id -> MongoDB's verdict. `$all` matches a scalar field equal to every listed value
 * ("a field with a single value matching the specified element", MongoDB's $all reference).
 */
const MONGODB_NOT_MINGO = new Map<string, boolean>([[`${JSON.stringify({ tags: { $all: ['x'] } })}#3`, true]]);

describe('compiled filters agree with mingo', () => {
  for (const filter of filters) {
    it(JSON.stringify(filter), () => {
      const compiled = compileSimpleFilter(filter);
      assert.ok(compiled, 'the filter compiles');
      const query = new Query(filter);
      for (const doc of docs) {
        const verdict: boolean = compiled(doc) ?? query.test(doc);
        const expected = MONGODB_NOT_MINGO.get(`${JSON.stringify(filter)}#${doc._id}`) ?? query.test(doc);
        assert.equal(verdict, expected, `document ${doc._id}`);
      }
    });
  }

  it('does not compile what it cannot answer exactly', () => {
    for (const filter of [{ a: { $regex: 'x' } }, { a: null }, { a: { b: 1 } }, { a: [1, 2] }, { $or: [{ a: 1 }, { b: { $regex: 'x' } }] }, { a: { $all: [] } }, { a: { $all: [[1]] } }, { 'a.0': 1 }, { a: { $gt: 'm' } }, { a: { $elemMatch: { b: 1 } } }, { a: { $in: [null] } }]) {
      assert.equal(compileSimpleFilter(filter), undefined, JSON.stringify(filter));
    }
  });
});
