import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/training/rng.ts';

test('the same seed gives the same stream; another seed a different one', () => {
  const a = Rng.fromSeed(7);
  const b = Rng.fromSeed(7);
  const c = Rng.fromSeed(8);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 20 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 20 }, () => c.nextUint32()));
});

test('a generator restored from its saved state continues the same stream', () => {
  const rng = Rng.fromSeed(123);
  for (let i = 0; i < 1000; i++) rng.nextFloat();
  const saved = JSON.parse(JSON.stringify(rng.state()));
  const expected = Array.from({ length: 50 }, () => rng.nextFloat());
  const restored = Rng.fromState(saved);
  assert.deepEqual(Array.from({ length: 50 }, () => restored.nextFloat()), expected);
});

test('floats are uniform in [0, 1) and permutations are permutations', () => {
  const rng = Rng.fromSeed(1);
  let sum = 0;
  for (let i = 0; i < 20000; i++) {
    const x = rng.nextFloat();
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01, `mean ${sum / 20000}`);
  const p = rng.permutation(100);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(p, Array.from({ length: 100 }, (_, i) => i));
});

test('invalid states are rejected with the value named', () => {
  assert.throws(() => Rng.fromState([0, 0, 0, 0]), /all-zero/);
  assert.throws(() => Rng.fromState([1, 2, 3] as never), /\[1,2,3\] is not four uint32 words/);
  assert.throws(() => Rng.fromSeed(1.5), /seed: 1.5/);
});
