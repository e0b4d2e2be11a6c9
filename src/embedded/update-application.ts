// Applying an update statement's `u` to one document, as MongoDB does: operator updates
// ($set, $inc, ... with arrayFilters), pipeline updates (an array of stages) and replacements.
// mingo computes the result; this file adds what mingo leaves to the server: $setOnInsert,
// upsert seeding from the filter, and the _id immutability rule.
import { ObjectId, type Document } from 'bson';
import { updateOne } from 'mingo';
import { CommandError, ErrorCodes } from './command-error.ts';
import { cloneValue } from './document-clone.ts';
import { encodeIndexValue } from './index-key.ts';
import { queryOptions } from './mingo-options.ts';

export type UpdateKind = 'operators' | 'pipeline' | 'replacement';

export function updateKind(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (!u || typeof u !== 'object') throw new CommandError(ErrorCodes.FailedToParse, `update must be a document or a pipeline array, got ${JSON.stringify(u)}`);
  const keys = Object.keys(u);
  const operators = keys.filter((k) => k.startsWith('$'));
  if (operators.length === 0) return 'replacement';
  if (operators.length !== keys.length) {
    const plain = keys.find((k) => !k.startsWith('$'));
    throw new CommandError(ErrorCodes.FailedToParse, `Unknown modifier: ${plain}. Expected a valid update modifier or pipeline-style update specified as an array`);
  }
  return 'operators';
}

export interface UpdateOptions {
  arrayFilters?: Document[];
  /** The statement's filter: needed by the positional `$` operator. */
  filter: Document;
  variables?: Document;
  /** This update creates the document (upsert): $setOnInsert applies. */
  inserting: boolean;
}

/** The updated copy of `doc` (never `doc` itself), with _id kept. */
export function applyUpdate(doc: Document, u: Document | Document[], options: UpdateOptions): Document {
  const kind = updateKind(u);
  let result: Document;
  if (kind === 'replacement') {
    result = { _id: doc._id, ...cloneValue(u as Document) };
    if (result._id === undefined) delete result._id;
  } else {
    const split: { modifier: Document | Document[]; id?: { value: unknown } } = kind === 'operators' ? withoutIdAssignment(withoutSetOnInsert(u as Document, options.inserting)) : { modifier: u };
    const modifier = split.modifier;
    const target = [cloneValue(doc)];
    if (kind === 'pipeline' || Object.keys(modifier).length > 0) {
      updateOne(target, options.inserting ? {} : options.filter, modifier as Document, { arrayFilters: options.arrayFilters, let: options.variables }, queryOptions());
    }
    result = target[0];
    if (split.id) {
      // An upsert's new document takes its _id from the update; elsewhere the value must be the
      // one the document already has (checked below), which MongoDB accepts as a no-op.
      if (doc._id === undefined) result = { _id: cloneValue(split.id.value), ...result };
      else if (encodeIndexValue(split.id.value) !== encodeIndexValue(doc._id)) throw immutableIdError();
    }
  }
  if (doc._id !== undefined && encodeIndexValue(result._id) !== encodeIndexValue(doc._id)) {
    throw immutableIdError();
  }
  return result;
}

function immutableIdError(): CommandError {
  return new CommandError(ErrorCodes.ImmutableField, `Performing an update on the path '_id' would modify the immutable field '_id'`);
}

/**
 * Takes a top-level `_id` out of `$set` (where $setOnInsert has been merged on insert): mingo
 * refuses any update of _id, but MongoDB accepts one that creates the document (upsert) or
 * leaves the value unchanged, so the caller decides.
 */
function withoutIdAssignment(modifier: Document): { modifier: Document; id?: { value: unknown } } {
  const set = modifier.$set as Document | undefined;
  if (!set || typeof set !== 'object' || !Object.prototype.hasOwnProperty.call(set, '_id')) return { modifier };
  const { _id, ...restOfSet } = set;
  const { $set, ...rest } = modifier;
  return { modifier: Object.keys(restOfSet).length > 0 ? { ...rest, $set: restOfSet } : rest, id: { value: _id } };
}

function withoutSetOnInsert(u: Document, inserting: boolean): Document {
  if (!('$setOnInsert' in u)) return u;
  const { $setOnInsert, ...rest } = u;
  if (!inserting) return rest;
  return { ...rest, $set: { ...(rest.$set as Document | undefined), ...($setOnInsert as Document) } };
}

/** The document an upsert starts from: the filter's equality conditions (MongoDB's rule). */
export function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  const take = (clause: Document): void => {
    for (const [field, condition] of Object.entries(clause)) {
      if (field === '$and' && Array.isArray(condition)) {
        for (const sub of condition) take(sub as Document);
        continue;
      }
      if (field.startsWith('$')) continue;
      let value: unknown = condition;
      if (condition && typeof condition === 'object' && !Array.isArray(condition) && Object.getPrototypeOf(condition) === Object.prototype) {
        const keys = Object.keys(condition);
        if (keys.some((k) => k.startsWith('$'))) {
          if (keys.length === 1 && keys[0] === '$eq') value = (condition as Document).$eq;
          else continue;
        }
      }
      setPath(seed, field, cloneValue(value));
    }
  };
  take(filter);
  return seed;
}

function setPath(doc: Document, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== 'object') node[part] = {};
    node = node[part] as Document;
  }
  node[parts[parts.length - 1]] = value;
}

/** The document to insert for an upsert that matched nothing; _id first, generated if absent. */
export function buildUpsertDocument(filter: Document, u: Document | Document[], options: Omit<UpdateOptions, 'inserting' | 'filter'>): Document {
  const kind = updateKind(u);
  const seed = kind === 'replacement' ? (filter._id !== undefined && isPlainValue(filter._id) ? { _id: filter._id } : {}) : upsertSeed(filter);
  const updated = applyUpdate(seed, u, { ...options, filter, inserting: true });
  if (kind === 'replacement' && seed._id !== undefined) updated._id = seed._id;
  const id = updated._id ?? new ObjectId();
  const { _id, ...rest } = updated;
  return { _id: id, ...rest };
}

function isPlainValue(value: unknown): boolean {
  return !(value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).some((k) => k.startsWith('$')));
}
