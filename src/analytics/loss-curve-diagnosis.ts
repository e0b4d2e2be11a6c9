// Reads loss curves the way an experienced practitioner does and says what it sees. Each
// rule is a named function over plain arrays; a finding names its rule and carries the
// points that made it fire, so a user can check the claim against the chart.
//
// Thresholds are deliberately conservative: a healthy curve (falling, noisy, flattening)
// must produce no finding at all, because a diagnosis that cries wolf gets ignored.
import {
  argMax,
  argMin,
  mean,
  movingAverage,
  nearestStepIndex,
  quantile,
  type Curve,
} from './curve-statistics.ts';

export type DiagnosisRule =
  | 'NON_FINITE_LOSS'
  | 'DIVERGENCE'
  | 'OSCILLATION_WITHOUT_TREND'
  | 'FLAT_NEAR_START'
  | 'OVERFITTING';

export interface EvidencePoint {
  /** The metric key the point belongs to ('loss' or 'eval_loss'). */
  key: string;
  step: number;
  /** May be NaN or ±Infinity for NON_FINITE_LOSS evidence. */
  value: number;
  /** What the point is, e.g. "lowest eval_loss". */
  label: string;
}

export interface DiagnosisFinding {
  rule: DiagnosisRule;
  /** The curve the rule read. */
  key: string;
  summary: string;
  advice: string;
  evidence: EvidencePoint[];
}

export interface LossCurves {
  /** Training loss ('loss'). */
  loss?: Curve | null;
  /** Evaluation loss ('eval_loss'). */
  evalLoss?: Curve | null;
  /** The run reported a NaN/Infinity loss that never reached the curve (ingest stores finite values only). */
  nonFiniteReported?: { message: string } | null;
}

export const TRAIN_LOSS_KEY = 'loss';
export const EVAL_LOSS_KEY = 'eval_loss';

const NON_FINITE_ADVICE =
  'Lower the learning rate, keep gradient clipping (max_grad_norm) on, and check the data for empty or corrupt samples.';

/** Fewer points than this and shape rules stay silent: there is no shape to read yet. */
const MIN_POINTS_FOR_SHAPE = 10;
const MIN_POINTS_FOR_OSCILLATION = 20;
const MIN_EVAL_POINTS = 4;

/** Every finding the rules make, in a fixed order; an empty list means the curves look healthy. */
export function diagnoseLossCurves(curves: LossCurves): DiagnosisFinding[] {
  const findings: DiagnosisFinding[] = [];
  const train = curves.loss ? finitePrefix(curves.loss) : null;
  const evaluation = curves.evalLoss ? finitePrefix(curves.evalLoss) : null;

  if (curves.loss) pushIfFound(findings, findNonFiniteLoss(curves.loss, TRAIN_LOSS_KEY));
  if (curves.nonFiniteReported && !findings.some((f) => f.key === TRAIN_LOSS_KEY)) {
    findings.push(reportedNonFiniteLoss(curves.loss ?? null, curves.nonFiniteReported.message));
  }
  if (curves.evalLoss) pushIfFound(findings, findNonFiniteLoss(curves.evalLoss, EVAL_LOSS_KEY));
  if (train) {
    pushIfFound(findings, findDivergence(train, TRAIN_LOSS_KEY));
    pushIfFound(findings, findOscillationWithoutTrend(train, TRAIN_LOSS_KEY, evaluation));
    pushIfFound(findings, findFlatNearStart(train, TRAIN_LOSS_KEY, evaluation));
  }
  if (train && evaluation) pushIfFound(findings, findOverfitting(train, evaluation));
  return findings;
}

