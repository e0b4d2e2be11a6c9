// Compiled fast paths for the stages analytical pipelines lean on: $match (compiled filters,
// see compiled-filter.ts), $group, $sort + $limit, $skip, $limit, $project/$addFields
// (pipeline-projection-fast-paths.ts) and $unwind (pipeline-unwind-fast-path.ts). mingo
// interprets every expression per document (about 500 ms for a five-accumulator $group over
// 100,000 documents); these compile a stage once into plain loops. A stage is taken here only
// when every part of it is understood; otherwise it and everything after it go to mingo. Each
// path is checked against mingo's own result in test/embedded/pipeline-fast-paths.test.ts.
import type { Document } from 'bson';
import { compare } from 'mingo/util';
import { compileFilter, isObjectId } from './compiled-filter.ts';
import { encodeIndexValue } from './index-key.ts';
import { compileOperand, type Getter } from './pipeline-operands.ts';
import { compileAddFields, compileProject, LeaveToMingo } from './pipeline-projection-fast-paths.ts';
import { compileUnwind } from './pipeline-unwind-fast-path.ts';

interface GroupKey {
  /** The group's `_id` for a document. */
  keyOf: Getter;
  /** The values the key is made of, one getter each (one for a single operand). */
  parts: Getter[];
  /** A single operand: a missing value groups with null (compound keys tell them apart). */
  single: boolean;
}

/** `_id` of a $group: null/constant, a field path, or a document of field paths. */
function compileGroupKey(expr: unknown): GroupKey | undefined {
  const operand = compileOperand(expr);
  if (operand) return { keyOf: operand, parts: [operand], single: true };
  if (!expr || typeof expr !== 'object' || Array.isArray(expr) || Object.getPrototypeOf(expr) !== Object.prototype) return undefined;
  const entries = Object.entries(expr as Document);
  if (entries.length === 0 || entries.some(([k]) => k.startsWith('$'))) return undefined;
  const getters: [string, Getter][] = [];
  for (const [k, v] of entries) {
    const g = compileOperand(v);
    if (!g) return undefined;
    getters.push([k, g]);
  }
  const keyOf = (doc: Document) => {
    const key: Document = {};
    for (const [k, g] of getters) {
      const value = g(doc);
      if (value !== undefined) key[k] = value;
    }
    return key;
  };
  return { keyOf, parts: getters.map(([, g]) => g), single: false };
}

/** Values a Map tells apart exactly as MongoDB groups them (1 and 1.0, 0 and -0, NaN and NaN alike). */
function isPrimitiveKeyPart(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

interface Accumulator {
  add(state: AccumulatorState, doc: Document): void;
  result(state: AccumulatorState): unknown;
}

interface AccumulatorState {
  sum: number;
  count: number;
  value: unknown;
  seen: boolean;
  values: unknown[];
  keys: Set<string>;
}

const newState = (): AccumulatorState => ({ sum: 0, count: 0, value: undefined, seen: false, values: [], keys: new Set() });

function compileAccumulator(spec: unknown): Accumulator | undefined {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const keys = Object.keys(spec);
  if (keys.length !== 1) return undefined;
  const op = keys[0];
  const arg = (spec as Document)[op];
  if (op === '$count') {
    if (!arg || typeof arg !== 'object' || Object.keys(arg).length > 0) return undefined;
    return { add: (s) => void s.count++, result: (s) => s.count };
  }
  if (op === '$sum' && typeof arg === 'number') {
    // mingo multiplies a constant by the group size rather than adding it up.
    return { add: (s) => void s.count++, result: (s) => s.count * arg };
  }
  const get = compileOperand(arg);
  if (!get) return undefined;
  switch (op) {
    case '$sum':
      return {
        add: (s, doc) => {
          const v = get(doc);
          if (isNumber(v)) s.sum += v;
        },
        result: (s) => s.sum,
      };
    case '$avg':
      return {
        add: (s, doc) => {
          const v = get(doc);
          if (isNumber(v)) {
            s.sum += v;
            s.count++;
          }
        },
        result: (s) => (s.count === 0 ? null : s.sum / s.count),
      };
    case '$stdDevPop':
    case '$stdDevSamp': {
      const sampled = op === '$stdDevSamp';
      return {
        add: (s, doc) => {
          const v = get(doc);
          if (isNumber(v)) s.values.push(v);
        },
        result: (s) => standardDeviation(s.values as number[], sampled),
      };
    }
    case '$min':
    case '$max': {
      const sign = op === '$min' ? -1 : 1;
      return {
        add: (s, doc) => {
          const v = get(doc);
          if (v === undefined || v === null) return;
          if (!s.seen || bsonCompare(v, s.value) * sign > 0) {
            s.value = v;
            s.seen = true;
          }
        },
        result: (s) => (s.seen ? s.value : null),
      };
    }
    case '$first':
      return {
        add: (s, doc) => {
          if (s.seen) return;
          s.value = get(doc);
          s.seen = true;
        },
        result: (s) => s.value ?? null,
      };
    case '$last':
      return { add: (s, doc) => void (s.value = get(doc)), result: (s) => s.value ?? null };
    case '$push':
      return {
        add: (s, doc) => {
          // As mingo does: a missing value is pushed as null.
          s.values.push(get(doc) ?? null);
        },
        result: (s) => s.values,
      };
    case '$addToSet':
      return {
        add: (s, doc) => {
          const v = get(doc) ?? null;
          const key = encodeIndexValue(v);
          if (s.keys.has(key)) return;
          s.keys.add(key);
          s.values.push(v);
        },
        result: (s) => s.values,
      };
    default:
      return undefined;
  }
}

/**
 * mingo's comparison, except that NaN sorts below every other number as in BSON order (mingo's
 * sort-based $min/$max gives an arbitrary answer when NaN is among the values).
 */
function bsonCompare(a: unknown, b: unknown): number {
  const aNaN = typeof a === 'number' && Number.isNaN(a);
  const bNaN = typeof b === 'number' && Number.isNaN(b);
  if (aNaN || bNaN) {
    if (aNaN && bNaN) return 0;
    if (aNaN) return typeof b === 'number' ? -1 : compare(0, b);
    return typeof a === 'number' ? 1 : compare(a, 0);
  }
  return compare(a, b);
}

/** A number as mingo's accumulators count one: NaN is not. */
function isNumber(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value);
}

