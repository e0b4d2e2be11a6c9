// buildExperimentFilter: typed filter fields become MongoDB clauses on fixed paths with the
// values in value position only; anything that is not the declared type is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExperimentFilter, escapeRegExp } from '../../src/store/experiment-filter.ts';
import { InvalidInputError } from '../../src/store/errors.ts';

test('no filter and an empty filter match everything', () => {
  assert.deepEqual(buildExperimentFilter(undefined), {});
  assert.deepEqual(buildExperimentFilter({}), {});
});

test('each typed field maps to its document path and operator', () => {
  const created = new Date('2026-01-01T00:00:00Z');
  const filter = buildExperimentFilter({
    project: 'vision',
    tags: { all: ['cyberpunk', 'sdxl'], any: ['v1', 'v2'] },
    status: ['COMPLETED'],
    loraRankIn: [8, 16],
    learningRate: { gte: 1e-5, lte: 1e-3 },
    finalLoss: { lt: 0.4 },
    createdAt: { gte: created },
    nameContains: 'neon',
    errorType: ['CUDA_OOM'],
    configHash: 'ABCDEF',
  });
  assert.deepEqual(filter, {
    $and: [
      { project: 'vision' },
      { tags: { $all: ['cyberpunk', 'sdxl'] } },
      { tags: { $in: ['v1', 'v2'] } },
      { status: { $in: ['COMPLETED'] } },
      { 'config.lora_rank': { $in: [8, 16] } },
      { 'config.learning_rate': { $gte: 1e-5, $lte: 1e-3 } },
      { 'summary.finalLoss': { $lt: 0.4 } },
      { createdAt: { $gte: created } },
      { name: { $regex: 'neon', $options: 'i' } },
      { 'error.type': { $in: ['CUDA_OOM'] } },
      { configHash: 'abcdef' },
    ],
  });
});

test('a single clause is returned without $and', () => {
  assert.deepEqual(buildExperimentFilter({ status: ['FAILED'] }), { status: { $in: ['FAILED'] } });
});

test('name text is matched literally: regex metacharacters and operator-looking text are escaped', () => {
  const filter = buildExperimentFilter({ nameContains: '{"$gt": ""}.*' });
  assert.deepEqual(filter, { name: { $regex: escapeRegExp('{"$gt": ""}.*'), $options: 'i' } });
  const pattern = new RegExp((filter as { name: { $regex: string } }).name.$regex, 'i');
  assert.equal(pattern.test('anything'), false);
  assert.equal(pattern.test('run {"$gt": ""}.* copy'), true);
});

test('operator objects in place of values are refused with the field path', () => {
  const attempts: [unknown, string[]][] = [
    [{ project: { $ne: null } }, ['project']],
    [{ nameContains: { $gt: '' } }, ['nameContains']],
    [{ tags: { all: [{ $exists: true }] } }, ['tags', 'all', '0']],
    [{ tags: { any: { $where: 'sleep(1000)' } } }, ['tags', 'any']],
    [{ status: [{ $ne: 'FAILED' }] }, ['status', 0] as unknown as string[]],
    [{ loraRankIn: ['8'] }, ['loraRankIn', 0] as unknown as string[]],
    [{ finalLoss: { lt: { $gt: 0 } } }, ['finalLoss', 'lt']],
    [{ createdAt: { gte: '2026-01-01' } }, ['createdAt', 'gte']],
    [{ configHash: { $regex: '.*' } }, ['configHash']],
    [{ configHash: '$where' }, ['configHash']],
  ];
  for (const [input, field] of attempts) {
    assert.throws(
      () => buildExperimentFilter(input as never),
      (err: unknown) => err instanceof InvalidInputError && JSON.stringify(err.field) === JSON.stringify(field),
      `expected InvalidInputError at ${JSON.stringify(field)} for ${JSON.stringify(input)}`,
    );
  }
});

test('unknown status and error type values are refused, naming the allowed ones', () => {
  assert.throws(() => buildExperimentFilter({ status: ['DONE' as never] }), /allowed: QUEUED, RUNNING, COMPLETED/);
  assert.throws(() => buildExperimentFilter({ errorType: ['GPU' as never] }), /allowed: CUDA_OOM/);
});

test('ranges: empty, inverted, doubled or non-finite bounds are refused', () => {
  assert.throws(() => buildExperimentFilter({ finalLoss: {} }), /needs at least one of gt, gte, lt, lte/);
  assert.throws(() => buildExperimentFilter({ finalLoss: { gte: 1, lte: 0.5 } }), /lower bound 1 is above the upper bound 0.5/);
  assert.throws(() => buildExperimentFilter({ finalLoss: { gt: 1, gte: 1 } }), /either gt or gte/);
  assert.throws(() => buildExperimentFilter({ learningRate: { lt: Number.NaN } }), /learningRate.lt must be a finite number/);
});

test('over-long lists and text are refused', () => {
  assert.throws(() => buildExperimentFilter({ tags: { any: Array.from({ length: 101 }, (_, i) => `t${i}`) } }), /at most 100/);
  assert.throws(() => buildExperimentFilter({ nameContains: 'x'.repeat(201) }), /at most 200/);
});
