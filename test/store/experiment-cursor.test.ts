// Keyset cursors: opaque, round-trip every sort value type, refuse tampering and refuse
// being reused with another sort order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import {
  buildAfterCursorFilter, decodeExperimentCursor, encodeExperimentCursor, resolveExperimentSort,
} from '../../src/store/experiment-sort.ts';
import { InvalidInputError } from '../../src/store/errors.ts';

const id = new ObjectId('65a000000000000000000001');

test('cursors round-trip numbers, strings, dates and null', () => {
  for (const value of [0.25, 'run-a', new Date('2026-02-03T04:05:06.007Z'), null]) {
    const cursor = { field: 'FINAL_LOSS' as const, direction: 'ASC' as const, value, id };
    const text = encodeExperimentCursor(cursor);
    assert.match(text, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeExperimentCursor(text), cursor);
  }
});

test('tampered or foreign cursors are refused as BAD input on "after"', () => {
  const foreign = [
    'not a cursor!',
    Buffer.from('{"$gt":""}').toString('base64url'),
    Buffer.from(JSON.stringify([1, 'FINAL_LOSS', 'ASC', ['n', { $gt: 0 }], id.toHexString()])).toString('base64url'),
    Buffer.from(JSON.stringify([1, 'config.lora_rank', 'ASC', ['n', 1], id.toHexString()])).toString('base64url'),
    Buffer.from(JSON.stringify([1, 'NAME', 'ASC', ['s', 'a'], '$where'])).toString('base64url'),
  ];
  for (const text of foreign) {
    assert.throws(
      () => decodeExperimentCursor(text),
      (err: unknown) => err instanceof InvalidInputError && err.field[0] === 'after',
      text,
    );
  }
});

test('a cursor made for one sort cannot page another', () => {
  const cursor = decodeExperimentCursor(encodeExperimentCursor({ field: 'NAME', direction: 'ASC', value: 'a', id }));
  assert.throws(() => buildAfterCursorFilter(resolveExperimentSort({ field: 'NAME', direction: 'DESC' }), cursor), /restart paging/);
});

test('after-cursor clauses follow MongoDB null ordering (nulls first ascending, last descending)', () => {
  const asc = resolveExperimentSort({ field: 'FINAL_LOSS', direction: 'ASC' });
  const desc = resolveExperimentSort({ field: 'FINAL_LOSS', direction: 'DESC' });
  assert.deepEqual(buildAfterCursorFilter(asc, { field: 'FINAL_LOSS', direction: 'ASC', value: null, id }), {
    $or: [{ 'summary.finalLoss': null, _id: { $gt: id } }, { 'summary.finalLoss': { $ne: null } }],
  });
  assert.deepEqual(buildAfterCursorFilter(desc, { field: 'FINAL_LOSS', direction: 'DESC', value: 0.5, id }), {
    $or: [{ 'summary.finalLoss': { $lt: 0.5 } }, { 'summary.finalLoss': 0.5, _id: { $lt: id } }, { 'summary.finalLoss': null }],
  });
});
