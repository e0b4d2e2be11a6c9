// The job runner: a FIFO queue of QUEUED runs, at most `maxConcurrentRuns` running at
// once, each in its own child process (a crash kills the run, never the server). The
// child's stdout goes straight into the run's event log file, which a RunFollower ingests;
// stderr goes to a file whose tail classifies failures. Queue and state live in MongoDB, so
// a restarted server re-queues QUEUED runs and marks orphaned RUNNING ones INTERRUPTED.
//
// Scale-out (README "Scale-out"): with a `remoteQueue` (src/jobs/bullmq-queue.ts) the API's
// runner runs nothing itself: QUEUED runs go to the BullMQ queue, and a worker process
// (src/jobs/training-worker.ts) runs each through `runNow`, the same code path as here.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectId, type Db } from 'mongodb';
import type { ExperimentStatus } from '../store/documents.ts';
import { InvalidInputError, NotFoundError } from '../store/errors.ts';
import { MetricsRepository } from '../store/metrics.ts';
import { describeEnvironment } from '../training/environment.ts';
import { EventLogTail } from './event-log-tail.ts';
import { externalRunnerArgv, type ExternalRunnerAllowList } from './external-runners.ts';
import { classifyRunEnd } from './failure-classification.ts';
import { experimentUpdatedTopic, progressPayload, trainingProgressTopic, type TrainingProgressPayload } from './progress-events.ts';
import type { PubSub } from './pubsub.ts';
import { RunFollower } from './run-follower.ts';
import { RunIngest } from './run-ingest.ts';
import { RunRecords, type JobExperimentDoc } from './run-records.ts';
import { runPaths, type RunPaths } from './run-paths.ts';

const CLI_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.ts');
// Resolved here, not by the child: the child's working directory is the run's directory.
const TSX_LOADER = import.meta.resolve('tsx');

/** The built-in trainer as a child process: `lora-registry train --config FILE --json`. */
export function builtinTrainCommand(configPath: string): string[] {
  return [process.execPath, '--import', TSX_LOADER, CLI_MAIN, 'train', '--config', configPath, '--json'];
}

/** Where QUEUED runs go instead of this process's FIFO: worker processes (src/jobs/bullmq-queue.ts). */
export interface RemoteRunQueue {
  /** Hands a QUEUED run to the workers; handing the same queued run twice starts it once. */
  enqueue(experimentId: string): Promise<void>;
  /** Asks the worker that runs it to stop it, as cancelTraining does here. */
  requestCancel(experimentId: string): void;
}

export interface JobRunnerOptions {
  db: Db;
  pubsub: PubSub;
  /** Each run gets `<runsDir>/<experimentId>/`. */
  runsDir: string;
  maxConcurrentRuns?: number;
  externalRunners?: ExternalRunnerAllowList;
  /** The argv that runs the built-in trainer on a config file (tests may wrap it). */
  trainCommand?: (configPath: string) => string[];
  /** After SIGTERM (cancel, shutdown), SIGKILL follows after this long. */
  stopGraceMs?: number;
  flushPoints?: number;
  flushIntervalMs?: number;
  log?: (line: string) => void;
  remoteQueue?: RemoteRunQueue;
}

interface ActiveRun {
  id: string;
  doc: JobExperimentDoc;
  child: ChildProcess | null;
  ingest: RunIngest;
  follower: RunFollower;
  cancelRequested: boolean;
  stopping: boolean;
  killTimer: NodeJS.Timeout | null;
  finished: Promise<void>;
}

const STDERR_TAIL_BYTES = 16 * 1024;
export const RESUMABLE_STATUSES: readonly ExperimentStatus[] = ['INTERRUPTED', 'CANCELLED', 'FAILED'];

export class JobRunner {
  readonly records: RunRecords;
  readonly metrics: MetricsRepository;
  private readonly queue: string[] = [];
  private readonly active = new Map<string, ActiveRun>();
  private readonly opts: Required<Omit<JobRunnerOptions, 'log' | 'remoteQueue'>> & Pick<JobRunnerOptions, 'log' | 'remoteQueue'>;
  private disposed = false;

