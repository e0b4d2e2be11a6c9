// Indexes for every query path of the core API, created at start-up (createIndexes is a
// no-op for indexes that already exist). Other areas create their own in their own files.
import type { Db, IndexDescription } from 'mongodb';
import { COLLECTIONS } from './documents.ts';

export const CORE_INDEXES: Record<string, IndexDescription[]> = {
  [COLLECTIONS.experiments]: [
    // Default listing and project-narrowed listing (scope), newest first.
    { key: { createdAt: -1, _id: -1 } },
    { key: { project: 1, createdAt: -1, _id: -1 } },
    // Filters.
    { key: { tags: 1, createdAt: -1 } },
    { key: { status: 1, createdAt: -1 } },
    { key: { 'error.type': 1, status: 1 } },
    { key: { configHash: 1 } },
    { key: { 'dataset.sha256': 1 } },
    { key: { 'baseModel.sha256': 1 } },
    // Sort orders (each with the _id tie-breaker of keyset pagination); they also serve
    // the range filters on the same fields.
    { key: { name: 1, _id: 1 } },
    { key: { 'summary.finalLoss': 1, _id: 1 } },
    { key: { 'summary.minLoss': 1, _id: 1 } },
    { key: { 'config.lora_rank': 1, _id: 1 } },
    { key: { 'config.learning_rate': 1, _id: 1 } },
    { key: { startedAt: 1, _id: 1 } },
    { key: { endedAt: 1, _id: 1 } },
    // TTL: runs with expiresAt disappear after that time.
    { key: { expiresAt: 1 }, expireAfterSeconds: 0 },
  ],
  [COLLECTIONS.checkpoints]: [{ key: { experimentId: 1, step: 1 } }],
  [COLLECTIONS.artifacts]: [
    { key: { sha256: 1, createdAt: 1, _id: 1 } },
    { key: { experimentId: 1, createdAt: 1, _id: 1 } },
    { key: { checkpointId: 1 } },
  ],
  [COLLECTIONS.datasets]: [{ key: { sha256: 1 } }],
  // deleteExperiment removes a run's metric buckets by experimentId.
  [COLLECTIONS.metrics]: [{ key: { experimentId: 1 } }],
};

export async function ensureCoreIndexes(db: Db): Promise<void> {
  for (const [collection, indexes] of Object.entries(CORE_INDEXES)) {
    await db.collection(collection).createIndexes(indexes);
  }
}
