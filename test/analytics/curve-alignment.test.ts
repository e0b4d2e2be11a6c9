import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignCurvesByStep, stepGrid, valueAtStep } from '../../src/analytics/curve-alignment.ts';
import { expiresAtFromTtlDays } from '../../src/analytics/retention-policy.ts';
import { InvalidInputError } from '../../src/store/errors.ts';

test('the step grid spans first..last with at most `points` distinct steps', () => {
  assert.deepEqual(stepGrid(0, 100, 5), [0, 25, 50, 75, 100]);
  assert.deepEqual(stepGrid(0, 3, 10), [0, 1, 2, 3]);
  assert.deepEqual(stepGrid(7, 7, 10), [7]);
});

test('values are exact at samples, interpolated between them, null outside the run', () => {
  const curve = { steps: [10, 20, 30], values: [1, 3, 2] };
  assert.equal(valueAtStep(curve, 10), 1);
  assert.equal(valueAtStep(curve, 15), 2);
  assert.equal(valueAtStep(curve, 25), 2.5);
  assert.equal(valueAtStep(curve, 5), null);
  assert.equal(valueAtStep(curve, 31), null);
});

test('curves of different lengths and log intervals line up on one step axis', () => {
  const short = { steps: [0, 50, 100], values: [4, 3, 2] };
  const long = { steps: [0, 100, 200], values: [5, 3, 1] };
  const aligned = alignCurvesByStep([short, long], 5);
  assert.deepEqual(aligned.steps, [0, 50, 100, 150, 200]);
  assert.deepEqual(aligned.series[0], [4, 3, 2, null, null]);
  assert.deepEqual(aligned.series[1], [5, 4, 3, 2, 1]);
});

test('no data at all gives an empty axis', () => {
  assert.deepEqual(alignCurvesByStep([{ steps: [], values: [] }], 10), { steps: [], series: [[]] });
});

test('ttlDays becomes an absolute expiresAt; bad values name the field and the allowed range', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.equal(expiresAtFromTtlDays(2, now)!.toISOString(), '2026-01-03T00:00:00.000Z');
  assert.equal(expiresAtFromTtlDays(0.5, now)!.toISOString(), '2026-01-01T12:00:00.000Z');
  assert.equal(expiresAtFromTtlDays(null, now), null);
  assert.throws(() => expiresAtFromTtlDays(0, now, ['input', 'ttlDays']), (err: unknown) =>
    err instanceof InvalidInputError && err.field.join('.') === 'input.ttlDays' && /greater than 0/.test(err.message));
  assert.throws(() => expiresAtFromTtlDays(Number.NaN, now), InvalidInputError);
});
