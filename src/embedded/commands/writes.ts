// insert, update, delete, findAndModify: MongoDB's write commands with its reply shapes
// (`n`, `nModified`, `upserted`, per-statement `writeErrors`) and ordered/unordered batches.
import { BSON, ObjectId, type Document } from 'bson';
import type { CommandContext, CommandHandler } from '../command-context.ts';
import { collectionArgument, optionalArray, optionalDocument } from '../command-arguments.ts';
import { Collection } from '../collection.ts';
import { CommandError, ErrorCodes, LocationCodes, commandErrorFrom } from '../command-error.ts';
import { selectDocuments } from '../document-query.ts';
import { applyUpdate, buildUpsertDocument } from '../update-application.ts';
import { MAX_BSON_OBJECT_BYTES } from '../wire-protocol.ts';
import { findProjection } from './reads.ts';

interface WriteError {
  index: number;
  code: number;
  errmsg: string;
  [detail: string]: unknown;
}

function writeErrorFrom(index: number, err: unknown): WriteError {
  const error = commandErrorFrom(err);
  return { index, code: error.code, codeName: error.codeName, errmsg: error.message, ...error.details };
}

/** Run each statement; an ordered batch stops at the first error, an unordered one goes on. */
function runStatements<T>(statements: T[], ordered: boolean, run: (statement: T, index: number) => void): WriteError[] {
  const errors: WriteError[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i], i);
    } catch (err) {
      errors.push(writeErrorFrom(i, err));
      if (ordered) break;
    }
  }
  return errors;
}

function withWriteErrors(reply: Document, errors: WriteError[]): Document {
  return errors.length ? { ...reply, writeErrors: errors, ok: 1 } : { ...reply, ok: 1 };
}

function serializeChecked(doc: Document, code: number, what: string): Uint8Array {
  const raw = BSON.serialize(doc);
  if (raw.length > MAX_BSON_OBJECT_BYTES) throw new CommandError(code, `${what} too large. size in bytes: ${raw.length}, max size: ${MAX_BSON_OBJECT_BYTES}`);
  return raw;
}

function validateId(id: unknown): void {
  if (Array.isArray(id)) throw new CommandError(53, `The '_id' value cannot be of type array`);
  if (id instanceof RegExp) throw new CommandError(53, `The '_id' value cannot be of type regex`);
}

/** Store a document (insert or replacement) and record it in the command's journal batch. */
function storeDocument(ctx: CommandContext, collection: Collection, doc: Document, raw: Uint8Array, docKey?: string): void {
  collection.put(doc, docKey);
  const last = ctx.batch[ctx.batch.length - 1];
  if (last && last.op === 'put' && last.db === ctx.db && last.coll === collection.name) last.docs.push(raw);
  else ctx.batch.push({ op: 'put', db: ctx.db, coll: collection.name, docs: [raw] });
}

function removeDocument(ctx: CommandContext, collection: Collection, doc: Document): void {
  collection.remove(Collection.documentKey(doc._id));
  const last = ctx.batch[ctx.batch.length - 1];
  if (last && last.op === 'delete' && last.db === ctx.db && last.coll === collection.name) last.ids.push(doc._id);
  else ctx.batch.push({ op: 'delete', db: ctx.db, coll: collection.name, ids: [doc._id] });
}

function insertNew(ctx: CommandContext, collection: Collection, doc: Document, raw: Uint8Array | undefined): void {
  let stored = doc;
  let bytes = raw;
  if (stored._id === undefined) {
    stored = { _id: new ObjectId(), ...doc };
    bytes = undefined;
  }
  validateId(stored._id);
  if (!bytes) bytes = serializeChecked(stored, ErrorCodes.BSONObjectTooLarge, 'object to insert');
  else if (bytes.length > MAX_BSON_OBJECT_BYTES) throw new CommandError(ErrorCodes.BSONObjectTooLarge, `object to insert too large. size in bytes: ${bytes.length}, max size: ${MAX_BSON_OBJECT_BYTES}`);
  const docKey = Collection.documentKey(stored._id);
  if (collection.documents.has(docKey)) throw collection.duplicateKeyError('_id_', stored);
  storeDocument(ctx, collection, stored, bytes, docKey);
}

const insert: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'insert');
  const documents = (optionalArray(ctx.body, 'documents') ?? []) as Document[];
  const raws = ctx.rawSequences.get('documents');
  const collection = ctx.engine.catalog.collectionForWrite(ctx.db, name, ctx.batch);
  let n = 0;
  const errors = runStatements(documents, ctx.body.ordered !== false, (doc, i) => {
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new CommandError(ErrorCodes.TypeMismatch, `documents[${i}] must be a document`);
    insertNew(ctx, collection, doc, raws?.[i]);
    n++;
  });
  return withWriteErrors({ n }, errors);
};

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
  /** The document before and after the change (findAndModify returns one of them). */
  before?: Document;
  after?: Document;
}

interface UpdateStatement {
  q?: Document;
  u: Document | Document[];
  multi?: boolean;
  upsert?: boolean;
  arrayFilters?: Document[];
  collation?: Document;
  sort?: Document;
}

