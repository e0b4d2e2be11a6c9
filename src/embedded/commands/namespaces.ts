// create, drop, dropDatabase, listCollections and the index commands.
import type { Document } from 'bson';
import { Query } from 'mingo';
import type { CommandContext, CommandHandler } from '../command-context.ts';
import { collectionArgument, optionalArray, optionalDocument } from '../command-arguments.ts';
import { ID_INDEX_NAME, type Collection, type IndexSpec } from '../collection.ts';
import { CommandError, ErrorCodes, commandErrorFrom } from '../command-error.ts';
import { validateDatabaseName } from '../catalog.ts';
import { queryOptions } from '../mingo-options.ts';
import { replyWithCursor } from './reads.ts';

const create: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'create');
  if (ctx.engine.catalog.collection(ctx.db, name)) throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${ctx.db}.${name} already exists.`);
  for (const unsupported of ['capped', 'timeseries', 'clusteredIndex', 'viewOn', 'validator']) {
    if (ctx.body[unsupported]) throw new CommandError(ErrorCodes.InvalidOptions, `create: option '${unsupported}' is not supported by the embedded engine (use MongoDB through MONGODB_URI for it)`);
  }
  ctx.engine.catalog.collectionForWrite(ctx.db, name, ctx.batch);
  return { ok: 1 };
};

const drop: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'drop');
  const collection = ctx.engine.catalog.collection(ctx.db, name);
  // MongoDB 7 answers ok for a collection that does not exist.
  if (!collection) return { ok: 1 };
  const nIndexesWas = collection.indexSpecs.length;
  ctx.engine.catalog.dropCollection(ctx.db, name);
  ctx.batch.push({ op: 'dropCollection', db: ctx.db, coll: name });
  return { ns: collection.namespace, nIndexesWas, ok: 1 };
};

const dropDatabase: CommandHandler = (ctx) => {
  validateDatabaseName(ctx.db);
  if (ctx.engine.catalog.dropDatabase(ctx.db)) ctx.batch.push({ op: 'dropDatabase', db: ctx.db });
  return { dropped: ctx.db, ok: 1 };
};

const listCollections: CommandHandler = (ctx) => {
  const filter = optionalDocument(ctx.body, 'filter') ?? {};
  const nameOnly = Boolean(ctx.body.nameOnly);
  const collections = [...(ctx.engine.catalog.databases.get(ctx.db)?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  let entries: Document[] = collections.map((c) =>
    nameOnly ? { name: c.name, type: 'collection' } : { name: c.name, type: 'collection', options: {}, info: { readOnly: false }, idIndex: { v: 2, key: { _id: 1 }, name: ID_INDEX_NAME } },
  );
  if (Object.keys(filter).length) {
    try {
      const query = new Query(filter, queryOptions());
      entries = entries.filter((e) => query.test(e));
    } catch (err) {
      throw commandErrorFrom(err);
    }
  }
  return replyWithCursor(ctx, `${ctx.db}.$cmd.listCollections`, entries, { batchSize: Infinity });
};

function defaultIndexName(key: Document): string {
  return Object.entries(key).map(([field, direction]) => `${field}_${direction}`).join('_');
}

function validateIndexSpec(raw: Document, position: number): IndexSpec {
  const key = raw.key as Document | undefined;
  if (!key || typeof key !== 'object' || Object.keys(key).length === 0) {
    throw new CommandError(ErrorCodes.FailedToParse, `createIndexes: indexes[${position}].key must be a non-empty document such as { field: 1 }`);
  }
  for (const [field, direction] of Object.entries(key)) {
    if (direction !== 1 && direction !== -1) {
      throw new CommandError(ErrorCodes.BadValue, `createIndexes: index key '${field}: ${JSON.stringify(direction)}' is not supported by the embedded engine; allowed directions are 1 and -1`);
    }
  }
  const spec: IndexSpec = { v: 2, key: key as IndexSpec['key'], name: typeof raw.name === 'string' ? raw.name : defaultIndexName(key) };
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.expireAfterSeconds !== undefined) {
    const seconds = Number(raw.expireAfterSeconds);
    if (!Number.isFinite(seconds) || seconds < 0) throw new CommandError(ErrorCodes.BadValue, `expireAfterSeconds must be a non-negative number, got ${JSON.stringify(raw.expireAfterSeconds)}`);
    if (Object.keys(key).length !== 1) throw new CommandError(ErrorCodes.BadValue, `TTL indexes are single-field indexes, compound indexes do not support TTL (index ${spec.name})`);
    spec.expireAfterSeconds = seconds;
  }
  if (raw.partialFilterExpression) spec.partialFilterExpression = raw.partialFilterExpression as Document;
  return spec;
}

function sameIndex(a: IndexSpec, b: IndexSpec): boolean {
  const keyText = (s: IndexSpec) => JSON.stringify(Object.entries(s.key));
  return keyText(a) === keyText(b) && Boolean(a.unique) === Boolean(b.unique) && Boolean(a.sparse) === Boolean(b.sparse) && a.expireAfterSeconds === b.expireAfterSeconds && JSON.stringify(a.partialFilterExpression) === JSON.stringify(b.partialFilterExpression);
}

const createIndexes: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'createIndexes');
  const specs = ((optionalArray(ctx.body, 'indexes') ?? []) as Document[]).map(validateIndexSpec);
  if (specs.length === 0) throw new CommandError(ErrorCodes.BadValue, `createIndexes: 'indexes' must list at least one index`);
  const existed = Boolean(ctx.engine.catalog.collection(ctx.db, name));
  const collection = ctx.engine.catalog.collectionForWrite(ctx.db, name, ctx.batch);
  const numIndexesBefore = collection.indexSpecs.length;
  for (const spec of specs) {
    // Every collection has its _id index; asking for it again changes nothing, as in MongoDB.
    if (Object.keys(spec.key).length === 1 && spec.key._id === 1 && !spec.unique && !spec.sparse && !spec.partialFilterExpression && spec.expireAfterSeconds === undefined) continue;
    const existing = collection.indexSpecs.find((s) => s.name === spec.name || JSON.stringify(Object.entries(s.key)) === JSON.stringify(Object.entries(spec.key)));
    if (existing) {
      if (sameIndex(existing, spec) && existing.name === spec.name) continue;
      if (existing.name === spec.name) throw new CommandError(ErrorCodes.IndexKeySpecsConflict, `An existing index has the same name as the requested index but different options or key. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(existing)}`);
      throw new CommandError(ErrorCodes.IndexOptionsConflict, `An equivalent index already exists with a different name or options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(existing)}`);
    }
    ctx.engine.catalog.createIndex(collection, spec);
    ctx.batch.push({ op: 'createIndex', db: ctx.db, coll: name, spec: spec as unknown as Document });
  }
  const numIndexesAfter = collection.indexSpecs.length;
  return {
    numIndexesBefore,
    numIndexesAfter,
    createdCollectionAutomatically: !existed,
    ...(numIndexesAfter === numIndexesBefore ? { note: 'all indexes already exist' } : {}),
    ok: 1,
  };
};

function existingCollection(ctx: CommandContext, command: string): Collection {
  const name = collectionArgument(ctx.body, command);
  const collection = ctx.engine.catalog.collection(ctx.db, name);
  if (!collection) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ctx.db}.${name}`);
  return collection;
}

