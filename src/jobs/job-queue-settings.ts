// Where queued training runs go, from the server config's `jobs` section (JOB_QUEUE
// overrides `queue`, see src/server/config.ts): `local` (default: this process runs them,
// src/jobs/job-runner.ts) or `bullmq` (a BullMQ queue on the pub/sub's Redis, taken by
// `lora-registry worker` processes: src/jobs/bullmq-queue.ts, src/jobs/training-worker.ts).
import type { PubSubSettings } from './pubsub-settings.ts';

export const JOB_QUEUE_KINDS = ['local', 'bullmq'] as const;
export type JobQueueKind = (typeof JOB_QUEUE_KINDS)[number];

export interface JobQueueSettings {
  kind: JobQueueKind;
  /** The BullMQ queue API servers add to and workers take from. */
  queueName: string;
  /** BullMQ lockDuration: how long after a worker dies its run is taken over by another. */
  lockDurationMs: number;
}

export const DEFAULT_QUEUE_NAME = 'lora-registry-training';

export function jobQueueSettingsFrom(jobs: { queue?: unknown; queueName?: unknown; lockDurationMs?: unknown } | undefined, pubsub: PubSubSettings): JobQueueSettings {
  const kind = jobs?.queue ?? 'local';
  if (!JOB_QUEUE_KINDS.includes(kind as JobQueueKind)) {
    throw new Error(`jobs.queue (or JOB_QUEUE) must be one of ${JOB_QUEUE_KINDS.join(', ')}, got ${JSON.stringify(kind)}.`);
  }
  if (kind === 'bullmq' && pubsub.kind !== 'redis') {
    throw new Error('jobs.queue (or JOB_QUEUE) bullmq needs pubsub.kind redis (PUBSUB=redis): workers report progress and hear cancels through Redis pub/sub, and the queue lives on the same Redis.');
  }
  const queueName = jobs?.queueName ?? DEFAULT_QUEUE_NAME;
  if (typeof queueName !== 'string' || !/^[\w.-]+$/.test(queueName)) {
    throw new Error(`jobs.queueName must be letters, digits, '_', '.' or '-' (BullMQ refuses ':'), got ${JSON.stringify(queueName)}.`);
  }
  const lockDurationMs = jobs?.lockDurationMs ?? 30_000;
  if (typeof lockDurationMs !== 'number' || !Number.isInteger(lockDurationMs) || lockDurationMs < 1000) {
    throw new Error(`jobs.lockDurationMs must be an integer >= 1000 (ms), got ${JSON.stringify(lockDurationMs)}.`);
  }
  return { kind: kind as JobQueueKind, queueName, lockDurationMs };
}
