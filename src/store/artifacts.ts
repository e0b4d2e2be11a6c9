// The artifacts repository: batched reads for the loaders and lookup by content hash.
import type { Collection, Db, ObjectId } from 'mongodb';
import { COLLECTIONS, type ArtifactDoc } from './documents.ts';
import { AmbiguousHashPrefixError, InvalidInputError } from './errors.ts';
import { BATCH_READ_SIZE } from './batch-reads.ts';
import { withinScope, type ProjectScope } from './scope.ts';

export const MIN_HASH_PREFIX_LENGTH = 8;

export class ArtifactRepository {
  private readonly artifacts: Collection<ArtifactDoc>;

  constructor(db: Db) {
    this.artifacts = db.collection<ArtifactDoc>(COLLECTIONS.artifacts);
  }

  async findByExperimentIds(scope: ProjectScope, experimentIds: readonly ObjectId[]): Promise<ArtifactDoc[]> {
    if (experimentIds.length === 0) return [];
    return this.artifacts
      .find(withinScope<ArtifactDoc>(scope, { experimentId: { $in: [...experimentIds] } }))
      .sort({ experimentId: 1, createdAt: 1, _id: 1 })
      .batchSize(BATCH_READ_SIZE)
      .toArray();
  }

  async findByCheckpointIds(scope: ProjectScope, checkpointIds: readonly ObjectId[]): Promise<ArtifactDoc[]> {
    if (checkpointIds.length === 0) return [];
    return this.artifacts
      .find(withinScope<ArtifactDoc>(scope, { checkpointId: { $in: [...checkpointIds] } }))
      .sort({ createdAt: 1, _id: 1 })
      .batchSize(BATCH_READ_SIZE)
      .toArray();
  }

  /**
   * The artifact whose sha256 is `hashOrPrefix` (64 hex characters) or starts with it (at
   * least 8). The same file recorded by several runs has one sha256 and several records:
   * the earliest record, the run that first produced it, is returned. A prefix shared by
   * two different hashes is ambiguous.
   */
  async findByHash(scope: ProjectScope, hashOrPrefix: string): Promise<ArtifactDoc | null> {
    const prefix = normalizeHashPrefix(hashOrPrefix);
    // All sha256 are lower-case hex, so [prefix, prefix + 'g') is exactly "starts with prefix".
    const matching = prefix.length === 64 ? { sha256: prefix } : { sha256: { $gte: prefix, $lt: `${prefix}g` } };
    const first = await this.artifacts.findOne(withinScope<ArtifactDoc>(scope, matching), { sort: { sha256: 1, createdAt: 1, _id: 1 } });
    if (!first || prefix.length === 64) return first;
    const other = await this.artifacts.findOne(
      withinScope<ArtifactDoc>(scope, matching, { sha256: { $ne: first.sha256 } }),
      { projection: { sha256: 1 } },
    );
    if (other) throw new AmbiguousHashPrefixError(prefix, [first.sha256, other.sha256]);
    return first;
  }
}

export function normalizeHashPrefix(text: unknown): string {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new InvalidInputError([], `sha256 must be hexadecimal characters, got ${JSON.stringify(text)}.`);
  }
  if (text.length < MIN_HASH_PREFIX_LENGTH || text.length > 64) {
    throw new InvalidInputError(
      [],
      `sha256 has ${text.length} characters; give the full 64-character hash or a prefix of at least ${MIN_HASH_PREFIX_LENGTH}.`,
    );
  }
  return text.toLowerCase();
}