/** Two passes (mean, then squared deviations), in mingo's order of operations so results match to the bit. */
function standardDeviation(values: number[], sampled: boolean): number {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) {
    const d = v - mean;
    squares += d * d;
  }
  return Math.sqrt(squares / (values.length - Number(sampled)));
}

interface CompiledGroup {
  /** The top-level fields its operands read (field paths are its only inputs). */
  reads: string[];
  /** The group rows of the documents `feed` hands to its visitor; each is read at once, none is kept. */
  over(feed: (visit: (doc: Document) => void) => void): Document[];
}

function compileGroup(spec: unknown): CompiledGroup | undefined {
  if (!spec || typeof spec !== 'object' || !('_id' in spec)) return undefined;
  const key = compileGroupKey((spec as Document)._id);
  if (!key) return undefined;
  const fields: [string, Accumulator][] = [];
  for (const [name, accumulatorSpec] of Object.entries(spec as Document)) {
    if (name === '_id') continue;
    if (name.includes('.') || name.startsWith('$')) return undefined;
    const accumulator = compileAccumulator(accumulatorSpec);
    if (!accumulator) return undefined;
    fields.push([name, accumulator]);
  }
  const { keyOf, parts, single } = key;
  const last = parts.length - 1;
  const over = (feed: (visit: (doc: Document) => void) => void): Document[] => {
    type Group = { id: unknown; states: AccumulatorState[] };
    const groups: Group[] = [];
    // Keys of primitive values find their group through one Map per key part, without
    // building the key; any other key (a date, an array, a document) through the index
    // encoding of the whole key, which costs several times more per document.
    const byParts = new Map<unknown, unknown>();
    const byEncoding = new Map<string, Group>();
    const create = (doc: Document): Group => {
      const id = keyOf(doc);
      const group = { id: id ?? null, states: fields.map(newState) };
      groups.push(group);
      return group;
    };
    const lookUp = (doc: Document): Group => {
      let level = byParts;
      for (let p = 0; ; p++) {
        let value = parts[p](doc);
        if (!isPrimitiveKeyPart(value)) {
          const mapKey = encodeIndexValue(keyOf(doc));
          let group = byEncoding.get(mapKey);
          if (!group) byEncoding.set(mapKey, (group = create(doc)));
          return group;
        }
        if (single && value === undefined) value = null;
        if (p === last) {
          let group = level.get(value) as Group | undefined;
          if (!group) level.set(value, (group = create(doc)));
          return group;
        }
        let next = level.get(value) as Map<unknown, unknown> | undefined;
        if (!next) level.set(value, (next = new Map()));
        level = next;
      }
    };
    feed((doc) => {
      const group = lookUp(doc);
      for (let i = 0; i < fields.length; i++) fields[i][1].add(group.states[i], doc);
    });
    return groups.map(({ id, states }) => {
      const row: Document = { _id: id };
      fields.forEach(([name, accumulator], i) => (row[name] = accumulator.result(states[i])));
      return row;
    });
  };
  return { reads: topLevelFieldsRead(spec as Document), over };
}

/** The top-level field of every field path in a compiled stage's spec. */
function topLevelFieldsRead(spec: Document): string[] {
  const fields = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith('$') && !value.startsWith('$$')) fields.add(value.slice(1).split('.')[0]);
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) visit(v);
    }
  };
  visit(spec);
  return [...fields];
}