/** NaN or ±Infinity in the curve: the run blew up numerically. */
export function findNonFiniteLoss(curve: Curve, key: string): DiagnosisFinding | null {
  const bad = curve.values.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return null;
  const evidence: EvidencePoint[] = [];
  if (bad > 0) {
    evidence.push(point(curve, bad - 1, key, `last finite ${key}`));
  }
  evidence.push(point(curve, bad, key, `first non-finite ${key}`));
  const value = curve.values[bad]!;
  return {
    rule: 'NON_FINITE_LOSS',
    key,
    summary: `${key} became ${String(value)} at step ${curve.steps[bad]}` +
      (bad > 0 ? ` (last finite value ${format(curve.values[bad - 1]!)} at step ${curve.steps[bad - 1]}).` : ' (from the first logged step).'),
    advice: NON_FINITE_ADVICE,
    evidence,
  };
}

/** The trainer stopped on a NaN/Infinity loss; the evidence is the last finite point logged. */
export function reportedNonFiniteLoss(curve: Curve | null, message: string): DiagnosisFinding {
  const last = curve && curve.values.length > 0 ? curve.values.length - 1 : -1;
  return {
    rule: 'NON_FINITE_LOSS',
    key: TRAIN_LOSS_KEY,
    summary: `The run stopped on a non-finite ${TRAIN_LOSS_KEY} (${message})` +
      (last >= 0 ? `; the last finite value logged was ${format(curve!.values[last]!)} at step ${curve!.steps[last]}.` : '.'),
    advice: NON_FINITE_ADVICE,
    evidence: last >= 0 ? [point(curve!, last, TRAIN_LOSS_KEY, `last finite ${TRAIN_LOSS_KEY}`)] : [],
  };
}

/** The smoothed loss climbs well above its lowest point and ends there: training diverged. */
export function findDivergence(curve: Curve, key: string): DiagnosisFinding | null {
  const n = curve.values.length;
  if (n < MIN_POINTS_FOR_SHAPE) return null;
  const width = smoothingWidth(n);
  const smoothed = movingAverage(curve.values, width);
  const lowest = argMin(smoothed);
  const last = n - 1;
  // The minimum must lie clearly before the end, and the end must sit far above it.
  if (last - lowest < width) return null;
  const rise = smoothed[last]! - smoothed[lowest]!;
  if (!(rise >= 0.5 * Math.abs(smoothed[lowest]!)) || rise <= 0) return null;
  return {
    rule: 'DIVERGENCE',
    key,
    summary: `${key} fell to ${format(smoothed[lowest]!)} (smoothed) around step ${curve.steps[lowest]} ` +
      `and then climbed to ${format(smoothed[last]!)} by step ${curve.steps[last]}: the run diverged.`,
    advice: 'Lower the learning rate (or add warmup), and keep gradient clipping on; resume from a checkpoint before the rise.',
    evidence: [
      point(curve, lowest, key, `${key} near its lowest (smoothed ${format(smoothed[lowest]!)})`),
      point(curve, last, key, `last ${key} (smoothed ${format(smoothed[last]!)})`),
    ],
  };
}

/**
 * Large swings around a level that does not go down: the optimizer bounces across the
 * valley instead of descending, the classic sign of a learning rate that is too high.
 * When an eval curve shows the model did not change at all, the swings are batch-to-batch
 * noise of an untrained model, not oscillation (FLAT_NEAR_START reads that case).
 */