  constructor(options: JobRunnerOptions) {
    this.opts = {
      maxConcurrentRuns: 2,
      externalRunners: new Map(),
      trainCommand: builtinTrainCommand,
      stopGraceMs: 30_000,
      flushPoints: 20_000,
      flushIntervalMs: 5000,
      ...options,
    };
    this.records = new RunRecords(options.db);
    this.metrics = new MetricsRepository(options.db);
  }

  get externalRunners(): ExternalRunnerAllowList {
    return this.opts.externalRunners;
  }

  get runsDir(): string {
    return this.opts.runsDir;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  pathsOf(experimentId: string): RunPaths {
    return runPaths(this.opts.runsDir, experimentId);
  }

  /**
   * Start-up: runs left RUNNING by a previous server process are stopped if their process
   * still lives, their event log is stored to the end, and they become INTERRUPTED
   * (resumable); QUEUED runs are queued again in creation order. With a remote queue the
   * RUNNING runs belong to workers and are left alone; QUEUED ones are handed to it again.
   */
  async start(): Promise<void> {
    await Promise.all([this.metrics.ensureIndexes(), this.records.ensureIndexes()]);
    if (!this.opts.remoteQueue) {
      const orphans = await this.records.experiments.find({ status: 'RUNNING', runner: { $in: ['builtin', 'external'] } }).toArray();
      for (const doc of orphans) await this.recoverOrphan(doc, 'its process did not survive the server restart');
    }
    const queued = await this.records.experiments
      .find({ status: 'QUEUED', runner: { $in: ['builtin', 'external'] } }, { projection: { _id: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    for (const doc of queued) await this.submit(doc._id.toHexString());
  }

  /**
   * Runs one run here to its end: a queue worker's job. A run still RUNNING was left by a
   * worker that died (BullMQ re-queued its stalled job): it is recovered as after a server
   * restart (INTERRUPTED, its log stored to the end) and continues from its newest checkpoint.
   */
  async runNow(experimentId: string): Promise<void> {
    const doc = await this.records.find(new ObjectId(experimentId));
    if (doc?.status === 'RUNNING' && !this.active.has(experimentId)) {
      await this.recoverOrphan(doc, `the worker running it (${doc.process?.host ?? 'unknown host'}) stopped mid-run`);
      const requeued = await this.records.transition(doc._id, ['INTERRUPTED'], 'QUEUED', { error: null, endedAt: null });
      if (requeued) this.announce(requeued, 'STATUS', null);
      this.log(`experimentId=${experimentId} continues here from its newest checkpoint`);
    }
    await this.startRun(experimentId);
  }

  private async recoverOrphan(doc: JobExperimentDoc, reason: string): Promise<void> {
    const id = doc._id.toHexString();
    const pid = doc.process?.pid;
    if (pid && doc.process?.host === os.hostname() && isProcessOfRun(pid, id)) {
      this.log(`experimentId=${id} stopping the training process ${pid}, left running by the process that started it`);
      await stopProcess(pid, this.opts.stopGraceMs);
    }
    const ingest = this.createIngest(doc);
    const follower = new RunFollower({ tail: new EventLogTail(this.pathsOf(id).eventLog, doc.eventLogOffset ?? 0), ingest, committedOffset: doc.eventLogOffset ?? 0, log: (l) => this.log(l) });
    follower.processHasExited();
    await follower.run();
    const updated = await this.records.transition(doc._id, ['RUNNING'], 'INTERRUPTED', { endedAt: new Date(), process: null });
    this.log(`experimentId=${id} INTERRUPTED: ${reason}; resumeTraining continues it from its newest checkpoint`);
    if (updated) this.announce(updated, 'STATUS', ingest);
  }

  /** Queues a QUEUED experiment (FIFO, or the remote queue) and starts it when a slot is free. */
  async submit(experimentId: string): Promise<void> {
    if (this.opts.remoteQueue) return this.opts.remoteQueue.enqueue(experimentId);
    if (this.disposed || this.active.has(experimentId) || this.queue.includes(experimentId)) return;
    this.queue.push(experimentId);
    this.pump();
  }

  queuePosition(experimentId: string): number | null {
    const i = this.queue.indexOf(experimentId);
    return i === -1 ? null : i + 1;
  }

  isActive(experimentId: string): boolean {
    return this.active.has(experimentId);
  }

  private pump(): void {
    while (!this.disposed && this.active.size < this.opts.maxConcurrentRuns && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const placeholder = this.startRun(id).catch((err: unknown) => {
        this.log(`experimentId=${id} could not start: ${(err as Error).message}`);
      });
      void placeholder;
    }
  }

  private createIngest(doc: JobExperimentDoc): RunIngest {
    const id = doc._id.toHexString();
    return new RunIngest({
      experimentId: doc._id,
      project: doc.project,
      records: this.records,
      metrics: this.metrics,
      pubsub: this.opts.pubsub,
      flushPoints: this.opts.flushPoints,
      flushIntervalMs: this.opts.flushIntervalMs,
      workingDir: this.pathsOf(id).runDir,
      summary: doc.summary ?? null,
      status: () => (this.active.has(id) ? 'RUNNING' : doc.status),
    });
  }

  private commandFor(doc: JobExperimentDoc, paths: RunPaths): string[] {
    if (doc.runner === 'external') {
      const runner = this.opts.externalRunners.get(doc.externalCommand ?? '');
      if (!runner) throw new Error(`external command "${doc.externalCommand}" is no longer in the server config's externalRunners allow-list`);
      return externalRunnerArgv(runner, {
        node: process.execPath,
        experimentId: doc._id.toHexString(),
        runDir: paths.runDir,
        outputDir: doc.outputDir ?? paths.runDir,
        configPath: paths.configFile,
      });
    }
    return this.opts.trainCommand(paths.configFile);
  }

  private async startRun(id: string): Promise<void> {
    // Reserve the slot before the first await so that pump() never over-commits.
    const reservation = { id } as ActiveRun;
    this.active.set(id, reservation);
    let doc: JobExperimentDoc | null;
    try {
      doc = await this.records.transition(new ObjectId(id), ['QUEUED'], 'RUNNING', { endedAt: null, error: null });
    } catch (err) {
      this.active.delete(id);
      this.pump();
      throw err;
    }
    if (!doc) {
      // Cancelled or deleted while queued.
      this.active.delete(id);
      this.pump();
      return;
    }
    if (!doc.startedAt) await this.records.setFields(doc._id, { startedAt: new Date() });
    const paths = this.pathsOf(id);
    mkdirSync(paths.jobDir, { recursive: true });
    terminateLastLine(paths.eventLog);
    closeSync(openSync(paths.eventLog, 'a')); // exists before the follower watches it
    const ingest = this.createIngest(doc);
    const committed = doc.eventLogOffset ?? 0;
    const follower = new RunFollower({ tail: new EventLogTail(paths.eventLog, committed), ingest, committedOffset: committed, log: (l) => this.log(l) });
    // A cancel that arrived while the run was being claimed is kept: it stops the child once spawned.
    const run: ActiveRun = Object.assign(reservation, { doc, child: null, ingest, follower, cancelRequested: reservation.cancelRequested === true, stopping: false, killTimer: null });
    const following = follower.run();

    let argv: string[];
    try {
      argv = this.commandFor(doc, paths);
    } catch (err) {
      follower.processHasExited();
      await following;
      await this.finish(run, { exitCode: null, signal: null, spawnError: (err as Error).message });
      return;
    }
    const stdout = openSync(paths.eventLog, 'a');
    const stderr = openSync(paths.stderrLog, 'a');
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        cwd: paths.runDir,
        env: { ...process.env, LORA_REGISTRY_EXPERIMENT_ID: id, LORA_REGISTRY_RUN_DIR: paths.runDir },
        stdio: ['ignore', stdout, stderr],
      });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    run.child = child;
    // Listen at once: a program that cannot start reports 'error' on the next tick.
    const exited = new Promise<{ exitCode: number | null; signal: string | null; spawnError: string | null }>((resolve) => {
      child.once('error', (err) => resolve({ exitCode: null, signal: null, spawnError: err.message }));
      child.once('exit', (exitCode, signal) => resolve({ exitCode, signal, spawnError: null }));
    });
    this.log(`experimentId=${id} RUNNING pid=${child.pid ?? '?'}: ${argv.join(' ')}`);
    if (doc.runner === 'external' && !doc.environment) {
      await this.records.setFields(doc._id, { environment: { ...describeEnvironment('cuda'), executionProvider: 'external' } }).catch(() => undefined);
    }
    if (child.pid) await this.records.setFields(doc._id, { process: { pid: child.pid, host: os.hostname(), startedAt: new Date() } }).catch(() => undefined);
    this.announce({ ...doc, status: 'RUNNING' }, 'STATUS', ingest);
    if (run.cancelRequested) this.signalStop(run);

    const exit = await exited;
    if (run.killTimer) clearTimeout(run.killTimer);
    follower.processHasExited();
    await following;
    if (this.disposed && run.stopping && !run.cancelRequested) {
      await this.retrying(id, () => this.records.transition(doc._id, ['RUNNING'], 'INTERRUPTED', { endedAt: new Date(), process: null }));
      this.active.delete(id);
      return;
    }
    await this.finish(run, exit);
  }

  private async finish(run: ActiveRun, exit: { exitCode: number | null; signal: string | null; spawnError: string | null }): Promise<void> {
    const { status, error } = exit.spawnError
      ? { status: 'FAILED' as const, error: { type: 'CRASHED' as const, message: `the training command could not start: ${exit.spawnError}`, exitCode: null, signal: null } }
      : classifyRunEnd({
          sawDone: run.ingest.sawDone,
          failure: run.ingest.failure,
          cancelRequested: run.cancelRequested,
          exitCode: exit.exitCode,
          signal: exit.signal,
          stderrTail: readTail(this.pathsOf(run.id).stderrLog, STDERR_TAIL_BYTES),
        });
    const updated = await this.retrying(run.id, () =>
      this.records.transition(run.doc._id, ['RUNNING'], status, { endedAt: new Date(), error, process: null }),
    );
    this.log(`experimentId=${run.id} ${status}${error ? ` ${error.type}: ${error.message}` : ''}`);
    this.active.delete(run.id);
    if (updated) this.announce(updated, 'STATUS', run.ingest);
    this.pump();
  }

  /** Database writes at the end of a run are retried until they succeed (the database may be down). */
  private async retrying<T>(id: string, write: () => Promise<T>): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (this.disposed && attempt > 3) return null;
        this.log(`experimentId=${id} recording the run's status failed (${(err as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  private announce(doc: JobExperimentDoc, kind: 'STATUS', ingest: RunIngest | null): void {
    const id = doc._id.toHexString();
    this.opts.pubsub.publish(
      trainingProgressTopic(id),
      progressPayload({
        kind,
        experimentId: id,
        status: doc.status,
        step: ingest?.lastStep?.step ?? doc.summary?.steps ?? null,
        totalSteps: ingest?.totalSteps ?? doc.totalSteps ?? null,
        summary: ingest?.currentSummary() ?? doc.summary ?? null,
        error: doc.error ?? null,
      }),
    );
    this.opts.pubsub.publish(experimentUpdatedTopic(doc.project), doc);
  }

  /** What a late subscriber sees first: the run's current state, from memory when it runs here. */
  async snapshot(experimentId: ObjectId): Promise<TrainingProgressPayload | null> {
    const id = experimentId.toHexString();
    const doc = await this.records.find(experimentId);
    if (!doc) return null;
    const run = this.active.get(id);
    const last = run?.ingest?.lastStep ?? null;
    return progressPayload({
      kind: 'SNAPSHOT',
      experimentId: id,
      status: doc.status,
      time: last ? new Date(last.time) : doc.updatedAt,
      step: last?.step ?? doc.summary?.steps ?? null,
      totalSteps: run?.ingest?.totalSteps ?? doc.totalSteps ?? null,
      epoch: last?.epoch ?? null,
      loss: last?.loss ?? doc.summary?.finalLoss ?? null,
      learningRate: last?.learningRate ?? null,
      gradNorm: last?.gradNorm ?? null,
      tokensPerSecond: last?.tokensPerSecond ?? doc.summary?.tokensPerSecond ?? null,
      etaSeconds: last?.etaSeconds ?? null,
      summary: run?.ingest?.currentSummary() ?? doc.summary ?? null,
      error: doc.error ?? null,
    });
  }

  /**
   * Cancels a queued run at once, or asks a running one to stop: SIGTERM, on which the
   * trainer finishes its step, saves a checkpoint and exits; SIGKILL after the grace time.
   * A run on a worker is asked through the remote queue.
   */
  async cancel(experimentId: ObjectId): Promise<JobExperimentDoc> {
    const id = experimentId.toHexString();
    const queued = this.queue.indexOf(id);
    if (queued !== -1) this.queue.splice(queued, 1);
    if (this.cancelIfActive(id)) return (await this.records.find(experimentId))!;
    const updated = await this.records.transition(experimentId, ['QUEUED'], 'CANCELLED', {
      endedAt: new Date(),
      error: { type: 'CANCELLED', message: 'cancelled on request (cancelTraining) before it started' },
    });
    if (updated) {
      this.announce(updated, 'STATUS', null);
      return updated;
    }
    const doc = await this.records.find(experimentId);
    if (!doc) throw new NotFoundError('Experiment', id);
    // Claimed by a worker (which registers a run before claiming it, so it hears this).
    if (doc.status === 'RUNNING' && this.opts.remoteQueue && (doc.runner === 'builtin' || doc.runner === 'external')) {
      this.opts.remoteQueue.requestCancel(id);
      return doc;
    }
    throw new InvalidInputError(['id'], `experiment ${id} is ${doc.status}; only QUEUED or RUNNING runs of this server can be cancelled.`);
  }

  /** Stops a run of this process (cancelled, not interrupted); false when it runs elsewhere or not at all. */
  cancelIfActive(experimentId: string): boolean {
    const run = this.active.get(experimentId);
    if (!run) return false;
    run.cancelRequested = true;
    if (run.child) this.signalStop(run);
    return true;
  }

  private signalStop(run: ActiveRun): void {
    if (!run.child || run.stopping) return;
    run.stopping = true;
    run.child.kill('SIGTERM');
    run.killTimer = setTimeout(() => run.child?.kill('SIGKILL'), this.opts.stopGraceMs);
    run.killTimer.unref();
  }

  /** Queues an INTERRUPTED, CANCELLED or FAILED run again; the trainer resumes from its newest checkpoint. */
  async resume(experimentId: ObjectId): Promise<JobExperimentDoc> {
    const id = experimentId.toHexString();
    const current = await this.records.find(experimentId);
    if (!current) throw new NotFoundError('Experiment', id);
    if (current.runner !== 'builtin' && current.runner !== 'external') {
      throw new InvalidInputError(['id'], `experiment ${id} was logged from elsewhere (runner ${current.runner}); only runs this server started can be resumed.`);
    }
    const updated = await this.records.transition(experimentId, RESUMABLE_STATUSES, 'QUEUED', { error: null, endedAt: null });
    if (!updated) {
      const doc = await this.records.find(experimentId);
      throw new InvalidInputError(['id'], `experiment ${id} is ${doc?.status ?? current.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed.`);
    }
    this.announce(updated, 'STATUS', null);
    await this.submit(id);
    return updated;
  }

  /**
   * Shutdown: running children get SIGTERM (they checkpoint and exit) and their runs become
   * INTERRUPTED, resumable after the next start.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.queue.length = 0;
    const runs = [...this.active.values()];
    for (const run of runs) if (run.child) this.signalStop(run);
    await Promise.all(
      runs.map(async (run) => {
        const deadline = Date.now() + this.opts.stopGraceMs + 1000;
        while (this.active.has(run.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (this.active.has(run.id)) run.follower?.abort();
      }),
    );
  }
}

/** Whether `pid` is alive and is the process of this run (its environment names the run). */
function isProcessOfRun(pid: number, experimentId: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`LORA_REGISTRY_EXPERIMENT_ID=${experimentId}`);
  } catch {
    return false;
  }
}

async function stopProcess(pid: number, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A process killed mid-line leaves a partial last line; a newline keeps it from merging with the next run's first. */
function terminateLastLine(file: string): void {
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  if (size === 0) return;
  const fd = openSync(file, 'r');
  const last = Buffer.alloc(1);
  try {
    readSync(fd, last, 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  if (last[0] !== 10) appendFileSync(file, '\n');
}

function readTail(file: string, bytes: number): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const length = Math.min(size, bytes);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
