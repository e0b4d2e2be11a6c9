// Indexes the analytics queries need beyond CORE_INDEXES (which already holds the TTL
// index on experiments.expiresAt and the finalLoss/rank/learning-rate sort indexes).
import type { Db, IndexDescription } from 'mongodb';
import { COLLECTIONS } from '../documents.ts';

export const ANALYTICS_INDEXES: Record<string, IndexDescription[]> = {
  [COLLECTIONS.experiments]: [
    // Multikey: searchExperiments' `$in` over the query words reads only matching runs.
    { key: { searchTokens: 1 }, name: 'searchTokens' },
  ],
  // The retention sweeper finds orphaned records by distinct experimentId.
  [COLLECTIONS.checkpoints]: [{ key: { experimentId: 1 }, name: 'experimentId' }],
};

export async function ensureAnalyticsIndexes(db: Db): Promise<void> {
  for (const [collection, indexes] of Object.entries(ANALYTICS_INDEXES)) {
    await db.collection(collection).createIndexes(indexes);
  }
}
