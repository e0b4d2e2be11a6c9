// Per-request DataLoaders, one per parent-to-children edge of the core schema, so a page of
// N experiments with their checkpoints and artifacts costs a fixed number of round trips.
import DataLoader from 'dataloader';
import type { ObjectId } from 'mongodb';
import type { ArtifactDoc, CheckpointDoc, DatasetDoc, ExperimentDoc } from '../store/documents.ts';
import type { ProjectScope } from '../store/scope.ts';
import type { Store } from '../store/store.ts';

export interface Loaders {
  experimentById: DataLoader<ObjectId, ExperimentDoc | null, string>;
  checkpointById: DataLoader<ObjectId, CheckpointDoc | null, string>;
  checkpointsByExperimentId: DataLoader<ObjectId, CheckpointDoc[], string>;
  artifactsByExperimentId: DataLoader<ObjectId, ArtifactDoc[], string>;
  artifactsByCheckpointId: DataLoader<ObjectId, ArtifactDoc[], string>;
  datasetBySha256: DataLoader<string, DatasetDoc | null, string>;
}

const idKey = { cacheKeyFn: (id: ObjectId) => id.toHexString() };

export function createLoaders(store: Store, scope: ProjectScope): Loaders {
  return {
    experimentById: new DataLoader(
      async (ids) => oneByKey(ids, await store.experiments.findByIds(scope, ids), (d) => d._id),
      idKey,
    ),
    checkpointById: new DataLoader(
      async (ids) => oneByKey(ids, await store.checkpoints.findByIds(scope, ids), (d) => d._id),
      idKey,
    ),
    checkpointsByExperimentId: new DataLoader(
      async (ids) => manyByKey(ids, await store.checkpoints.findByExperimentIds(scope, ids), (d) => d.experimentId),
      idKey,
    ),
    artifactsByExperimentId: new DataLoader(
      async (ids) => manyByKey(ids, await store.artifacts.findByExperimentIds(scope, ids), (d) => d.experimentId),
      idKey,
    ),
    artifactsByCheckpointId: new DataLoader(
      async (ids) => manyByKey(ids, await store.artifacts.findByCheckpointIds(scope, ids), (d) => d.checkpointId ?? null),
      idKey,
    ),
    datasetBySha256: new DataLoader(async (shas) => {
      const docs = await store.datasets.findBySha256s(scope, shas);
      const bySha = new Map(docs.map((d) => [d.sha256, d]));
      return shas.map((sha) => bySha.get(sha) ?? null);
    }),
  };
}

function oneByKey<T>(keys: readonly ObjectId[], docs: T[], keyOf: (doc: T) => ObjectId): (T | null)[] {
  const byKey = new Map(docs.map((d) => [keyOf(d).toHexString(), d]));
  return keys.map((k) => byKey.get(k.toHexString()) ?? null);
}

/** Groups docs under their parent key, keeping the store's order within each group. */
function manyByKey<T>(keys: readonly ObjectId[], docs: T[], keyOf: (doc: T) => ObjectId | null): T[][] {
  const groups = new Map<string, T[]>(keys.map((k) => [k.toHexString(), []]));
  for (const doc of docs) {
    const key = keyOf(doc);
    if (key) groups.get(key.toHexString())?.push(doc);
  }
  return keys.map((k) => groups.get(k.toHexString()) ?? []);
}
