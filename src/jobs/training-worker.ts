// A worker process's side of the BullMQ job queue (`lora-registry worker`): takes training
// jobs (experiment ids, see src/jobs/bullmq-queue.ts) with a concurrency limit and runs each
// through JobRunner.runNow, the local runner's own code path (child process, event-log
// spool, ingest into the store, progress published into the shared Redis pub/sub). Cancel
// requests arrive on the pub/sub control topic; the worker running the run stops it.
//
// A worker that dies mid-run stops renewing its job's lock; BullMQ's stalled-job check (in
// any live worker, every lockDuration) puts the job back in the queue, and the worker that
// takes it recovers the run (stops its leftover process when on the same host, stores the
// rest of its event log, INTERRUPTED) and continues it from its newest checkpoint.
import { Worker } from 'bullmq';
import type { Db } from 'mongodb';
import { bullmqConnection, CANCEL_RUN_TOPIC, type CancelRunRequest, type TrainingJobData } from './bullmq-queue.ts';
import type { ExternalRunnerAllowList } from './external-runners.ts';
import { JobRunner } from './job-runner.ts';
import type { PubSub } from './pubsub.ts';

export interface TrainingWorkerOptions {
  db: Db;
  pubsub: PubSub;
  redisUrl: string;
  queueName: string;
  runsDir: string;
  /** Runs this worker trains at once. */
  concurrency: number;
  externalRunners: ExternalRunnerAllowList;
  stopGraceMs: number;
  /** How long a job stays claimed without a lock renewal (BullMQ lockDuration): how soon a dead worker's run is taken over. */
  lockDurationMs?: number;
  log: (line: string) => void;
}

export interface TrainingWorker {
  /** Stops taking jobs; running runs get SIGTERM, checkpoint and become INTERRUPTED (resumeTraining continues them). */
  close(): Promise<void>;
}

export async function startTrainingWorker(options: TrainingWorkerOptions): Promise<TrainingWorker> {
  const { log } = options;
  const runner = new JobRunner({
    db: options.db,
    pubsub: options.pubsub,
    runsDir: options.runsDir,
    maxConcurrentRuns: options.concurrency,
    externalRunners: options.externalRunners,
    stopGraceMs: options.stopGraceMs,
    log,
  });
  const cancels = options.pubsub.subscribe<CancelRunRequest>(CANCEL_RUN_TOPIC);
  await cancels.ready;
  const listening = (async () => {
    for await (const { experimentId } of cancels) {
      if (runner.cancelIfActive(experimentId)) log(`experimentId=${experimentId} cancel requested: stopping it`);
    }
  })();

  const worker = new Worker<TrainingJobData>(options.queueName, (job) => runner.runNow(job.data.experimentId), {
    connection: bullmqConnection(options.redisUrl, 'worker'),
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.lockDurationMs ?? 30_000,
    // A run may stall more than once (each worker that took it died); it always resumes from its checkpoint.
    maxStalledCount: 10,
  });
  worker.on('error', (err) => log(`worker: BullMQ queue ${options.queueName}: ${err.message}`));
  worker.on('failed', (job, err) => log(`worker: job ${job?.id ?? '?'} failed: ${err.message}`));
  await worker.waitUntilReady();
  return {
    async close() {
      // Stop taking jobs first; the jobs in hand end once their runs are stopped.
      const closing = worker.close();
      await runner.dispose();
      await closing;
      await cancels.return!();
      await listening;
    },
  };
}
