// The datasets repository. Dataset records are content-addressed and shared between
// projects (the same files may train runs in several projects); they are reached only
// through an experiment, which the scope already narrowed, so the scope does not filter here.
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS, type DatasetDoc } from './documents.ts';
import { BATCH_READ_SIZE } from './batch-reads.ts';
import type { ProjectScope } from './scope.ts';

export class DatasetRepository {
  private readonly datasets: Collection<DatasetDoc>;

  constructor(db: Db) {
    this.datasets = db.collection<DatasetDoc>(COLLECTIONS.datasets);
  }

  async findBySha256s(_scope: ProjectScope, sha256s: readonly string[]): Promise<DatasetDoc[]> {
    if (sha256s.length === 0) return [];
    return this.datasets.find({ sha256: { $in: [...sha256s] } }).batchSize(BATCH_READ_SIZE).toArray();
  }
}
