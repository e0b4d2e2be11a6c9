// Picks the documents a filter must look at: equality (or $in) on _id or on the leading fields
// of an index answers from the index; anything else scans the collection. The full filter is
// still applied to every candidate, so the index only narrows, never decides.
import type { Document } from 'bson';
import { Collection, ID_INDEX_NAME } from './collection.ts';
import { encodeIndexValue, isIndexableEqualityValue } from './index-key.ts';

/** Enough $in combinations to be worth an index; beyond it the scan is as good. */
const MAX_LOOKUP_KEYS = 10_000;

export interface QueryPlan {
  /** null: collection scan. */
  indexName: string | null;
  keyPattern?: Document;
  /** Candidate documents, in collection order for a scan. */
  candidates: Iterable<Document>;
  keysExamined: number;
}

/** Encoded values each top-level field is bound to by equality ($eq, $in, or a plain value). */
function equalityBindings(filter: Document, out = new Map<string, string[]>()): Map<string, string[]> {
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(condition)) {
      for (const clause of condition) if (clause && typeof clause === 'object') equalityBindings(clause as Document, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    const values = equalityValues(condition);
    if (values && !out.has(field)) out.set(field, values.map(encodeIndexValue));
  }
  return out;
}

function equalityValues(condition: unknown): unknown[] | undefined {
  if (isIndexableEqualityValue(condition)) return [condition];
  if (!condition || typeof condition !== 'object' || Array.isArray(condition) || Object.getPrototypeOf(condition) !== Object.prototype) return undefined;
  const operators = condition as Document;
  if ('$eq' in operators && isIndexableEqualityValue(operators.$eq)) return [operators.$eq];
  if (Array.isArray(operators.$in) && operators.$in.every(isIndexableEqualityValue)) return operators.$in;
  return undefined;
}

function cartesian(valueLists: string[][]): string[][] {
  let combos: string[][] = [[]];
  for (const values of valueLists) {
    combos = combos.flatMap((combo) => values.map((v) => [...combo, v]));
    if (combos.length > MAX_LOOKUP_KEYS) return [];
  }
  return combos;
}

export function planQuery(collection: Collection, filter: Document, hasCollation = false): QueryPlan {
  const scan: QueryPlan = { indexName: null, candidates: collection.documents.values(), keysExamined: 0 };
  if (hasCollation) return scan; // string equality under a collation is not byte equality
  const bindings = equalityBindings(filter);
  if (bindings.size === 0) return scan;

  const ids = bindings.get('_id');
  if (ids && ids.length <= MAX_LOOKUP_KEYS) {
    const docs: Document[] = [];
    for (const key of new Set(ids)) {
      const doc = collection.documents.get(key);
      if (doc) docs.push(doc);
    }
    return { indexName: ID_INDEX_NAME, keyPattern: { _id: 1 }, candidates: docs, keysExamined: ids.length };
  }

  let best: { name: string; keyPattern: Document; bound: string[][] } | undefined;
  for (const index of collection.indexes.values()) {
    if (!index.answersEqualityLookups) continue;
    const bound: string[][] = [];
    for (const field of index.fields) {
      const values = bindings.get(field);
      if (!values) break;
      bound.push(values);
    }
    if (bound.length > 0 && (!best || bound.length > best.bound.length)) best = { name: index.spec.name, keyPattern: index.spec.key, bound };
  }
  if (!best) return scan;
  const combos = cartesian(best.bound);
  if (combos.length === 0) return scan;
  const index = collection.indexes.get(best.name)!;
  const docKeys = new Set<string>();
  for (const combo of combos) for (const docKey of index.lookup(combo)) docKeys.add(docKey);
  // Index order, as with MongoDB's IXSCAN: without a sort no order is promised.
  const candidates: Document[] = [];
  for (const docKey of docKeys) {
    const doc = collection.documents.get(docKey);
    if (doc) candidates.push(doc);
  }
  return { indexName: best.name, keyPattern: best.keyPattern, candidates, keysExamined: docKeys.size };
}
