// Document predicates for MongoDB filters (compileFilter), with a compiled fast path for the
// filters most queries use: equality, $eq/$ne, $in/$nin/$all (of scalars and ObjectIds), $gt/
// $gte/$lt/$lte on numbers and dates, $exists, and $and/$or/$nor of those, on plain or dotted
// field paths.
// mingo interprets a filter per document (microseconds each); this compiles it once into plain
// comparisons. A filter with anything else is not compiled, and a document whose path runs
// through an array before its last field is handed to mingo. Checked against mingo in
// test/embedded/compiled-filter.test.ts.
import type { Document, ObjectId } from 'bson';
import { Query } from 'mingo';
import { commandErrorFrom } from './command-error.ts';
import { queryOptions } from './mingo-options.ts';

/** true / false, or undefined: "ask mingo for this document". */
export type CompiledFilter = (doc: Document) => boolean | undefined;

type Scalar = string | number | boolean;
type LeafTest = (value: unknown) => boolean;

const NOT_SIMPLE = Symbol('not simple');

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && !Number.isNaN(value));
}

function isPlainObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/** A BSON ObjectId (by its type tag: the driver's and the engine's classes may differ). */
export function isObjectId(value: unknown): value is ObjectId {
  return value !== null && typeof value === 'object' && (value as { _bsontype?: unknown })._bsontype === 'ObjectId';
}

/** A test on one value (not an array); arrays are handled by `anyElement`. */
function scalarEquals(expected: Scalar): LeafTest {
  return (value) => value === expected;
}

function objectIdEquals(expected: ObjectId): LeafTest {
  const hex = expected.toHexString();
  return (value) => isObjectId(value) && value.toHexString() === hex;
}

/** Membership in a list of scalars and ObjectIds (the parent ids of a batched read). */
function memberOf(list: unknown[]): LeafTest {
  const scalars = new Set<unknown>(list.filter(isScalar));
  const ids = new Set(list.filter(isObjectId).map((id) => id.toHexString()));
  if (ids.size === 0) return (value) => scalars.has(value);
  return (value) => (isObjectId(value) ? ids.has(value.toHexString()) : scalars.has(value));
}

function rangeTest(operator: string, bound: unknown): LeafTest | typeof NOT_SIMPLE {
  let key: (v: unknown) => number | undefined;
  let limit: number;
  if (typeof bound === 'number' && !Number.isNaN(bound)) {
    key = (v) => (typeof v === 'number' && !Number.isNaN(v) ? v : undefined);
    limit = bound;
  } else if (bound instanceof Date) {
    key = (v) => (v instanceof Date ? v.getTime() : undefined);
    limit = bound.getTime();
  } else {
    return NOT_SIMPLE; // strings compare by UTF-8 bytes in MongoDB, other types by type order: mingo
  }
  switch (operator) {
    case '$gt':
      return (v) => { const k = key(v); return k !== undefined && k > limit; };
    case '$gte':
      return (v) => { const k = key(v); return k !== undefined && k >= limit; };
    case '$lt':
      return (v) => { const k = key(v); return k !== undefined && k < limit; };
    default:
      return (v) => { const k = key(v); return k !== undefined && k <= limit; };
  }
}

/** MongoDB's rule for a field holding an array: the condition holds if it holds for an element. */
function anyElement(test: LeafTest): LeafTest {
  return (value) => (Array.isArray(value) ? value.some(test) : test(value));
}

/** Tests on the value at one path; `negate` marks $ne/$nin (true when no element matches, missing included). */
interface FieldCondition {
  test: LeafTest;
  negate: boolean;
  /** $exists: true/false tests presence instead of the value. */
  exists?: boolean;
}