/**
 * BSON order of two sort keys, with the common same-type cases (numbers, ObjectIds, dates)
 * compared directly: mingo's general compare spells an ObjectId as hex for every comparison,
 * which was most of a top-k over tens of thousands of runs sorted by _id.
 */
function sortCompare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number' && !Number.isNaN(a) && !Number.isNaN(b)) return a < b ? -1 : a > b ? 1 : 0;
  if (isObjectId(a) && isObjectId(b)) return Buffer.compare(a.id, b.id);
  if (a instanceof Date && b instanceof Date && Number.isFinite(a.getTime()) && Number.isFinite(b.getTime())) return Math.sign(a.getTime() - b.getTime());
  return compare(a, b);
}

/** $sort followed by $limit: keep the best k in a sorted buffer instead of sorting everything. */
function compileTopK(sortSpec: unknown, limit: unknown): ((docs: Document[]) => Document[] | undefined) | undefined {
  if (!sortSpec || typeof sortSpec !== 'object' || typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) return undefined;
  const keys = Object.entries(sortSpec as Document);
  if (keys.length === 0 || keys.some(([field, dir]) => field.startsWith('$') || (dir !== 1 && dir !== -1))) return undefined;
  const getters = keys.map(([field, dir]) => [compileOperand(`$${field}`)!, dir as number] as const);
  const cmp = (a: unknown[], b: unknown[]): number => {
    for (let i = 0; i < getters.length; i++) {
      const c = sortCompare(a[i] ?? null, b[i] ?? null);
      if (c !== 0) return c * getters[i][1];
    }
    return 0;
  };
  return (docs) => {
    const buffer: { keys: unknown[]; doc: Document }[] = [];
    for (const doc of docs) {
      const sortKeys = getters.map(([get]) => get(doc));
      // Arrays and documents sort by MongoDB's element rules: leave those to mingo.
      if (sortKeys.some((k) => k !== null && typeof k === 'object' && !(k instanceof Date) && !('_bsontype' in (k as object)))) return undefined;
      if (buffer.length === limit && cmp(sortKeys, buffer[limit - 1].keys) >= 0) continue;
      let lo = 0;
      let hi = buffer.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmp(buffer[mid].keys, sortKeys) <= 0) lo = mid + 1;
        else hi = mid;
      }
      buffer.splice(lo, 0, { keys: sortKeys, doc });
      if (buffer.length > limit) buffer.pop();
    }
    return buffer.map((entry) => entry.doc);
  };
}

/**
 * Run the leading stages that have a fast path; return the documents so far and the stages
 * left for mingo.
 */
export function runFastStages(input: Document[], stages: Document[]): { docs: Document[]; rest: Document[] } {
  let docs = input;
  let i = 0;
  while (i < stages.length) {
    const stage = stages[i];
    const name = Object.keys(stage)[0];
    if (name === '$match' && stage.$match && typeof stage.$match === 'object') {
      const matches = compileFilter(stage.$match as Document);
      if (matches) docs = docs.filter((doc) => matches(doc));
      i++;
    } else if (name === '$group') {
      const group = compileGroup(stage.$group);
      if (!group) break;
      const input = docs;
      docs = group.over((visit) => input.forEach((doc) => visit(doc)));
      i++;
    } else if (name === '$sort' && stages[i + 1] && '$limit' in stages[i + 1]) {
      const topK = compileTopK(stage.$sort, stages[i + 1].$limit);
      const result = topK?.(docs);
      if (!result) break;
      docs = result;
      i += 2;
    } else if (name === '$project' || name === '$addFields' || name === '$set') {
      const reshape = name === '$project' ? compileProject(stage.$project) : compileAddFields(stage[name]);
      if (!reshape) break;
      try {
        docs = reshape(docs);
      } catch (err) {
        if (err instanceof LeaveToMingo) break;
        throw err;
      }
      i++;
    } else if (name === '$unwind') {
      const unwind = compileUnwind(stage.$unwind);
      if (!unwind) break;
      // Straight into a compiled $group, the unwound documents are never built: the group
      // reads each one through a view holding only the fields it reads.
      const group = stages[i + 1] && '$group' in stages[i + 1] ? compileGroup(stages[i + 1].$group) : undefined;
      const input = docs;
      docs = group ? group.over((visit) => unwind.each(input, group.reads, visit)) : unwind.all(input);
      i += group ? 2 : 1;
    } else if (name === '$limit' && typeof stage.$limit === 'number' && Number.isInteger(stage.$limit) && stage.$limit > 0) {
      docs = docs.slice(0, stage.$limit);
      i++;
    } else if (name === '$skip' && typeof stage.$skip === 'number' && Number.isInteger(stage.$skip) && stage.$skip >= 0) {
      docs = docs.slice(stage.$skip);
      i++;
    } else {
      break;
    }
  }
  return { docs, rest: stages.slice(i) };
}
