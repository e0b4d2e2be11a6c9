// The store: the repositories the API reads and writes through. Callers never see the
// driver; areas added later build their repositories from `db` in their own files.
import type { Db } from 'mongodb';
import { ArtifactRepository } from './artifacts.ts';
import { CheckpointRepository } from './checkpoints.ts';
import { DatasetRepository } from './datasets.ts';
import { ExperimentRepository } from './experiments.ts';

export interface Store {
  readonly db: Db;
  readonly experiments: ExperimentRepository;
  readonly checkpoints: CheckpointRepository;
  readonly artifacts: ArtifactRepository;
  readonly datasets: DatasetRepository;
}

export interface StoreOptions {
  /** Run files may be deleted from disk only inside this directory. */
  workspaceDir: string;
}

export function createStore(db: Db, options: StoreOptions): Store {
  return {
    db,
    experiments: new ExperimentRepository(db, options.workspaceDir),
    checkpoints: new CheckpointRepository(db),
    artifacts: new ArtifactRepository(db),
    datasets: new DatasetRepository(db),
  };
}