function compileFieldConditions(condition: unknown): FieldCondition[] | typeof NOT_SIMPLE {
  if (isScalar(condition)) return [{ test: anyElement(scalarEquals(condition)), negate: false }];
  if (isObjectId(condition)) return [{ test: anyElement(objectIdEquals(condition)), negate: false }];
  if (condition instanceof Date) {
    const time = condition.getTime();
    return [{ test: anyElement((v) => v instanceof Date && v.getTime() === time), negate: false }];
  }
  if (!isPlainObject(condition)) return NOT_SIMPLE;
  const operators = Object.entries(condition);
  if (operators.length === 0 || operators.some(([op]) => !op.startsWith('$'))) return NOT_SIMPLE;
  const conditions: FieldCondition[] = [];
  for (const [op, arg] of operators) {
    switch (op) {
      case '$eq':
      case '$ne':
        if (!isScalar(arg) && !isObjectId(arg)) return NOT_SIMPLE;
        conditions.push({ test: anyElement(isObjectId(arg) ? objectIdEquals(arg) : scalarEquals(arg)), negate: op === '$ne' });
        break;
      case '$in':
      case '$nin':
        if (!Array.isArray(arg) || !arg.every((v) => isScalar(v) || isObjectId(v))) return NOT_SIMPLE;
        conditions.push({ test: anyElement(memberOf(arg)), negate: op === '$nin' });
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        const test = rangeTest(op, arg);
        if (test === NOT_SIMPLE) return NOT_SIMPLE;
        conditions.push({ test: anyElement(test), negate: false });
        break;
      }
      case '$all':
        // Scalars only: an array element of $all would have to equal a whole array.
        if (!Array.isArray(arg) || arg.length === 0 || !arg.every((v) => isScalar(v) || isObjectId(v))) return NOT_SIMPLE;
        for (const v of arg) conditions.push({ test: anyElement(isObjectId(v) ? objectIdEquals(v) : scalarEquals(v)), negate: false });
        break;
      case '$exists':
        if (typeof arg !== 'boolean') return NOT_SIMPLE;
        conditions.push({ test: () => true, negate: false, exists: arg });
        break;
      default:
        return NOT_SIMPLE;
    }
  }
  return conditions;
}

const THROUGH_ARRAY = Symbol('path runs through an array');

/** The value at a dotted path, or THROUGH_ARRAY when an array sits before the last field. */
function pathReader(path: string): (doc: Document) => unknown {
  if (!path.includes('.')) return (doc) => doc[path];
  const parts = path.split('.');
  return (doc) => {
    let value: unknown = doc;
    for (const part of parts) {
      if (value === null || value === undefined) return undefined;
      if (Array.isArray(value)) return THROUGH_ARRAY;
      if (typeof value !== 'object') return undefined;
      value = (value as Document)[part];
    }
    return value;
  };
}

export function compileSimpleFilter(filter: Document): CompiledFilter | undefined {
  const fields: { read: (doc: Document) => unknown; conditions: FieldCondition[] }[] = [];
  /** $or / $nor clauses: their branches, compiled, and whether the result is negated. */
  const alternatives: { branches: CompiledFilter[]; negate: boolean }[] = [];
  const add = (clause: Document): boolean => {
    for (const [path, condition] of Object.entries(clause)) {
      if (path === '$and') {
        if (!Array.isArray(condition) || condition.length === 0) return false;
        for (const sub of condition) if (!isPlainObject(sub) || !add(sub)) return false;
        continue;
      }
      if (path === '$or' || path === '$nor') {
        if (!Array.isArray(condition) || condition.length === 0 || !condition.every(isPlainObject)) return false;
        const branches = condition.map((sub) => compileSimpleFilter(sub as Document));
        if (branches.some((branch) => !branch)) return false;
        alternatives.push({ branches: branches as CompiledFilter[], negate: path === '$nor' });
        continue;
      }
      if (path.startsWith('$') || path.split('.').some((part) => part === '' || /^\d+$/.test(part))) return false;
      const conditions = compileFieldConditions(condition);
      if (conditions === NOT_SIMPLE) return false;
      fields.push({ read: pathReader(path), conditions });
    }
    return true;
  };
  if (!add(filter) || fields.length + alternatives.length === 0) return undefined;
  return (doc) => {
    for (const { read, conditions } of fields) {
      const value = read(doc);
      if (value === THROUGH_ARRAY) return undefined;
      for (const condition of conditions) {
        if (condition.exists !== undefined) {
          if ((value !== undefined) !== condition.exists) return false;
          continue;
        }
        if (condition.test(value) === condition.negate) return false;
      }
    }
    for (const { branches, negate } of alternatives) {
      const any = anyBranch(branches, doc);
      if (any === undefined) return undefined;
      if (any === negate) return false;
    }
    return true;
  };
}

/** Whether a branch holds: true if one does, undefined if none does but one could not tell. */
function anyBranch(branches: CompiledFilter[], doc: Document): boolean | undefined {
  let undecided = false;
  for (const branch of branches) {
    const result = branch(doc);
    if (result === true) return true;
    if (result === undefined) undecided = true;
  }
  return undecided ? undefined : false;
}

/** A document predicate for a MongoDB filter: compiled where it can be, mingo otherwise. */
export function compileFilter(filter: Document, options: { collation?: Document; variables?: Document } = {}): ((doc: Document) => boolean) | undefined {
  if (Object.keys(filter).length === 0) return undefined;
  let query: Query;
  try {
    query = new Query(filter, queryOptions(options));
  } catch (err) {
    throw commandErrorFrom(err);
  }
  // The compiled path knows nothing of collations or `let` variables.
  const compiled = options.collation || options.variables ? undefined : compileSimpleFilter(filter);
  if (!compiled) return (doc) => query.test(doc);
  return (doc) => compiled(doc) ?? query.test(doc);
}
