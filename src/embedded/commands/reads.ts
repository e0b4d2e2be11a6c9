// find, getMore, killCursors, count, distinct: reading through cursors and counts.
import { Long, type Document } from 'bson';
import { Query } from 'mingo';
import type { CommandContext, CommandHandler } from '../command-context.ts';
import { collectionArgument, optionalDocument, optionalNumber } from '../command-arguments.ts';
import { CommandError, ErrorCodes, commandErrorFrom } from '../command-error.ts';
import { encodeCursorReply, serializeBatch } from '../cursor-reply.ts';
import { cloneValue } from '../document-clone.ts';
import { selectDocuments, type Selection } from '../document-query.ts';
import { encodeIndexValue, valuesAtPath } from '../index-key.ts';
import { queryOptions } from '../mingo-options.ts';

const DEFAULT_FIRST_BATCH = 101;

/** Send the first batch of `docs` and keep the rest in a cursor if any remain. */
export function replyWithCursor(ctx: CommandContext, ns: string, docs: Document[], options: { batchSize?: number; singleBatch?: boolean; transform?: (docs: Document[]) => Document[] } = {}): Uint8Array {
  const batchSize = options.batchSize ?? DEFAULT_FIRST_BATCH;
  const first = serializeBatch(docs, 0, batchSize, options.transform);
  const rest = docs.length - first.length;
  if (rest <= 0 || options.singleBatch) return encodeCursorReply(ns, 0, 'firstBatch', first);
  const cursor = ctx.engine.cursors.open(ns, docs, first.length, options.transform);
  return encodeCursorReply(ns, cursor.id, 'firstBatch', first);
}

export function findProjection(filter: Document, projection: Document | undefined, options: Document): ((docs: Document[]) => Document[]) | undefined {
  if (!projection || Object.keys(projection).length === 0) return undefined;
  // mingo's find both filters and projects; only the positional `field.$` projection needs the
  // filter (documents returned by findAndModify after an update may no longer match it).
  const positional = Object.keys(projection).some((field) => field.endsWith('.$'));
  let query: Query;
  try {
    query = new Query(positional ? filter : {}, queryOptions(options));
    // Validate now so a bad projection fails the command, not a later getMore.
    query.find([], projection).all();
  } catch (err) {
    throw commandErrorFrom(err);
  }
  const pick = topLevelInclusion(projection);
  if (pick) return (docs) => docs.map(pick);
  return (docs) => {
    try {
      return query.find(docs.map(cloneValue), projection).all() as Document[];
    } catch (err) {
      throw commandErrorFrom(err);
    }
  };
}

/**
 * A projection that only includes top-level fields ({ a: 1, b: 1 }, `_id` kept unless
 * `_id: 0`) picks them from the stored document, in document order, without copying the
 * document: stored documents are never changed in place, so sharing their values with a
 * reply batch is as safe as serializing them unprojected. Large documents read through a
 * small projection (metric bucket summaries) then cost what the projection selects.
 */
function topLevelInclusion(projection: Document): ((doc: Document) => Document) | undefined {
  const fields = new Set<string>();
  let includeId = true;
  for (const [field, value] of Object.entries(projection)) {
    if (field.includes('.') || field.startsWith('$')) return undefined;
    const included = value === 1 || value === true;
    if (field === '_id') {
      if (value === 0 || value === false) includeId = false;
      else if (!included) return undefined;
      continue;
    }
    if (!included) return undefined;
    fields.add(field);
  }
  if (fields.size === 0) return undefined;
  return (doc) => {
    const out: Document = {};
    for (const key of Object.keys(doc)) if (key === '_id' ? includeId : fields.has(key)) out[key] = doc[key];
    return out;
  };
}