const listIndexes: CommandHandler = (ctx) => {
  const collection = existingCollection(ctx, 'listIndexes');
  return replyWithCursor(ctx, collection.namespace, collection.indexSpecs as unknown as Document[], { batchSize: Infinity });
};

const dropIndexes: CommandHandler = (ctx) => {
  const collection = existingCollection(ctx, 'dropIndexes');
  const nIndexesWas = collection.indexSpecs.length;
  const target = ctx.body.index;
  let names: string[];
  if (target === '*') {
    names = [...collection.indexes.keys()];
  } else if (typeof target === 'string') {
    names = [target];
  } else if (Array.isArray(target)) {
    names = target as string[];
  } else if (target && typeof target === 'object') {
    const wanted = JSON.stringify(Object.entries(target));
    const match = collection.indexSpecs.find((s) => JSON.stringify(Object.entries(s.key)) === wanted);
    if (!match) throw new CommandError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
    names = [match.name];
  } else {
    throw new CommandError(ErrorCodes.TypeMismatch, `dropIndexes: 'index' must be an index name, a key pattern, an array of names or "*"`);
  }
  for (const name of names) {
    if (name === ID_INDEX_NAME) throw new CommandError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!collection.indexes.has(name)) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
  }
  for (const name of names) {
    collection.dropIndex(name);
    ctx.batch.push({ op: 'dropIndex', db: ctx.db, coll: collection.name, name });
  }
  return { nIndexesWas, ok: 1 };
};

const dbStats: CommandHandler = (ctx) => {
  const collections = [...(ctx.engine.catalog.databases.get(ctx.db)?.values() ?? [])];
  const objects = collections.reduce((sum, c) => sum + c.documents.size, 0);
  const indexes = collections.reduce((sum, c) => sum + c.indexSpecs.length, 0);
  return { db: ctx.db, collections: collections.length, views: 0, objects, indexes, ok: 1 };
};

export const namespaceCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  listCollections,
  createIndexes,
  listIndexes,
  dropIndexes,
  dbStats,
};
