// logMetrics: metric points from a trainer that runs anywhere (a notebook, a PEFT or kohya
// loop on a GPU box). Points go through the same idempotent bucket append as the runner's
// ingest, keep the run's summary current and reach live subscribers as STEP events.
import type { ObjectId } from 'mongodb';
import type { ExperimentStatus } from '../store/documents.ts';
import { InvalidInputError } from '../store/errors.ts';
import type { MetricPointInput } from '../store/metrics.ts';
import { progressPayload, trainingProgressTopic, experimentUpdatedTopic } from './progress-events.ts';
import type { PubSub } from './pubsub.ts';
import type { JobRunner } from './job-runner.ts';
import { STEP_METRIC_KEYS } from './run-ingest.ts';
import type { JobExperimentDoc } from './run-records.ts';

export const MAX_POINTS_PER_CALL = 50_000;
const FINAL_STATUSES: readonly ExperimentStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];
const KEY_PATTERN = /^[^:\s][^:]{0,99}$/;

export interface LogMetricsResult {
  written: number;
  skipped: number;
  experiment: JobExperimentDoc;
}

export async function logMetrics(
  deps: { runner: JobRunner; pubsub: PubSub },
  experiment: JobExperimentDoc,
  points: readonly MetricPointInput[],
  status: ExperimentStatus | null,
): Promise<LogMetricsResult> {
  if (points.length > MAX_POINTS_PER_CALL) {
    throw new InvalidInputError(['points'], `points: ${points.length} points in one call; send at most ${MAX_POINTS_PER_CALL} per call.`);
  }
  points.forEach((p, i) => {
    if (!KEY_PATTERN.test(p.key)) throw new InvalidInputError(['points', i, 'key'], `points[${i}].key: ${JSON.stringify(p.key)} is not allowed; expected 1-100 characters without ':' and not starting with a space.`);
    if (!Number.isSafeInteger(p.step) || p.step < 0) throw new InvalidInputError(['points', i, 'step'], `points[${i}].step: ${p.step} is not allowed; expected an integer >= 0.`);
  });
  if (status !== null && !FINAL_STATUSES.includes(status)) {
    throw new InvalidInputError(['status'], `status: ${status} is not allowed; a logged run can be ended as ${FINAL_STATUSES.join(', ')}.`);
  }
  const id: ObjectId = experiment._id;
  const result = await deps.runner.metrics.appendMetrics(id, points);
  const summary = { ...(experiment.summary ?? {}) };
  // Live subscribers see progress: steps past the last one seen (a retried batch stays silent).
  const publishedUpTo = summary.steps ?? -1;
  const byStep = new Map<number, Record<string, number>>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const values = byStep.get(p.step) ?? {};
    values[p.key] = p.value;
    byStep.set(p.step, values);
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  for (const step of steps) {
    const loss = byStep.get(step)![STEP_METRIC_KEYS.loss];
    if (summary.steps == null || step >= summary.steps) {
      summary.steps = step;
      if (loss !== undefined) summary.finalLoss = loss;
    }
    if (loss !== undefined && (summary.minLoss == null || loss < summary.minLoss)) {
      summary.minLoss = loss;
      summary.bestStep = step;
    }
  }
  await deps.runner.records.commitProgress(id, summary, null);
  const hex = id.toHexString();
  for (const step of steps) {
    if (step <= publishedUpTo) continue;
    const v = byStep.get(step)!;
    deps.pubsub.publish(
      trainingProgressTopic(hex),
      progressPayload({
        kind: 'STEP',
        experimentId: hex,
        status: experiment.status,
        step,
        loss: v[STEP_METRIC_KEYS.loss] ?? null,
        learningRate: v[STEP_METRIC_KEYS.learningRate] ?? null,
        gradNorm: v[STEP_METRIC_KEYS.gradNorm] ?? null,
        tokensPerSecond: v[STEP_METRIC_KEYS.tokensPerSecond] ?? null,
      }),
    );
  }
  let doc: JobExperimentDoc | null = null;
  if (status !== null) {
    if (experiment.runner !== 'logged') {
      throw new InvalidInputError(['status'], `status: experiment ${hex} is run by this server (runner ${experiment.runner}); its status follows its process.`);
    }
    doc = await deps.runner.records.transition(id, ['RUNNING', 'QUEUED'], status, { endedAt: new Date() });
    if (!doc) throw new InvalidInputError(['status'], `status: experiment ${hex} is already ${experiment.status}.`);
    deps.pubsub.publish(trainingProgressTopic(hex), progressPayload({ kind: 'STATUS', experimentId: hex, status, summary }));
    deps.pubsub.publish(experimentUpdatedTopic(doc.project), doc);
  }
  doc ??= await deps.runner.records.find(id);
  return { written: result.written, skipped: result.skipped, experiment: doc ?? experiment };
}
