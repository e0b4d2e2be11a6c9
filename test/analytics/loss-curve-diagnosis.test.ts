import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseLossCurves, type DiagnosisRule } from '../../src/analytics/loss-curve-diagnosis.ts';
import { curveOf, healthyEvalLoss, healthyTrainLoss, seededRandom, stepsEvery } from './synthetic-curves.ts';

function rules(findings: { rule: DiagnosisRule }[]): DiagnosisRule[] {
  return findings.map((f) => f.rule);
}

test('a healthy falling, noisy, flattening curve (with a healthy eval curve) gets no finding', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    assert.deepEqual(diagnoseLossCurves({ loss: healthyTrainLoss(seed), evalLoss: healthyEvalLoss(seed + 10) }), []);
  }
});

test('a short curve is not diagnosed on shape', () => {
  assert.deepEqual(diagnoseLossCurves({ loss: curveOf([1, 2, 3], () => 2.0) }), []);
});

test('NaN in the loss fires NON_FINITE_LOSS with the last finite and the first bad point', () => {
  const loss = healthyTrainLoss(7, 100);
  const values = [...loss.values];
  values[60] = Number.NaN;
  values[61] = Number.NaN;
  const findings = diagnoseLossCurves({ loss: { steps: loss.steps, values } });
  assert.deepEqual(rules(findings), ['NON_FINITE_LOSS']);
  const [lastFinite, firstBad] = findings[0]!.evidence;
  assert.equal(lastFinite!.step, loss.steps[59]);
  assert.equal(lastFinite!.value, loss.values[59]);
  assert.equal(firstBad!.step, loss.steps[60]);
  assert.ok(Number.isNaN(firstBad!.value));
  assert.match(findings[0]!.summary, /NaN at step 610/);
});

test('a NaN reported by the trainer (not on the curve) fires NON_FINITE_LOSS with the last logged point', () => {
  const loss = healthyTrainLoss(8, 50);
  const findings = diagnoseLossCurves({ loss, nonFiniteReported: { message: 'loss is NaN at step 510' } });
  assert.deepEqual(rules(findings), ['NON_FINITE_LOSS']);
  assert.equal(findings[0]!.evidence[0]!.step, 500);
  assert.match(findings[0]!.summary, /loss is NaN at step 510/);
});

test('loss that falls then climbs far above its minimum fires DIVERGENCE', () => {
  const random = seededRandom(3);
  const loss = curveOf(stepsEvery(10, 150), (_, i) =>
    (i < 60 ? 2.5 - i * 0.025 : 1.0 + (i - 60) * 0.03) * (1 + 0.02 * (random() - 0.5)));
  const findings = diagnoseLossCurves({ loss });
  assert.deepEqual(rules(findings), ['DIVERGENCE']);
  const [low, end] = findings[0]!.evidence;
  assert.ok(low!.step >= 500 && low!.step <= 700, `minimum near step 600, got ${low!.step}`);
  assert.equal(end!.step, 1500);
  assert.ok(end!.value > 3.5);
});

test('loss swinging widely around a level with no downward trend fires OSCILLATION_WITHOUT_TREND', () => {
  const random = seededRandom(4);
  const loss = curveOf(stepsEvery(5, 200), (_, i) => 1.6 + 0.5 * Math.sin(i * 1.7) + 0.2 * (random() - 0.5));
  const findings = diagnoseLossCurves({ loss });
  assert.deepEqual(rules(findings), ['OSCILLATION_WITHOUT_TREND']);
  const values = findings[0]!.evidence.map((e) => e.value);
  assert.ok(Math.max(...values) > 2.0 && Math.min(...values) < 1.2, `evidence spans the swing: ${values}`);
  assert.match(findings[0]!.advice, /learning rate/);
});

test('oscillation on top of a clear downward trend is not OSCILLATION_WITHOUT_TREND', () => {
  const loss = curveOf(stepsEvery(5, 200), (_, i) => 3.0 - i * 0.01 + 0.3 * Math.sin(i * 1.7));
  assert.ok(!rules(diagnoseLossCurves({ loss })).includes('OSCILLATION_WITHOUT_TREND'));
});

