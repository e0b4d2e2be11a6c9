// The engine's state: databases holding collections. Changes made by a command are applied
// here at once and described as journal operations in the command's WriteBatch; the
// dispatcher commits the batch before it replies.
import { BSON, type Document } from 'bson';
import { Query } from 'mingo';
import { Collection, ID_INDEX_NAME, SecondaryIndex, type IndexSpec } from './collection.ts';
import { CommandError, ErrorCodes } from './command-error.ts';
import type { JournalOp } from './journal.ts';

export type WriteBatch = JournalOp[];

const SNAPSHOT_DOCS_PER_OP = 1000;

export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new CommandError(ErrorCodes.InvalidNamespace, `collection name must be a non-empty string, got ${JSON.stringify(name)}`);
  if (name.includes('$') || name.includes('\0') || name.startsWith('.') || name.startsWith('system.')) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid collection name: ${JSON.stringify(name)} (no '$', NUL, leading '.' or 'system.' prefix)`);
  }
  return name;
}

export function validateDatabaseName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || /[/\\. "$\0]/.test(name) || name.length > 63) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid database name: ${JSON.stringify(name)} (1-63 characters, none of / \\ . space " $)`);
  }
  return name;
}

export class Catalog {
  readonly databases = new Map<string, Map<string, Collection>>();

  collection(db: string, coll: string): Collection | undefined {
    return this.databases.get(db)?.get(coll);
  }

  /** The collection, created (and journaled) if it does not exist yet, as MongoDB does on first write. */
  collectionForWrite(db: string, coll: string, batch: WriteBatch): Collection {
    const existing = this.collection(db, coll);
    if (existing) return existing;
    validateDatabaseName(db);
    validateCollectionName(coll);
    batch.push({ op: 'createCollection', db, coll });
    return this.createCollection(db, coll);
  }

  createCollection(db: string, coll: string): Collection {
    let collections = this.databases.get(db);
    if (!collections) this.databases.set(db, (collections = new Map()));
    let collection = collections.get(coll);
    if (!collection) collections.set(coll, (collection = new Collection(db, coll)));
    return collection;
  }

  dropCollection(db: string, coll: string): boolean {
    const collections = this.databases.get(db);
    const dropped = collections?.delete(coll) ?? false;
    if (collections && collections.size === 0) this.databases.delete(db);
    return dropped;
  }

  dropDatabase(db: string): boolean {
    return this.databases.delete(db);
  }

  createIndex(collection: Collection, spec: IndexSpec): void {
    const partial = spec.partialFilterExpression ? new Query(spec.partialFilterExpression) : undefined;
    collection.addIndex(new SecondaryIndex(spec, partial && ((doc: Document) => partial.test(doc))));
  }

  /** Apply one journal operation (replay). */
  apply(op: JournalOp): void {
    switch (op.op) {
      case 'createCollection':
        this.createCollection(op.db, op.coll);
        return;
      case 'put': {
        const collection = this.createCollection(op.db, op.coll);
        for (const raw of op.docs) collection.put(BSON.deserialize(raw));
        return;
      }
      case 'delete': {
        const collection = this.collection(op.db, op.coll);
        for (const id of op.ids) collection?.remove(Collection.documentKey(id));
        return;
      }
      case 'dropCollection':
        this.dropCollection(op.db, op.coll);
        return;
      case 'dropDatabase':
        this.dropDatabase(op.db);
        return;
      case 'createIndex': {
        const collection = this.createCollection(op.db, op.coll);
        if (!collection.indexes.has(op.spec.name)) this.createIndex(collection, op.spec as IndexSpec);
        return;
      }
      case 'dropIndex':
        this.collection(op.db, op.coll)?.dropIndex(op.name);
        return;
    }
  }

  /** The whole state as journal operations: what compaction writes. */
  snapshot(): JournalOp[] {
    const ops: JournalOp[] = [];
    for (const [db, collections] of this.databases) {
      for (const [coll, collection] of collections) {
        ops.push({ op: 'createCollection', db, coll });
        let docs: Uint8Array[] = [];
        for (const doc of collection.documents.values()) {
          docs.push(BSON.serialize(doc));
          if (docs.length === SNAPSHOT_DOCS_PER_OP) {
            ops.push({ op: 'put', db, coll, docs });
            docs = [];
          }
        }
        if (docs.length) ops.push({ op: 'put', db, coll, docs });
        for (const spec of collection.indexSpecs) if (spec.name !== ID_INDEX_NAME) ops.push({ op: 'createIndex', db, coll, spec: spec as unknown as Document });
      }
    }
    return ops;
  }
}
