// `lora-registry worker [--config FILE] [--concurrency N]`: a training worker for scale-out
// (README "Scale-out"): takes runs from the BullMQ queue that API servers with
// jobs.queue bullmq fill, trains them here, and stores and publishes their progress like the
// API's own runner would. Runs until SIGINT/SIGTERM.
import path from 'node:path';
import { parseExternalRunners } from '../../jobs/external-runners.ts';
import { jobQueueSettingsFrom } from '../../jobs/job-queue-settings.ts';
import { maxConcurrentRunsFrom, type JobsSettings } from '../../jobs/jobs-service.ts';
import { openPubSub, pubsubSettingsFrom } from '../../jobs/pubsub-settings.ts';
import { redactRedisUrl } from '../../jobs/redis-pubsub.ts';
import { startTrainingWorker } from '../../jobs/training-worker.ts';
import { loadServerConfig } from '../../server/config.ts';
import { connectDatabase } from '../../store/connection.ts';
import { drainOnSignal } from '../drain-on-signal.ts';
import { parseCommandLine } from '../command-line.ts';

export const summary = 'Train runs from the BullMQ queue that API servers with JOB_QUEUE=bullmq fill (scale-out).';

const USAGE = `Usage: lora-registry worker [--config FILE] [--concurrency N]

  --config FILE      server settings in YAML (default: configs/server.yaml when present); the
                     worker reads mongoUri, workspaceDir, pubsub and jobs from it
  --concurrency N    runs trained at once (default: MAX_CONCURRENT_RUNS, then jobs.maxConcurrentRuns, then 2)

Environment: MONGODB_URI (required: the database the API servers use), REDIS_URL (default
redis://127.0.0.1:6379), WORKSPACE_DIR (runs' files; the same path the API servers see),
MAX_CONCURRENT_RUNS. The worker always uses Redis pub/sub and the BullMQ queue.`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommandLine(argv, { config: { type: 'string' }, concurrency: { type: 'string' } }, USAGE, 'lora-registry worker');
  if (typeof values === 'number') return values;
  const config = loadServerConfig({ file: values.config });
  if (!config.mongoUri) {
    console.error('lora-registry worker: MONGODB_URI (or mongoUri in the config) is required: the database the API servers use. For development, `lora-registry db` runs the embedded engine as its own server.');
    return 2;
  }
  const jobs = config.jobs as JobsSettings | undefined;
  // A worker only makes sense with Redis pub/sub and the BullMQ queue, whatever the file says for the API.
  const pubsubSettings = pubsubSettingsFrom({ ...config.pubsub, kind: 'redis' });
  const queue = jobQueueSettingsFrom({ ...jobs, queue: 'bullmq' }, pubsubSettings);
  const concurrency = values.concurrency !== undefined ? Number(values.concurrency) : maxConcurrentRunsFrom(jobs);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    console.error(`lora-registry worker: --concurrency must be an integer >= 1, got ${JSON.stringify(values.concurrency)}.`);
    return 2;
  }
  const log = (line: string) => console.log(`[lora-registry worker] ${line}`);
  const database = await connectDatabase({ uri: config.mongoUri });
  const { pubsub, close: closePubSub } = await openPubSub(pubsubSettings, log).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });
  const runsDir = path.resolve(config.workspaceDir);
  const worker = await startTrainingWorker({
    db: database.db,
    pubsub,
    redisUrl: pubsubSettings.url,
    queueName: queue.queueName,
    lockDurationMs: queue.lockDurationMs,
    runsDir,
    concurrency,
    externalRunners: parseExternalRunners(jobs?.externalRunners, 'jobs.externalRunners'),
    stopGraceMs: jobs?.stopGraceMs ?? 30_000,
    log,
  });
  console.log(`lora-registry worker: taking runs from BullMQ queue ${queue.queueName} on ${redactRedisUrl(pubsubSettings.url)}, ${concurrency} at once; runs in ${runsDir}`);
  await drainOnSignal('lora-registry worker', 'runs (they checkpoint and become INTERRUPTED)', async () => {
    await worker.close();
    await closePubSub();
    await database.close();
  });
  return 0;
}
