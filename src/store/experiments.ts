// The experiments repository: every read and write of the `experiments` collection, each
// narrowed by the caller's project scope.
import { ObjectId, type Collection, type Db, type Filter } from 'mongodb';
import { COLLECTIONS, type ArtifactDoc, type CheckpointDoc, type ExperimentDoc } from './documents.ts';
import { InvalidInputError, NotFoundError } from './errors.ts';
import { buildExperimentFilter, type ExperimentFilterInput } from './experiment-filter.ts';
import {
  buildAfterCursorFilter, buildExperimentSort, decodeExperimentCursor, encodeExperimentCursor,
  resolveExperimentSort, sortValueOf, type ExperimentSortInput,
} from './experiment-sort.ts';
import {
  validateExperimentPatch, validateNewExperiment, type ExperimentPatch, type NewExperiment,
} from './experiment-validation.ts';
import { BATCH_READ_SIZE } from './batch-reads.ts';
import { hashConfig } from './config-hash.ts';
import { assertProjectInScope, withinScope, type ProjectScope } from './scope.ts';
import { removeRunFiles } from './run-file-removal.ts';
import { MetricsRepository } from './metrics.ts';
import { experimentSearchTokens } from '../analytics/search-tokens.ts';

export const MAX_PAGE_SIZE = 100;

export interface ExperimentPageRequest {
  filter?: ExperimentFilterInput | null;
  sort?: ExperimentSortInput | null;
  first?: number | null;
  after?: string | null;
}

export interface ExperimentPage {
  rows: { cursor: string; doc: ExperimentDoc }[];
  hasNextPage: boolean;
}

export interface DeletedExperiment {
  id: ObjectId;
  checkpoints: number;
  artifacts: number;
  metricBuckets: number;
  deletedFiles: string[];
  skippedFiles: { path: string; reason: string }[];
}

export function parseObjectId(field: (string | number)[], id: unknown): ObjectId {
  if (typeof id !== 'string' || !/^[0-9a-fA-F]{24}$/.test(id)) {
    throw new InvalidInputError(field, `${field.join('.')} ${JSON.stringify(id)} is not an id: ids are 24 hexadecimal characters.`);
  }
  return new ObjectId(id);
}

export class ExperimentRepository {
  private readonly experiments: Collection<ExperimentDoc>;
  private readonly checkpoints: Collection<CheckpointDoc>;
  private readonly artifacts: Collection<ArtifactDoc>;
  private readonly db: Db;
  private readonly workspaceDir: string;

  constructor(db: Db, workspaceDir: string) {
    this.db = db;
    this.workspaceDir = workspaceDir;
    this.experiments = db.collection<ExperimentDoc>(COLLECTIONS.experiments);
    this.checkpoints = db.collection<CheckpointDoc>(COLLECTIONS.checkpoints);
    this.artifacts = db.collection<ArtifactDoc>(COLLECTIONS.artifacts);
  }

  async findById(scope: ProjectScope, id: ObjectId): Promise<ExperimentDoc | null> {
    return this.experiments.findOne(withinScope<ExperimentDoc>(scope, { _id: id }));
  }

  /** One round trip for many ids; order of the result is unspecified. */
  async findByIds(scope: ProjectScope, ids: readonly ObjectId[]): Promise<ExperimentDoc[]> {
    if (ids.length === 0) return [];
    return this.experiments.find(withinScope<ExperimentDoc>(scope, { _id: { $in: [...ids] } })).batchSize(BATCH_READ_SIZE).toArray();
  }

