// The writes the job layer makes for one run besides its metric points: status transitions
// (with their timestamps), the summary and ingest offset, the start facts (environment,
// dataset, base model), checkpoints and artifacts. Every write is idempotent, keyed by the
// experiment id, so replaying a run's event log records nothing twice.
import type { Collection, Db, ObjectId } from 'mongodb';
import path from 'node:path';
import {
  COLLECTIONS, type ArtifactDoc, type ArtifactKind, type CheckpointDoc, type ExperimentDoc, type ExperimentStatus,
  type FileRef, type RunErrorDoc, type RunSummaryDoc,
} from '../store/documents.ts';

export interface StatusChange {
  status: ExperimentStatus;
  at: Date;
}

/** Fields the job layer keeps on the experiment beyond the contract's. */
export interface JobFieldsDoc {
  statusHistory?: StatusChange[];
  /** Byte offset of the run's event log up to which every event is stored. */
  eventLogOffset?: number;
  /** The process running it now (built-in or external runner), for recovery at start-up. */
  process?: { pid: number; host: string; startedAt: Date } | null;
  /** The allow-listed command of an external run. */
  externalCommand?: string | null;
  totalSteps?: number | null;
  resumedFromStep?: number | null;
}

export type JobExperimentDoc = ExperimentDoc & JobFieldsDoc;

export class RunRecords {
  readonly experiments: Collection<JobExperimentDoc>;
  private readonly checkpoints: Collection<CheckpointDoc>;
  private readonly artifacts: Collection<ArtifactDoc>;

  constructor(db: Db) {
    this.experiments = db.collection<JobExperimentDoc>(COLLECTIONS.experiments);
    this.checkpoints = db.collection<CheckpointDoc>(COLLECTIONS.checkpoints);
    this.artifacts = db.collection<ArtifactDoc>(COLLECTIONS.artifacts);
  }

  async ensureIndexes(): Promise<void> {
    await this.checkpoints.createIndex({ experimentId: 1, step: 1 }, { unique: true, name: 'experiment_step_unique' }).catch(() => undefined);
    await this.artifacts.createIndex({ experimentId: 1, path: 1, sha256: 1 }, { name: 'experiment_path_sha256' });
    await this.experiments.createIndex({ status: 1, createdAt: 1 }, { name: 'status_created' }).catch(() => undefined);
  }

  find(id: ObjectId): Promise<JobExperimentDoc | null> {
    return this.experiments.findOne({ _id: id });
  }

  /**
   * Moves the run to `status` when it is in one of `from` (null: any), recording the time;
   * returns the updated document, or null when the run was not in an allowed status.
   */
  async transition(
    id: ObjectId,
    from: readonly ExperimentStatus[] | null,
    status: ExperimentStatus,
    set: Partial<JobExperimentDoc> = {},
  ): Promise<JobExperimentDoc | null> {
    const at = new Date();
    const filter = from ? { _id: id, status: { $in: [...from] } } : { _id: id };
    return this.experiments.findOneAndUpdate(
      filter,
      { $set: { ...set, status, updatedAt: at }, $push: { statusHistory: { status, at } } },
      { returnDocument: 'after' },
    );
  }

  async commitProgress(id: ObjectId, summary: RunSummaryDoc, eventLogOffset: number | null, extra: Partial<JobExperimentDoc> = {}): Promise<void> {
    const $set: Record<string, unknown> = { updatedAt: new Date(), ...extra };
    for (const [k, v] of Object.entries(summary)) if (v !== undefined) $set[`summary.${k}`] = v;
    if (eventLogOffset !== null) $set.eventLogOffset = eventLogOffset;
    await this.experiments.updateOne({ _id: id }, { $set });
  }

  async setFields(id: ObjectId, set: Partial<JobExperimentDoc>): Promise<void> {
    await this.experiments.updateOne({ _id: id }, { $set: { ...set, updatedAt: new Date() } });
  }

  async setError(id: ObjectId, error: RunErrorDoc | null): Promise<void> {
    await this.experiments.updateOne({ _id: id }, { $set: { error, updatedAt: new Date() } });
  }

  /** Records the checkpoint (once per step) and its files as artifacts; returns its id. */
  async recordCheckpoint(
    run: { experimentId: ObjectId; project: string },
    checkpoint: { step: number; epoch: number | null; loss: number | null; dir: string; files: FileRef[] },
  ): Promise<ObjectId> {
    const doc = await this.checkpoints.findOneAndUpdate(
      { experimentId: run.experimentId, step: checkpoint.step },
      {
        // No _id here: the upsert gives the new document a fresh ObjectId.
        $setOnInsert: {
          experimentId: run.experimentId,
          project: run.project,
          step: checkpoint.step,
          epoch: checkpoint.epoch,
          loss: checkpoint.loss,
          dir: checkpoint.dir,
          files: checkpoint.files,
          createdAt: new Date(),
        },
      },
      { upsert: true, returnDocument: 'after' },
    );
    const checkpointId = doc!._id;
    await this.recordArtifacts(run, checkpoint.files, checkpointId);
    return checkpointId;
  }

  /** One artifact per (run, path, sha256): a replay or a second `done` adds nothing. */
  async recordArtifacts(run: { experimentId: ObjectId; project: string }, files: readonly FileRef[], checkpointId: ObjectId | null): Promise<void> {
    if (files.length === 0) return;
    const now = new Date();
    await this.artifacts.bulkWrite(
      files.map((f) => ({
        updateOne: {
          filter: { experimentId: run.experimentId, path: f.path, sha256: f.sha256 },
          update: {
            $setOnInsert: {
              sha256: f.sha256,
              kind: artifactKindOf(f.path, checkpointId !== null),
              format: artifactFormatOf(f.path),
              path: f.path,
              bytes: f.bytes,
              experimentId: run.experimentId,
              checkpointId,
              project: run.project,
              createdAt: now,
            },
          },
          upsert: true,
        },
      })),
      { ordered: true },
    );
  }
}

export function artifactKindOf(file: string, inCheckpoint: boolean): ArtifactKind {
  const base = path.basename(file);
  if (/tfevents|\.log$/.test(base)) return 'LOG';
  if (/optimizer|trainer_state/.test(base)) return 'OPTIMIZER_STATE';
  if (file.split(path.sep).includes('merged')) return 'MERGED_MODEL';
  if (/^adapter_model\.(safetensors|bin)$/.test(base)) return inCheckpoint ? 'CHECKPOINT_ADAPTER' : 'ADAPTER';
  return 'OTHER';
}

export function artifactFormatOf(file: string): string {
  const base = path.basename(file);
  if (base.includes('tfevents')) return 'tfevents';
  const ext = path.extname(base).slice(1).toLowerCase();
  return ext || 'binary';
}
