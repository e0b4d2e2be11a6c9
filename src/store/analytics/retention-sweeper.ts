// Retention cascade. The TTL index on experiments.expiresAt (CORE_INDEXES) makes MongoDB
// delete an expired experiment document, but TTL deletes only that one document: the
// run's metric buckets, checkpoints and artifacts would stay behind. Stamping expiresAt on
// every child instead would need every writer (metric ingest appends buckets for hours) to
// copy it, and every retention change to rewrite millions of buckets. So retention is
// enforced here, in two passes that each sweep runs:
//   1. expired experiments still present (the TTL monitor runs only every ~60 s): delete
//      their children first, then the experiment, as deleteExperiment does;
//   2. orphans: children whose experiment is gone (removed by the TTL monitor first, or by
//      a crash between two deletes): delete them.
// Children are always written after their experiment exists (create and launch insert the
// experiment first), so pass 2 never removes records of a run being created.
import type { Db, Document, ObjectId } from 'mongodb';
import { COLLECTIONS } from '../documents.ts';
import { removeRunFiles } from '../run-file-removal.ts';

export interface RetentionSweepReport {
  experiments: number;
  metricBuckets: number;
  checkpoints: number;
  artifacts: number;
  deletedFiles: string[];
}

export interface RetentionSweepOptions {
  now?: Date;
  /** When set, the removed runs' files (output dir, checkpoint dirs, artifact files) inside
   *  this directory are deleted too; files outside it are never touched. */
  deleteFilesUnder?: string | null;
}

const ID_CHUNK = 1000;
const CHILD_COLLECTIONS = [COLLECTIONS.metrics, COLLECTIONS.metricRollups, COLLECTIONS.checkpoints, COLLECTIONS.artifacts] as const;

/** One sweep: expired experiments with their records, then orphaned records. */
export async function sweepExpiredExperiments(db: Db, options: RetentionSweepOptions = {}): Promise<RetentionSweepReport> {
  const now = options.now ?? new Date();
  const report: RetentionSweepReport = { experiments: 0, metricBuckets: 0, checkpoints: 0, artifacts: 0, deletedFiles: [] };
  const experiments = db.collection(COLLECTIONS.experiments);

  const expired = await experiments
    .find({ expiresAt: { $lte: now } }, { projection: { _id: 1, outputDir: 1 } })
    .toArray();
  const expiredIds = expired.map((doc) => doc._id as ObjectId);
  const filePaths = expired.flatMap((doc) => (typeof doc.outputDir === 'string' ? [doc.outputDir] : []));
  await deleteChildren(db, expiredIds, options, filePaths, report);
  for (const ids of chunks(expiredIds)) {
    // Re-check expiresAt: a retention change between the read and this delete wins.
    const res = await experiments.deleteMany({ _id: { $in: ids }, expiresAt: { $lte: now } });
    report.experiments += res.deletedCount;
  }

  const orphans = await findOrphanedExperimentIds(db);
  await deleteChildren(db, orphans, options, [], report);

  if (options.deleteFilesUnder && filePaths.length > 0) {
    const removed = await removeRunFiles(options.deleteFilesUnder, filePaths);
    report.deletedFiles.push(...removed.deleted);
  }
  return report;
}

/** Experiment ids referenced by metric, checkpoint or artifact records but absent from experiments. */
export async function findOrphanedExperimentIds(db: Db): Promise<ObjectId[]> {
  const referenced = new Map<string, ObjectId>();
  for (const name of CHILD_COLLECTIONS) {
    // distinct over the { experimentId: 1 } index: one key per run, not one per record.
    const ids = (await db.collection(name).distinct('experimentId')) as ObjectId[];
    for (const id of ids) if (id != null) referenced.set(id.toHexString(), id);
  }
  const orphans: ObjectId[] = [];
  for (const ids of chunks([...referenced.values()])) {
    const present = await db
      .collection(COLLECTIONS.experiments)
      .find({ _id: { $in: ids } }, { projection: { _id: 1 } })
      .toArray();
    const presentSet = new Set(present.map((doc) => (doc._id as ObjectId).toHexString()));
    for (const id of ids) if (!presentSet.has(id.toHexString())) orphans.push(id);
  }
  return orphans;
}

async function deleteChildren(
  db: Db,
  experimentIds: readonly ObjectId[],
  options: RetentionSweepOptions,
  filePaths: string[],
  report: RetentionSweepReport,
): Promise<void> {
  for (const ids of chunks(experimentIds)) {
    const byRun: Document = { experimentId: { $in: ids } };
    if (options.deleteFilesUnder) {
      const [checkpoints, artifacts] = await Promise.all([
        db.collection(COLLECTIONS.checkpoints).find(byRun, { projection: { dir: 1 } }).toArray(),
        db.collection(COLLECTIONS.artifacts).find(byRun, { projection: { path: 1 } }).toArray(),
      ]);
      for (const c of checkpoints) if (typeof c.dir === 'string') filePaths.push(c.dir);
      for (const a of artifacts) if (typeof a.path === 'string') filePaths.push(a.path);
    }
    report.metricBuckets += (await db.collection(COLLECTIONS.metrics).deleteMany(byRun)).deletedCount;
    await db.collection(COLLECTIONS.metricRollups).deleteMany(byRun);
    report.artifacts += (await db.collection(COLLECTIONS.artifacts).deleteMany(byRun)).deletedCount;
    report.checkpoints += (await db.collection(COLLECTIONS.checkpoints).deleteMany(byRun)).deletedCount;
  }
}

export interface RetentionSweeper {
  /** Runs a sweep now (also what the timer calls). */
  sweepNow(): Promise<RetentionSweepReport>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/**
 * Sweeps every `intervalMs` (default one minute, the TTL monitor's own period). Sweeps
 * never overlap; a failed sweep is reported to `onError` and retried at the next tick.
 */
export function startRetentionSweeper(
  db: Db,
  options: { intervalMs?: number; deleteFilesUnder?: string | null; onError?: (err: unknown) => void } = {},
): RetentionSweeper {
  let running: Promise<RetentionSweepReport> | null = null;
  const sweepNow = (): Promise<RetentionSweepReport> => {
    if (running) return running;
    running = sweepExpiredExperiments(db, { deleteFilesUnder: options.deleteFilesUnder ?? null }).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    sweepNow().catch((err) => options.onError?.(err));
  }, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    sweepNow,
    async stop() {
      clearInterval(timer);
      if (running) await running.catch(() => undefined);
    },
  };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ID_CHUNK) out.push(items.slice(i, i + ID_CHUNK));
  return out;
}
