// Turns one run's events into stored records and live notifications. Step metrics are
// buffered and written in batches (by count or age); checkpoints, start and end facts are
// written in order, after the points before them. Every event is published to subscribers
// the moment it is accepted, before it is stored: live views never wait for the database.
import type { ObjectId } from 'mongodb';
import path from 'node:path';
import type { ExperimentStatus, FileRef, RunSummaryDoc } from '../store/documents.ts';
import type { MetricSeriesInput, MetricsRepository } from '../store/metrics.ts';
import type { IngestEvent, IngestStepEvent } from './event-protocol.ts';
import { describeDirectoryFiles } from './file-hashing.ts';
import { experimentUpdatedTopic, progressPayload, trainingProgressTopic, type TrainingProgressPayload } from './progress-events.ts';
import type { PubSub } from './pubsub.ts';
import type { RunRecords } from './run-records.ts';

/** Metric keys of the built-in step fields. */
export const STEP_METRIC_KEYS = {
  loss: 'loss',
  learningRate: 'learningRate',
  gradNorm: 'gradNorm',
  tokensPerSecond: 'tokensPerSecond',
  evalLoss: 'evalLoss',
} as const;

export interface RunIngestOptions {
  experimentId: ObjectId;
  project: string;
  records: RunRecords;
  metrics: MetricsRepository;
  pubsub: PubSub;
  /** Flush once this many points are buffered. */
  flushPoints?: number;
  /**
   * Flush points at the latest this long after the oldest buffered one arrived (default
   * 5 s). Live views do not wait for it (events are published at once); it bounds how far the
   * stored history lags. A flush costs the embedded engine about 20-25 ms of CPU whatever its
   * size (a handful of commands), which at 1 s was 2-2.5% of a core taken from the trainer.
   */
  flushIntervalMs?: number;
  /** Paths an external trainer reports relative to its working directory resolve against this. */
  workingDir?: string;
  /** The summary already stored (a resumed or recovered run continues it). */
  summary?: RunSummaryDoc | null;
  status: () => ExperimentStatus;
}

export class RunIngest {
  readonly experimentId: ObjectId;
  readonly experimentIdHex: string;
  private readonly opts: Required<Pick<RunIngestOptions, 'flushPoints' | 'flushIntervalMs'>> & RunIngestOptions;
  /** Buffered points in columns per key; `pendingCount` counts them. */
  private pending = new Map<string, Required<MetricSeriesInput>>();
  private pendingCount = 0;
  private pendingSince = 0;
  private pendingOffset: number | null = null;
  private summary: RunSummaryDoc;
  private startedAtMs: number | null = null;
  totalSteps: number | null = null;
  lastStep: IngestStepEvent | null = null;
  /** The last `failed` event and whether `done` was seen: how the run ended, as the process told it. */
  failure: { type: import('../store/documents.ts').ErrorType; message: string } | null = null;
  sawDone = false;
  /** Events at or before this log offset were already published (a re-read after a failed commit stays silent). */
  private publishedOffset = -1;

  constructor(opts: RunIngestOptions) {
    this.opts = { flushPoints: 20_000, flushIntervalMs: 5000, ...opts };
    this.experimentId = opts.experimentId;
    this.experimentIdHex = opts.experimentId.toHexString();
    this.summary = { ...(opts.summary ?? {}) };
  }

  get bufferedPoints(): number {
    return this.pendingCount;
  }

  private buffer(key: string, step: number, value: number, time: Date): void {
    let series = this.pending.get(key);
    if (!series) this.pending.set(key, (series = { key, steps: [], values: [], times: [] }));
    series.steps.push(step);
    series.values.push(value);
    series.times.push(time);
    this.pendingCount++;
  }

  /** Checked after each line: the buffer must not grow past this even while a backlog is read. */
  isFull(): boolean {
    return this.pendingCount >= this.opts.flushPoints * 4;
  }

  /** Checked once reading has caught up with the log: a backlog is written in batches as large as isFull allows (fewer, larger writes). */
  isDue(now = Date.now()): boolean {
    return this.pendingCount >= this.opts.flushPoints || (this.pendingCount > 0 && now - this.pendingSince >= this.opts.flushIntervalMs);
  }

  /** Drops what was buffered but not committed (the caller re-reads it from the log). */
  discardPending(): void {
    this.pending = new Map();
    this.pendingCount = 0;
    this.pendingOffset = null;
  }

  private publish(payload: TrainingProgressPayload, offset: number | null): void {
    if (offset !== null) {
      if (offset <= this.publishedOffset) return;
      this.publishedOffset = offset;
    }
    this.opts.pubsub.publish(trainingProgressTopic(this.experimentIdHex), payload);
  }

  /**
   * Takes one event. Step and eval events are buffered (returns false); any other event
   * must be stored now with `store` (returns true), after flushing what is buffered.
   */
  accept(event: IngestEvent, offset: number | null): boolean {
    if (event.type === 'step' || event.type === 'eval') {
      const time = new Date(event.time);
      if (this.pendingCount === 0) this.pendingSince = Date.now();
      if (event.type === 'step') {
        this.addStepPoints(event, time);
        this.lastStep = event;
        this.publish(
          progressPayload({
            kind: 'STEP',
            experimentId: this.experimentIdHex,
            status: this.opts.status(),
            time,
            step: event.step,
            totalSteps: this.totalSteps,
            epoch: event.epoch,
            loss: event.loss,
            learningRate: event.learningRate,
            gradNorm: event.gradNorm,
            tokensPerSecond: event.tokensPerSecond,
            etaSeconds: event.etaSeconds,
          }),
          offset,
        );
      } else {
        this.buffer(STEP_METRIC_KEYS.evalLoss, event.step, event.evalLoss, time);
        this.summary.finalEvalLoss = event.evalLoss;
        this.publish(progressPayload({ kind: 'EVAL', experimentId: this.experimentIdHex, status: this.opts.status(), time, step: event.step, evalLoss: event.evalLoss }), offset);
      }
      if (offset !== null) this.pendingOffset = offset;
      return false;
    }
    return true;
  }

