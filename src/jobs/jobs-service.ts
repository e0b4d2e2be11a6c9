// Starts the job layer with the server: pub/sub (memory or Redis), the job runner (recovering runs a previous
// server process left behind) and their indexes, and with jobs.queue bullmq the BullMQ queue
// that hands runs to workers; stops it on shutdown. Registered in
// src/server/service-registry.ts and reached by resolvers as `ctx.services.jobs`.
import path from 'node:path';
import type { ServiceStarter } from '../server/service-registry.ts';
import { parseExternalRunners } from './external-runners.ts';
import { BullmqRunQueue } from './bullmq-queue.ts';
import { JobRunner } from './job-runner.ts';
import { jobQueueSettingsFrom } from './job-queue-settings.ts';
import type { PubSub } from './pubsub.ts';
import { openPubSub, pubsubSettingsFrom } from './pubsub-settings.ts';
import { RunRecords } from './run-records.ts';

export interface JobsSettings {
  maxConcurrentRuns?: number;
  /** See src/jobs/external-runners.ts. */
  externalRunners?: unknown;
  /** Grace after SIGTERM before SIGKILL, for cancel and shutdown (ms). */
  stopGraceMs?: number;
  /** local | bullmq, with queueName and lockDurationMs: see src/jobs/job-queue-settings.ts. */
  queue?: string;
  queueName?: string;
  lockDurationMs?: number;
}

declare module '../server/context.ts' {
  interface JobsService {
    runner: JobRunner;
    /** Relative paths in launched configs resolve against this directory. */
    baseDir: string;
  }
  interface PubSubService extends PubSub {}
}

/** MAX_CONCURRENT_RUNS overrides the config; default 2. */
export function maxConcurrentRunsFrom(settings: JobsSettings | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MAX_CONCURRENT_RUNS ?? settings?.maxConcurrentRuns ?? 2;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`MAX_CONCURRENT_RUNS / jobs.maxConcurrentRuns must be an integer >= 1, got ${JSON.stringify(raw)}.`);
  return n;
}

export const jobsServiceStarter: ServiceStarter = {
  name: 'jobs',
  async start({ db, config, log }) {
    const settings = (config as { jobs?: JobsSettings }).jobs;
    const pubsubSettings = pubsubSettingsFrom(config.pubsub);
    const queueSettings = jobQueueSettingsFrom(settings, pubsubSettings);
    const { pubsub, close: closePubSub } = await openPubSub(pubsubSettings, log);
    let remoteQueue: BullmqRunQueue | undefined;
    try {
      if (queueSettings.kind === 'bullmq') {
        remoteQueue = await BullmqRunQueue.open({ url: pubsubSettings.url, queueName: queueSettings.queueName, records: new RunRecords(db), pubsub });
        log(`jobs: queued runs go to the BullMQ queue ${queueSettings.queueName}; \`lora-registry worker\` processes run them`);
      }
      const runner = new JobRunner({
        db,
        pubsub,
        runsDir: path.resolve(config.workspaceDir),
        maxConcurrentRuns: maxConcurrentRunsFrom(settings),
        externalRunners: parseExternalRunners(settings?.externalRunners, 'jobs.externalRunners'),
        stopGraceMs: settings?.stopGraceMs ?? 30_000,
        log,
        remoteQueue,
      });
      await runner.start();
      return {
        services: { jobs: { runner, baseDir: process.cwd() }, pubsub },
        async stop() {
          await runner.dispose();
          await remoteQueue?.close();
          await closePubSub();
        },
      };
    } catch (err) {
      await remoteQueue?.close();
      await closePubSub();
      throw err;
    }
  },
};
