// Compiled `$project` and `$addFields`/`$set` for the shapes ranking pipelines use: inclusion
// of top-level fields, field paths, constants, `$ifNull`, `$size` and a two-array
// `$setIntersection` of strings. mingo evaluates these per document through its generic
// expression machinery; compiled, a stage over 45,000 candidates is a plain loop. Anything
// else (or a value these do not handle, found while running) leaves the stage to mingo.
// Output documents are new objects that may share values with their input: the caller copies
// before handing them to a stage that could rewrite them. Checked against mingo's results in
// test/embedded/pipeline-fast-paths.test.ts.
import type { Document } from 'bson';
import { compileOperand, type Getter } from './pipeline-operands.ts';

/** Thrown while running a compiled stage on a value only mingo handles (it also reports errors). */
export class LeaveToMingo extends Error {}

const isNil = (value: unknown): boolean => value === null || value === undefined;

function compileExpression(expr: unknown): Getter | undefined {
  const operand = compileOperand(expr);
  if (operand) return operand;
  if (Array.isArray(expr)) {
    // A literal array of constants (the query's words).
    if (!expr.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null)) return undefined;
    return () => expr;
  }
  if (!expr || typeof expr !== 'object' || Object.getPrototypeOf(expr) !== Object.prototype) return undefined;
  const keys = Object.keys(expr);
  if (keys.length !== 1) return undefined;
  const op = keys[0];
  const arg = (expr as Document)[op];
  switch (op) {
    case '$ifNull': {
      if (!Array.isArray(arg) || arg.length === 0) return undefined;
      const getters = arg.map(compileExpression);
      if (getters.some((g) => !g)) return undefined;
      return (doc) => {
        let value: unknown;
        for (const get of getters) {
          value = get!(doc);
          if (!isNil(value)) return value;
        }
        return value;
      };
    }
    case '$size': {
      const get = Array.isArray(arg) ? undefined : compileExpression(arg);
      if (!get) return undefined;
      return (doc) => {
        const value = get(doc);
        if (!Array.isArray(value)) throw new LeaveToMingo();
        return value.length;
      };
    }
    case '$setIntersection': {
      if (!Array.isArray(arg) || arg.length !== 2) return undefined;
      const [getFirst, getSecond] = arg.map(compileExpression);
      if (!getFirst || !getSecond) return undefined;
      // A literal array of strings (the query's words) becomes its set once, not per document.
      const constant = Array.isArray(arg[1]) && arg[1].every((v: unknown) => typeof v === 'string') ? new Set<string>(arg[1] as string[]) : undefined;
      return (doc) => {
        const first = getFirst(doc);
        const second = constant ? arg[1] : getSecond(doc);
        if (isNil(first) || isNil(second)) return null;
        if (!Array.isArray(first) || !Array.isArray(second)) throw new LeaveToMingo();
        if (first.length === 0 || second.length === 0) return [];
        // Strings only: their equality is JavaScript's. mingo's order: the first array's, deduplicated.
        const wanted = constant ?? new Set<string>();
        if (!constant) {
          for (const v of second) {
            if (typeof v !== 'string') throw new LeaveToMingo();
            wanted.add(v);
          }
        }
        const out: string[] = [];
        const taken = new Set<string>();
        for (const v of first) {
          if (typeof v !== 'string') throw new LeaveToMingo();
          if (wanted.has(v) && !taken.has(v)) {
            taken.add(v);
            out.push(v);
          }
        }
        return out;
      };
    }
    default:
      return undefined;
  }
}

const included = (value: unknown): boolean => value === 1 || value === true;
const excluded = (value: unknown): boolean => value === 0 || value === false;

/**
 * `$project` with inclusions of top-level fields and computed fields (`_id` may be excluded).
 * Fields come out in the specification's order with `_id` last when not named, as mingo does.
 */
export function compileProject(spec: unknown): ((docs: Document[]) => Document[]) | undefined {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const fields: [string, Getter | 'copy'][] = [];
  let idMentioned = false;
  for (const [field, value] of Object.entries(spec as Document)) {
    if (field.includes('.') || field.startsWith('$')) return undefined;
    if (field === '_id') {
      idMentioned = true;
      if (excluded(value)) continue;
    } else if (excluded(value)) {
      return undefined; // exclusion projections stay with mingo
    }
    if (included(value)) {
      fields.push([field, 'copy']);
      continue;
    }
    const get = compileExpression(value);
    if (!get || typeof value === 'number' || typeof value === 'boolean') return undefined;
    fields.push([field, get]);
  }
  if (!idMentioned) fields.push(['_id', 'copy']);
  if (fields.length === 0) return undefined;
  return (docs) =>
    docs.map((doc) => {
      const out: Document = {};
      for (const [field, how] of fields) {
        // mingo leaves out a missing included field but keeps a computed one that is missing.
        if (how !== 'copy') out[field] = how(doc);
        else if (doc[field] !== undefined) out[field] = doc[field];
      }
      return out;
    });
}

/** `$addFields`/`$set` of top-level fields to compiled expressions. */
export function compileAddFields(spec: unknown): ((docs: Document[]) => Document[]) | undefined {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const fields: [string, Getter][] = [];
  for (const [field, value] of Object.entries(spec as Document)) {
    if (field.includes('.') || field.startsWith('$')) return undefined;
    const get = compileExpression(value);
    if (!get) return undefined;
    fields.push([field, get]);
  }
  if (fields.length === 0) return undefined;
  return (docs) =>
    docs.map((doc) => {
      const out: Document = { ...doc };
      for (const [field, get] of fields) {
        const value = get(doc);
        // A missing result removes or skips the field: mingo's rules for that stay mingo's.
        if (value === undefined) throw new LeaveToMingo();
        out[field] = value;
      }
      return out;
    });
}