  private addStepPoints(e: IngestStepEvent, time: Date): void {
    if (e.loss !== null) {
      this.buffer(STEP_METRIC_KEYS.loss, e.step, e.loss, time);
      const s = this.summary;
      s.finalLoss = e.loss;
      if (s.minLoss == null || e.loss < s.minLoss) {
        s.minLoss = e.loss;
        s.bestStep = e.step;
      }
    }
    if (e.learningRate !== null) this.buffer(STEP_METRIC_KEYS.learningRate, e.step, e.learningRate, time);
    if (e.gradNorm !== null) this.buffer(STEP_METRIC_KEYS.gradNorm, e.step, e.gradNorm, time);
    if (e.tokensPerSecond !== null) {
      this.buffer(STEP_METRIC_KEYS.tokensPerSecond, e.step, e.tokensPerSecond, time);
      this.summary.tokensPerSecond = e.tokensPerSecond;
    }
    if (e.metrics) for (const [key, value] of Object.entries(e.metrics)) this.buffer(key, e.step, value, time);
    if (this.summary.steps == null || e.step > this.summary.steps) this.summary.steps = e.step;
    if (this.startedAtMs !== null) this.summary.wallSeconds = (time.getTime() - this.startedAtMs) / 1000;
  }

  /** A log line that is not an event (log output): it only moves the offset along. */
  skipLine(offset: number): void {
    this.pendingOffset = offset;
  }

  /**
   * Writes the buffered points and the summary, with the log offset they reach; returns
   * that offset (null when there was nothing to commit).
   */
  async flush(): Promise<number | null> {
    if (this.pendingCount === 0 && this.pendingOffset === null) return null;
    const series = [...this.pending.values()];
    const offset = this.pendingOffset;
    const count = this.pendingCount;
    this.discardPending();
    if (count > 0) await this.opts.metrics.appendMetricSeries(this.experimentId, series);
    await this.opts.records.commitProgress(this.experimentId, this.summary, offset);
    return offset;
  }

  /** Stores a non-metric event (after `flush`), then commits its log offset. */
  async store(event: IngestEvent, offset: number | null): Promise<void> {
    const run = { experimentId: this.experimentId, project: this.opts.project };
    const id = this.experimentIdHex;
    switch (event.type) {
      case 'start': {
        this.startedAtMs = Date.parse(event.time);
        this.totalSteps = event.totalSteps ?? null;
        const set: Record<string, unknown> = { totalSteps: this.totalSteps, resumedFromStep: event.resumedFromStep ?? null };
        if (event.environment) set.environment = event.environment;
        if (event.dataset) set.dataset = event.dataset;
        if (event.baseModel) set.baseModel = event.baseModel;
        if (event.outputDir) set.outputDir = event.outputDir;
        await this.opts.records.commitProgress(this.experimentId, {}, offset, set);
        this.publish(progressPayload({ kind: 'STATUS', experimentId: id, status: this.opts.status(), totalSteps: this.totalSteps, step: event.resumedFromStep ?? null }), offset);
        return;
      }
      case 'checkpoint': {
        const dir = this.resolve(event.dir);
        const files = event.files ?? (await describeDirectoryFiles(dir));
        await this.opts.records.recordCheckpoint(run, { step: event.step, epoch: event.epoch, loss: event.loss, dir, files });
        await this.opts.records.commitProgress(this.experimentId, this.summary, offset);
        this.publish(
          progressPayload({ kind: 'CHECKPOINT', experimentId: id, status: this.opts.status(), step: event.step, loss: event.loss, checkpoint: { step: event.step, dir, loss: event.loss, files } }),
          offset,
        );
        await this.publishExperiment();
        return;
      }
      case 'done': {
        this.sawDone = true;
        const files: FileRef[] = event.files ?? (event.adapterDir ? await describeDirectoryFiles(this.resolve(event.adapterDir)) : []);
        await this.opts.records.recordArtifacts(run, files.map((f) => ({ ...f, path: this.resolve(f.path) })), null);
        const s = this.summary;
        if (event.finalLoss != null) s.finalLoss = event.finalLoss;
        if (event.finalEvalLoss != null) s.finalEvalLoss = event.finalEvalLoss;
        if (event.step != null) s.steps = event.step;
        if (event.wallSeconds != null) s.wallSeconds = event.wallSeconds;
        if (event.tokensPerSecond != null) s.tokensPerSecond = event.tokensPerSecond;
        await this.opts.records.commitProgress(this.experimentId, s, offset);
        return;
      }
      case 'failed':
        this.failure = event.error;
        await this.opts.records.commitProgress(this.experimentId, {}, offset);
        return;
      default:
        return;
    }
  }

  currentSummary(): RunSummaryDoc {
    return { ...this.summary };
  }

  private resolve(p: string): string {
    return this.opts.workingDir ? path.resolve(this.opts.workingDir, p) : p;
  }

  async publishExperiment(): Promise<void> {
    const doc = await this.opts.records.find(this.experimentId);
    if (doc) this.opts.pubsub.publish(experimentUpdatedTopic(doc.project), doc);
  }
}