export function findSelection(ctx: CommandContext, body: Document): { ns: string; selection: Selection; transform?: (docs: Document[]) => Document[]; limit: number } {
  const name = collectionArgument(body, 'find');
  const filter = optionalDocument(body, 'filter') ?? {};
  const limitArg = optionalNumber(body, 'limit') ?? 0;
  const limit = Math.abs(limitArg);
  const collation = optionalDocument(body, 'collation');
  const variables = optionalDocument(body, 'let');
  const selection = selectDocuments(ctx.engine.catalog.collection(ctx.db, name), filter, {
    sort: optionalDocument(body, 'sort'),
    skip: optionalNumber(body, 'skip', { min: 0 }),
    limit,
    collation,
    variables,
  });
  const transform = findProjection(filter, optionalDocument(body, 'projection'), { collation, variables });
  return { ns: `${ctx.db}.${name}`, selection, transform, limit: limitArg };
}

const find: CommandHandler = (ctx) => {
  const { ns, selection, transform, limit } = findSelection(ctx, ctx.body);
  const batchSize = optionalNumber(ctx.body, 'batchSize', { min: 0 });
  return replyWithCursor(ctx, ns, selection.docs, {
    batchSize: limit < 0 ? -limit : batchSize,
    singleBatch: Boolean(ctx.body.singleBatch) || limit < 0,
    transform,
  });
};

function cursorIdArgument(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Long) return value.toNumber();
  throw new CommandError(ErrorCodes.TypeMismatch, `BSON field 'getMore' is the wrong type '${typeof value}', expected type 'long'`);
}

const getMore: CommandHandler = (ctx) => {
  const id = cursorIdArgument(ctx.body.getMore);
  const cursor = ctx.engine.cursors.get(id);
  if (!cursor) throw new CommandError(ErrorCodes.CursorNotFound, `cursor id ${id} not found`);
  const collection = ctx.body.collection;
  if (cursor.ns !== `${ctx.db}.${collection}`) {
    throw new CommandError(ErrorCodes.BadValue, `Requested getMore on namespace '${ctx.db}.${collection}', but cursor belongs to a different namespace ${cursor.ns}`);
  }
  const batchSize = optionalNumber(ctx.body, 'batchSize', { min: 0 }) || Infinity;
  const batch = serializeBatch(cursor.docs, cursor.position, batchSize, cursor.transform);
  cursor.position += batch.length;
  const exhausted = cursor.position >= cursor.docs.length;
  if (exhausted) ctx.engine.cursors.close(id);
  return encodeCursorReply(cursor.ns, exhausted ? 0 : id, 'nextBatch', batch);
};

const killCursors: CommandHandler = (ctx) => {
  const ids = (Array.isArray(ctx.body.cursors) ? ctx.body.cursors : []).map(cursorIdArgument);
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of ids) (ctx.engine.cursors.close(id) ? killed : notFound).push(Long.fromNumber(id));
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'count');
  const { docs } = selectDocuments(ctx.engine.catalog.collection(ctx.db, name), optionalDocument(ctx.body, 'query') ?? {}, {
    skip: optionalNumber(ctx.body, 'skip', { min: 0 }),
    limit: Math.abs(optionalNumber(ctx.body, 'limit') ?? 0),
    collation: optionalDocument(ctx.body, 'collation'),
  });
  return { n: docs.length, ok: 1 };
};

const distinct: CommandHandler = (ctx) => {
  const name = collectionArgument(ctx.body, 'distinct');
  const key = ctx.body.key;
  if (typeof key !== 'string' || key.length === 0) throw new CommandError(ErrorCodes.TypeMismatch, `BSON field 'distinct.key' must be a non-empty string, got ${JSON.stringify(key)}`);
  const { docs } = selectDocuments(ctx.engine.catalog.collection(ctx.db, name), optionalDocument(ctx.body, 'query') ?? {}, { collation: optionalDocument(ctx.body, 'collation') });
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    for (const value of valuesAtPath(doc, key, { missing: 'skip' })) {
      const encoded = encodeIndexValue(value);
      if (!seen.has(encoded)) seen.set(encoded, value);
    }
  }
  return { values: [...seen.values()], ok: 1 };
};

export const readCommands: Record<string, CommandHandler> = { find, getMore, killCursors, count, distinct };