test('loss flat at its starting value fires FLAT_NEAR_START', () => {
  const random = seededRandom(5);
  const loss = curveOf(stepsEvery(10, 120), () => 10.82 + 0.05 * (random() - 0.5));
  const findings = diagnoseLossCurves({ loss });
  assert.deepEqual(rules(findings), ['FLAT_NEAR_START']);
  assert.equal(findings[0]!.evidence[0]!.step, 10);
  assert.equal(findings[0]!.evidence[2]!.step, 1200);
  assert.match(findings[0]!.advice, /data or labels/);
});

test('a curve that dropped early and then flattened is not FLAT_NEAR_START', () => {
  const loss = curveOf(stepsEvery(10, 120), (_, i) => (i < 10 ? 4 - i * 0.3 : 1.0));
  assert.ok(!rules(diagnoseLossCurves({ loss })).includes('FLAT_NEAR_START'));
});

test('eval loss rising while train loss falls fires OVERFITTING with both curves as evidence', () => {
  const loss = healthyTrainLoss(6, 200); // falls all the way to step 2000
  const evalLoss = curveOf(stepsEvery(100, 20), (_, i) => (i <= 8 ? 2.4 - i * 0.2 : 0.8 + (i - 8) * 0.06));
  const findings = diagnoseLossCurves({ loss, evalLoss });
  assert.deepEqual(rules(findings), ['OVERFITTING']);
  const [evalMin, evalLast, trainThen, trainNow] = findings[0]!.evidence;
  assert.deepEqual([evalMin!.key, evalMin!.step, evalMin!.value], ['eval_loss', 900, evalLoss.values[8]]);
  assert.equal(evalLast!.step, 2000);
  assert.equal(evalLast!.value, evalLoss.values[19]);
  assert.equal(trainThen!.key, 'loss');
  assert.equal(trainThen!.step, 900);
  assert.ok(trainNow!.value < trainThen!.value);
  assert.match(findings[0]!.advice, /fewer epochs/);
});

test('eval loss rising together with train loss is not OVERFITTING', () => {
  const loss = curveOf(stepsEvery(10, 200), (_, i) => (i < 90 ? 2.5 - i * 0.02 : 0.7 + (i - 90) * 0.001));
  const evalLoss = curveOf(stepsEvery(100, 20), (_, i) => (i <= 8 ? 2.4 - i * 0.2 : 0.8 + (i - 8) * 0.06));
  assert.ok(!rules(diagnoseLossCurves({ loss, evalLoss })).includes('OVERFITTING'));
});

test('noisy batch losses with an eval loss that never moved are FLAT_NEAR_START, not oscillation', () => {
  const random = seededRandom(9);
  const loss = curveOf(stepsEvery(1, 60), () => 10 * (1 + 0.3 * (random() - 0.5)));
  const evalLoss = curveOf(stepsEvery(10, 7, 0), () => 10.099);
  const findings = diagnoseLossCurves({ loss, evalLoss });
  assert.deepEqual(rules(findings), ['FLAT_NEAR_START']);
  assert.deepEqual(findings[0]!.evidence.slice(-2).map((e) => [e.key, e.step]), [['eval_loss', 0], ['eval_loss', 60]]);
  // Without the eval curve the same swings read as a learning rate that is too high.
  assert.deepEqual(rules(diagnoseLossCurves({ loss })), ['OSCILLATION_WITHOUT_TREND']);
});

test('swings that drift upward (a learning rate far too high) are OSCILLATION_WITHOUT_TREND', () => {
  const random = seededRandom(10);
  const loss = curveOf(stepsEvery(1, 60), (_, i) => 9.5 + i * 0.03 + 2 * (random() - 0.5));
  assert.deepEqual(rules(diagnoseLossCurves({ loss })), ['OSCILLATION_WITHOUT_TREND']);
});
