// The checkpoints repository: reads batched by parent ids, for the per-request loaders.
import type { Collection, Db, ObjectId } from 'mongodb';
import { COLLECTIONS, type CheckpointDoc } from './documents.ts';
import { BATCH_READ_SIZE } from './batch-reads.ts';
import { withinScope, type ProjectScope } from './scope.ts';

export class CheckpointRepository {
  private readonly checkpoints: Collection<CheckpointDoc>;

  constructor(db: Db) {
    this.checkpoints = db.collection<CheckpointDoc>(COLLECTIONS.checkpoints);
  }

  /** Checkpoints of many experiments in one round trip, ordered by experiment then step. */
  async findByExperimentIds(scope: ProjectScope, experimentIds: readonly ObjectId[]): Promise<CheckpointDoc[]> {
    if (experimentIds.length === 0) return [];
    return this.checkpoints
      .find(withinScope<CheckpointDoc>(scope, { experimentId: { $in: [...experimentIds] } }))
      .sort({ experimentId: 1, step: 1 })
      .batchSize(BATCH_READ_SIZE)
      .toArray();
  }

  async findByIds(scope: ProjectScope, ids: readonly ObjectId[]): Promise<CheckpointDoc[]> {
    if (ids.length === 0) return [];
    return this.checkpoints.find(withinScope<CheckpointDoc>(scope, { _id: { $in: [...ids] } })).batchSize(BATCH_READ_SIZE).toArray();
  }
}