export function findOscillationWithoutTrend(curve: Curve, key: string, evaluation: Curve | null = null): DiagnosisFinding | null {
  const n = curve.values.length;
  if (n < MIN_POINTS_FOR_OSCILLATION) return null;
  if (evaluation && isUnchanged(evaluation)) return null;
  const third = Math.floor(n / 3);
  const firstThird = mean(curve.values.slice(0, third));
  const lastThird = mean(curve.values.slice(n - third));
  const level = quantile(curve.values, 0.5);
  if (level === 0) return null;
  const trend = (firstThird - lastThird) / Math.abs(firstThird);
  const swing = (quantile(curve.values, 0.9) - quantile(curve.values, 0.1)) / Math.abs(level);
  const crossings = levelCrossings(curve.values, level);
  // No downward trend: the last third is not 10% below the first (it may even be above it).
  if (trend >= 0.1 || swing <= 0.15 || crossings < 4) return null;
  const high = argMax(curve.values);
  const low = argMin(curve.values);
  const [first, second] = high < low ? [high, low] : [low, high];
  return {
    rule: 'OSCILLATION_WITHOUT_TREND',
    key,
    summary: `${key} swings between ${format(curve.values[low]!)} and ${format(curve.values[high]!)} ` +
      `(${crossings} crossings of its median ${format(level)}) without going down: ` +
      `first-third mean ${format(firstThird)}, last-third mean ${format(lastThird)}.`,
    advice: 'The learning rate is likely too high: lower it (e.g. by 3-10x) or increase the batch size.',
    evidence: [
      point(curve, 0, key, `first ${key}`),
      point(curve, first, key, first === high ? `highest ${key}` : `lowest ${key}`),
      point(curve, second, key, second === high ? `highest ${key}` : `lowest ${key}`),
      point(curve, n - 1, key, `last ${key}`),
    ],
  };
}

/**
 * The loss never leaves the neighbourhood of its starting value: nothing is being learned.
 * Read from the training curve alone (start and end within 3%, never 5% below the start,
 * small swings), or, when training loss is noisy from batch to batch, from an eval curve
 * that did not move at all while the training curve shows no trend.
 */
export function findFlatNearStart(curve: Curve, key: string, evaluation: Curve | null = null): DiagnosisFinding | null {
  const n = curve.values.length;
  if (n < MIN_POINTS_FOR_SHAPE) return null;
  const edge = Math.max(3, Math.floor(n / 10));
  const start = mean(curve.values.slice(0, edge));
  const end = mean(curve.values.slice(n - edge));
  if (start === 0) return null;
  const lowest = argMin(curve.values);
  const change = (start - end) / Math.abs(start);
  const deepestDrop = (start - curve.values[lowest]!) / Math.abs(start);
  const swing = (quantile(curve.values, 0.9) - quantile(curve.values, 0.1)) / Math.abs(start);
  const flatTrain = Math.abs(change) < 0.03 && deepestDrop < 0.05 && swing <= 0.15;
  const flatEval = evaluation !== null && isUnchanged(evaluation) && Math.abs(change) < 0.05;
  if (!flatTrain && !flatEval) return null;
  const evidence = [
    point(curve, 0, key, `first ${key}`),
    point(curve, lowest, key, `lowest ${key}`),
    point(curve, n - 1, key, `last ${key}`),
  ];
  let summary = `${key} stayed near its starting value: ${format(start)} over the first ${edge} points, ` +
    `${format(end)} over the last ${edge} (change ${(change * 100).toFixed(1)}%)`;
  if (flatEval) {
    const m = evaluation!.values.length;
    evidence.push(point(evaluation!, 0, EVAL_LOSS_KEY, `first ${EVAL_LOSS_KEY}`), point(evaluation!, m - 1, EVAL_LOSS_KEY, `last ${EVAL_LOSS_KEY}`));
    summary += `, and ${EVAL_LOSS_KEY} did not move (${format(evaluation!.values[0]!)} at step ${evaluation!.steps[0]}, ` +
      `${format(evaluation!.values[m - 1]!)} at step ${evaluation!.steps[m - 1]}).`;
  } else {
    summary += `, never below ${format(curve.values[lowest]!)}.`;
  }
  return {
    rule: 'FLAT_NEAR_START',
    key,
    summary,
    advice: 'The data or labels are likely wrong (empty, shuffled against their targets, or masked out), ' +
      'or the adapter is not being trained: check the dataset, the target modules and that the learning rate is not zero.',
    evidence,
  };
}