  async findPage(scope: ProjectScope, request: ExperimentPageRequest): Promise<ExperimentPage> {
    const first = request.first ?? 20;
    if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
      throw new InvalidInputError(['first'], `first must be an integer from 0 to ${MAX_PAGE_SIZE}, got ${first}.`);
    }
    const sort = withPath(['sort'], () => resolveExperimentSort(request.sort));
    const clauses: Filter<ExperimentDoc>[] = [withPath(['filter'], () => buildExperimentFilter(request.filter))];
    if (request.after != null) clauses.push(buildAfterCursorFilter(sort, decodeExperimentCursor(request.after)));
    const docs = await this.experiments
      .find(withinScope<ExperimentDoc>(scope, ...clauses))
      .sort(buildExperimentSort(sort))
      .limit(first + 1)
      .toArray();
    const rows = docs.slice(0, first).map((doc) => ({
      doc,
      cursor: encodeExperimentCursor({ field: sort.field, direction: sort.direction, value: sortValueOf(doc, sort), id: doc._id }),
    }));
    return { rows, hasNextPage: docs.length > first };
  }

  async count(scope: ProjectScope, filter: ExperimentFilterInput | null | undefined): Promise<number> {
    const query = withinScope<ExperimentDoc>(scope, withPath(['filter'], () => buildExperimentFilter(filter)));
    return this.experiments.countDocuments(query);
  }

  /** Records a run with its checkpoints and artifacts; undoes the partial write on failure. */
  async create(scope: ProjectScope, input: NewExperiment): Promise<ExperimentDoc> {
    const valid = validateNewExperiment(input);
    assertProjectInScope(scope, valid.project);
    const now = new Date();
    const experimentId = new ObjectId();
    const doc: ExperimentDoc = stripUndefined({
      _id: experimentId,
      name: valid.name,
      project: valid.project,
      tags: valid.tags,
      notes: valid.notes ?? undefined,
      status: valid.status,
      config: valid.config,
      rawConfig: valid.rawConfig ?? { ...valid.config },
      configHash: hashConfig(valid.config),
      baseModel: valid.baseModel ?? undefined,
      dataset: valid.dataset ?? undefined,
      runner: valid.runner ?? 'logged',
      outputDir: valid.outputDir ?? valid.config.output_dir ?? undefined,
      createdAt: now,
      updatedAt: now,
      startedAt: valid.startedAt ?? null,
      endedAt: valid.endedAt ?? null,
      summary: valid.summary ?? undefined,
      error: valid.error ?? null,
      environment: valid.environment ?? undefined,
      samplePrompts: valid.samplePrompts ?? undefined,
    });
    doc.searchTokens = experimentSearchTokens(doc);
    const checkpointIdByStep = new Map<number, ObjectId>();
    const checkpoints: CheckpointDoc[] = valid.checkpoints.map((c) => {
      const id = new ObjectId();
      checkpointIdByStep.set(c.step, id);
      return { _id: id, experimentId, project: valid.project, step: c.step, epoch: c.epoch ?? null, loss: c.loss ?? null, dir: c.dir, files: c.files, createdAt: now };
    });
    const artifacts: ArtifactDoc[] = valid.artifacts.map((a) => stripUndefined({
      _id: new ObjectId(),
      sha256: a.sha256,
      kind: a.kind,
      format: a.format,
      path: a.path,
      bytes: a.bytes,
      experimentId,
      checkpointId: a.checkpointStep == null ? null : checkpointIdByStep.get(a.checkpointStep) ?? null,
      project: valid.project,
      metadata: a.metadata ?? undefined,
      createdAt: now,
    }));
    await this.experiments.insertOne(doc);
    try {
      if (checkpoints.length > 0) await this.checkpoints.insertMany(checkpoints);
      if (artifacts.length > 0) await this.artifacts.insertMany(artifacts);
    } catch (err) {
      await this.removeRecords(experimentId);
      throw err;
    }
    return doc;
  }

  async update(scope: ProjectScope, id: ObjectId, patch: ExperimentPatch): Promise<ExperimentDoc> {
    const valid = validateExperimentPatch(patch);
    const $set: Partial<ExperimentDoc> = { updatedAt: new Date() };
    if (valid.name != null) $set.name = valid.name;
    if (valid.tags != null) $set.tags = valid.tags;
    if (valid.notes != null) $set.notes = valid.notes;
    const updated = await this.experiments.findOneAndUpdate(
      withinScope<ExperimentDoc>(scope, { _id: id }),
      { $set },
      { returnDocument: 'after' },
    );
    if (!updated) throw new NotFoundError('Experiment', id.toHexString());
    // Search tokens follow name, tags and notes (analytics search).
    updated.searchTokens = experimentSearchTokens(updated);
    await this.experiments.updateOne({ _id: id }, { $set: { searchTokens: updated.searchTokens } });
    return updated;
  }

  /**
   * Deletes the experiment and its metric buckets, checkpoint and artifact records. With
   * `deleteFiles`, also its output directory, checkpoint directories and artifact files,
   * but only those inside the workspace directory.
   */
  async delete(scope: ProjectScope, id: ObjectId, options: { deleteFiles: boolean }): Promise<DeletedExperiment> {
    const doc = await this.findById(scope, id);
    if (!doc) throw new NotFoundError('Experiment', id.toHexString());
    const filePaths: string[] = [];
    if (options.deleteFiles) {
      const [checkpoints, artifacts] = await Promise.all([
        this.checkpoints.find({ experimentId: id }, { projection: { dir: 1 } }).toArray(),
        this.artifacts.find({ experimentId: id }, { projection: { path: 1 } }).toArray(),
      ]);
      if (doc.outputDir) filePaths.push(doc.outputDir);
      filePaths.push(...checkpoints.map((c) => c.dir), ...artifacts.map((a) => a.path));
    }
    const counts = await this.removeRecords(id);
    const files = options.deleteFiles ? await removeRunFiles(this.workspaceDir, filePaths) : { deleted: [], skipped: [] };
    return { id, ...counts, deletedFiles: files.deleted, skippedFiles: files.skipped };
  }

  /** Children first, so an interrupted delete never leaves records without their run. */
  private async removeRecords(id: ObjectId): Promise<{ checkpoints: number; artifacts: number; metricBuckets: number }> {
    // The metrics repository knows every collection a curve lives in (buckets and rollups).
    const metricBuckets = await new MetricsRepository(this.db).deleteForExperiment(id);
    const artifacts = await this.artifacts.deleteMany({ experimentId: id });
    const checkpoints = await this.checkpoints.deleteMany({ experimentId: id });
    await this.experiments.deleteOne({ _id: id });
    return { checkpoints: checkpoints.deletedCount, artifacts: artifacts.deletedCount, metricBuckets };
  }
}

/** Runs `build`, prefixing the field path of any InvalidInputError with `prefix`. */
export function withPath<T>(prefix: (string | number)[], build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof InvalidInputError) {
      const wrapped = new InvalidInputError([...prefix, ...err.field], err.message);
      throw wrapped;
    }
    throw err;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