function updateDocuments(ctx: CommandContext, collectionName: string, statement: UpdateStatement, variables?: Document): UpdateOutcome {
  const filter = statement.q ?? {};
  if (statement.u === undefined || statement.u === null) throw new CommandError(ErrorCodes.FailedToParse, `update statement is missing its 'u' field (the update to apply)`);
  const existing = ctx.engine.catalog.collection(ctx.db, collectionName);
  const { docs } = selectDocuments(existing, filter, {
    collation: statement.collation,
    variables,
    sort: statement.sort,
    limit: statement.multi ? 0 : 1,
  });
  const options = { arrayFilters: statement.arrayFilters, variables, filter };
  if (docs.length === 0) {
    if (!statement.upsert) return { matched: 0, modified: 0 };
    const doc = buildUpsertDocument(filter, statement.u, options);
    const collection = ctx.engine.catalog.collectionForWrite(ctx.db, collectionName, ctx.batch);
    insertNew(ctx, collection, doc, undefined);
    return { matched: 0, modified: 0, upsertedId: doc._id, after: doc };
  }
  const collection = existing!;
  let modified = 0;
  let first: { before: Document; after: Document } | undefined;
  for (const doc of docs) {
    const updated = applyUpdate(doc, statement.u, { ...options, inserting: false });
    const raw = serializeChecked(updated, LocationCodes.DocumentTooLargeAfterUpdate, 'Resulting document after update is');
    first ??= { before: doc, after: updated };
    if (Buffer.compare(raw, BSON.serialize(doc)) === 0) continue;
    storeDocument(ctx, collection, updated, raw);
    modified++;
  }
  return { matched: docs.length, modified, ...first };
}

const update: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'update');
  const statements = (optionalArray(ctx.body, 'updates') ?? []) as UpdateStatement[];
  const variables = optionalDocument(ctx.body, 'let');
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const errors = runStatements(statements, ctx.body.ordered !== false, (statement, index) => {
    const outcome = updateDocuments(ctx, name, statement, variables);
    n += outcome.matched;
    nModified += outcome.modified;
    if (outcome.upsertedId !== undefined) {
      n++;
      upserted.push({ index, _id: outcome.upsertedId });
    }
  });
  return withWriteErrors({ n, nModified, ...(upserted.length ? { upserted } : {}) }, errors);
};

interface DeleteStatement {
  q?: Document;
  limit?: number;
  collation?: Document;
}

const deleteCommand: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'delete');
  const statements = (optionalArray(ctx.body, 'deletes') ?? []) as DeleteStatement[];
  const collection = ctx.engine.catalog.collection(ctx.db, name);
  let n = 0;
  const errors = runStatements(statements, ctx.body.ordered !== false, (statement) => {
    if (statement.limit !== undefined && statement.limit !== 0 && statement.limit !== 1) {
      throw new CommandError(ErrorCodes.FailedToParse, `The limit field in delete objects must be 0 or 1. Got ${statement.limit}`);
    }
    const { docs } = selectDocuments(collection, statement.q ?? {}, { collation: statement.collation, limit: statement.limit ?? 0 });
    for (const doc of docs) removeDocument(ctx, collection!, doc);
    n += docs.length;
  });
  return withWriteErrors({ n }, errors);
};

const findAndModify: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'findAndModify' in ctx.body ? 'findAndModify' : 'findandmodify');
  const body = ctx.body;
  const query = optionalDocument(body, 'query') ?? {};
  const sort = optionalDocument(body, 'sort');
  const fields = optionalDocument(body, 'fields');
  const collation = optionalDocument(body, 'collation');
  const variables = optionalDocument(body, 'let');
  const project = findProjection(query, fields, { collation, variables });
  const shape = (doc: Document | undefined): Document | null => (doc ? (project ? project([doc])[0] : doc) : null);
  if (body.remove) {
    if (body.update !== undefined) throw new CommandError(ErrorCodes.FailedToParse, `findAndModify: 'remove' and 'update' cannot both be given`);
    const collection = ctx.engine.catalog.collection(ctx.db, name);
    const [doc] = selectDocuments(collection, query, { sort, limit: 1, collation, variables }).docs;
    if (doc) removeDocument(ctx, collection!, doc);
    return { lastErrorObject: { n: doc ? 1 : 0 }, value: shape(doc), ok: 1 };
  }
  if (body.update === undefined) throw new CommandError(ErrorCodes.FailedToParse, `findAndModify needs either 'update' or 'remove: true'`);
  const outcome = updateDocuments(ctx, name, {
    q: query,
    u: body.update as Document,
    upsert: Boolean(body.upsert),
    arrayFilters: body.arrayFilters as Document[] | undefined,
    collation,
    sort,
  }, variables);
  const lastErrorObject: Document = { n: outcome.matched + (outcome.upsertedId !== undefined ? 1 : 0), updatedExisting: outcome.matched > 0 };
  if (outcome.upsertedId !== undefined) lastErrorObject.upserted = outcome.upsertedId;
  return { lastErrorObject, value: shape(body.new ? outcome.after : outcome.before), ok: 1 };
};

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
};