/** Eval loss turns upward while training loss keeps falling: the adapter memorises its data. */
export function findOverfitting(train: Curve, evaluation: Curve): DiagnosisFinding | null {
  const m = evaluation.values.length;
  if (m < MIN_EVAL_POINTS || train.values.length < 2) return null;
  const lowest = argMin(evaluation.values);
  const afterLowest = evaluation.values.slice(lowest + 1);
  if (afterLowest.length < 2) return null;
  const evalMin = evaluation.values[lowest]!;
  const evalLast = evaluation.values[m - 1]!;
  const scale = Math.abs(evalMin) || 1;
  if ((evalLast - evalMin) / scale < 0.05 || (mean(afterLowest) - evalMin) / scale < 0.02) return null;

  const width = smoothingWidth(train.values.length);
  const trainAtLowest = nearestStepIndex(train.steps, evaluation.steps[lowest]!);
  const trainAtLast = nearestStepIndex(train.steps, evaluation.steps[m - 1]!);
  const trainThen = windowMean(train.values, trainAtLowest, width);
  const trainNow = windowMean(train.values, trainAtLast, width);
  if (!(trainNow <= trainThen * 0.97)) return null;
  return {
    rule: 'OVERFITTING',
    key: EVAL_LOSS_KEY,
    summary: `${EVAL_LOSS_KEY} bottomed at ${format(evalMin)} (step ${evaluation.steps[lowest]}) and rose to ` +
      `${format(evalLast)} (step ${evaluation.steps[m - 1]}) while ${TRAIN_LOSS_KEY} kept falling from ` +
      `${format(trainThen)} to ${format(trainNow)}: the adapter is overfitting.`,
    advice: `Train for fewer epochs (stop near step ${evaluation.steps[lowest]}), raise lora_dropout or weight_decay, ` +
      'lower the rank, or add more varied training data.',
    evidence: [
      point(evaluation, lowest, EVAL_LOSS_KEY, `lowest ${EVAL_LOSS_KEY}`),
      point(evaluation, m - 1, EVAL_LOSS_KEY, `last ${EVAL_LOSS_KEY}`),
      point(train, trainAtLowest, TRAIN_LOSS_KEY, `${TRAIN_LOSS_KEY} when ${EVAL_LOSS_KEY} was lowest`),
      point(train, trainAtLast, TRAIN_LOSS_KEY, `${TRAIN_LOSS_KEY} at the last ${EVAL_LOSS_KEY}`),
    ],
  };
}

/** The curve up to (not including) its first NaN/Infinity; the shape rules read only this. */
function finitePrefix(curve: Curve): Curve {
  const bad = curve.values.findIndex((v) => !Number.isFinite(v));
  if (bad < 0) return curve;
  return { steps: curve.steps.slice(0, bad), values: curve.values.slice(0, bad) };
}

function smoothingWidth(n: number): number {
  return Math.max(3, Math.round(n / 10));
}

function windowMean(values: readonly number[], center: number, width: number): number {
  const half = Math.floor(width / 2);
  return mean(values.slice(Math.max(0, center - half), Math.min(values.length, center + half + 1)));
}

/** At least 3 points, every one within 1% of the first: the model's outputs did not change. */
function isUnchanged(curve: Curve): boolean {
  const values = curve.values;
  if (values.length < 3 || values[0] === 0) return false;
  return values.every((v) => Math.abs(v - values[0]!) <= 0.01 * Math.abs(values[0]!));
}

/** How often the curve crosses a horizontal line (a hump crosses twice, a zig-zag many times). */
function levelCrossings(values: readonly number[], level: number): number {
  let crossings = 0;
  let side = 0;
  for (const v of values) {
    const s = Math.sign(v - level);
    if (s === 0) continue;
    if (side !== 0 && s !== side) crossings++;
    side = s;
  }
  return crossings;
}

function point(curve: Curve, index: number, key: string, label: string): EvidencePoint {
  return { key, step: curve.steps[index]!, value: curve.values[index]!, label };
}

function pushIfFound(findings: DiagnosisFinding[], finding: DiagnosisFinding | null): void {
  if (finding) findings.push(finding);
}

function format(value: number): string {
  return Number.isFinite(value) ? Number(value.toPrecision(4)).toString() : String(value);
}
