// The API side of the BullMQ job queue (jobs.queue: bullmq): launchTraining and
// resumeTraining add one BullMQ job per queued run (data: the experiment id) instead of
// starting a local child; worker processes (src/jobs/training-worker.ts) take them.
//
// The job id is the experiment id plus the time the run was queued, so handing the same
// queued run twice (an API restart re-submits QUEUED runs) adds it once, while a resumed
// run is a new job. The worker only starts a run it can move from QUEUED to RUNNING, so a
// run cancelled while still in the queue is skipped when its job comes up.
//
// Cancel of a running run: BullMQ's own cancellation (Worker.cancelJob) only reaches the
// worker object it is called on, in that process. So the API publishes the experiment id on
// a control topic of the same Redis pub/sub the progress events use; every worker listens,
// and the one running it stops it exactly as the local runner does (SIGTERM, checkpoint,
// CANCELLED). A worker registers a run before it claims it in the database, and the API
// publishes only after it saw the claim, so the request cannot fall between the two.
import { Queue } from 'bullmq';
import { ObjectId } from 'mongodb';
import type { RemoteRunQueue } from './job-runner.ts';
import type { PubSub } from './pubsub.ts';
import type { RunRecords } from './run-records.ts';

/** Control topic: `{ experimentId }` asks the worker running that run to cancel it. */
export const CANCEL_RUN_TOPIC = 'jobs:cancel';

export interface CancelRunRequest {
  experimentId: string;
}

export interface TrainingJobData {
  experimentId: string;
}

export const TRAINING_JOB_NAME = 'train';

/** BullMQ connection options for a Redis URL (workers block on Redis, so no per-command retry limit). */
export function bullmqConnection(url: string, role: 'producer' | 'worker') {
  return role === 'worker' ? { url, maxRetriesPerRequest: null } : { url, enableOfflineQueue: false };
}

export class BullmqRunQueue implements RemoteRunQueue {
  private constructor(
    private readonly queue: Queue<TrainingJobData>,
    private readonly records: RunRecords,
    private readonly pubsub: PubSub,
  ) {}

  static async open(options: { url: string; queueName: string; records: RunRecords; pubsub: PubSub }): Promise<BullmqRunQueue> {
    const queue = new Queue<TrainingJobData>(options.queueName, { connection: bullmqConnection(options.url, 'producer') });
    queue.on('error', () => undefined); // connection trouble surfaces where enqueue fails, and in the pub/sub log
    await queue.waitUntilReady();
    return new BullmqRunQueue(queue, options.records, options.pubsub);
  }

  async enqueue(experimentId: string): Promise<void> {
    const doc = await this.records.find(new ObjectId(experimentId));
    const queuedAt = doc?.statusHistory?.findLast((s) => s.status === 'QUEUED')?.at ?? doc?.updatedAt ?? new Date();
    try {
      await this.queue.add(
        TRAINING_JOB_NAME,
        { experimentId },
        { jobId: `${experimentId}-${queuedAt.getTime()}`, removeOnComplete: true, removeOnFail: true, attempts: 3, backoff: { type: 'exponential', delay: 1000 } },
      );
    } catch (err) {
      throw new Error(`experiment ${experimentId} is QUEUED but could not be handed to the BullMQ queue ${this.queue.name} (${(err as Error).message}); the next API start hands it over again.`);
    }
  }

  requestCancel(experimentId: string): void {
    this.pubsub.publish(CANCEL_RUN_TOPIC, { experimentId } satisfies CancelRunRequest);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
