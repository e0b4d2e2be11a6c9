// Picks the documents a filter must look at: equality (or $in) on _id or on the leading fields
// of an index answers from the index; anything else scans the collection. The full filter is
// still applied to every candidate, so the index only narrows, never decides.
import type { Document } from 'bson';
import { Collection, ID_INDEX_NAME, type SecondaryIndex } from './collection.ts';
import { encodeIndexValue, isIndexableEqualityValue } from './index-key.ts';

/** Enough $in combinations to be worth an index; beyond it the scan is as good. */
const MAX_LOOKUP_KEYS = 10_000;

export interface QueryPlan {
  /** null: collection scan. */
  indexName: string | null;
  keyPattern?: Document;
  /** Candidate documents, in collection order for a scan. */
  candidates: Iterable<Document>;
  /** How many candidates there are: the plan's cost in documents to examine. */
  candidateCount: number;
  keysExamined: number;
}

/**
 * Encoded values each top-level field is bound to by equality ($eq, $in, or a plain value).
 * A field bound by several `$and` clauses ({$and: [{tags: 'a'}, {tags: 'b'}]}) gets one
 * alternative per clause: each alone is a correct narrowing, and the planner takes the one
 * with the fewest documents (the rarest word of a search).
 */
function equalityBindings(filter: Document, out = new Map<string, string[][]>()): Map<string, string[][]> {
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(condition)) {
      for (const clause of condition) if (clause && typeof clause === 'object') equalityBindings(clause as Document, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    const values = equalityValues(condition);
    if (!values) continue;
    const alternatives = out.get(field);
    if (alternatives) alternatives.push(values.map(encodeIndexValue));
    else out.set(field, [values.map(encodeIndexValue)]);
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

interface IndexChoice {
  index: SecondaryIndex;
  combos: string[][];
  /** Documents the index names for these keys (an upper bound when a document holds several). */
  cost: number;
  /** The values chosen for each leading field bound. */
  bound: string[][];
}

/** The cheapest way to look the filter up in `index`: per leading field, its cheapest binding. */
function chooseBindings(index: SecondaryIndex, bindings: Map<string, string[][]>): IndexChoice | undefined {
  let chosen: IndexChoice | undefined;
  const bound: string[][] = [];
  for (const field of index.fields) {
    let cheapest: { values: string[]; choice: IndexChoice } | undefined;
    for (const values of bindings.get(field) ?? []) {
      const combos = cartesian([...bound, values]);
      if (combos.length === 0) continue;
      let cost = 0;
      for (const combo of combos) cost += index.lookup(combo).size;
      if (!cheapest || cost < cheapest.choice.cost) cheapest = { values, choice: { index, combos, cost, bound: [...bound, values] } };
    }
    if (!cheapest) break;
    bound.push(cheapest.values);
    chosen = cheapest.choice;
  }
  return chosen;
}

/**
 * The candidate documents for a filter: through _id or the secondary index whose equality
 * lookup names the fewest documents (MongoDB's planner races plans; counting index entries
 * is this engine's cheap stand-in), else a collection scan.
 */
export function planQuery(collection: Collection, filter: Document, hasCollation = false): QueryPlan {
  const scan: QueryPlan = { indexName: null, candidates: collection.documents.values(), candidateCount: collection.documents.size, keysExamined: 0 };
  if (hasCollation) return scan; // string equality under a collation is not byte equality
  const bindings = equalityBindings(filter);
  if (bindings.size === 0) return scan;

  const idAlternatives = bindings.get('_id')?.filter((ids) => ids.length <= MAX_LOOKUP_KEYS);
  if (idAlternatives && idAlternatives.length > 0) {
    const ids = idAlternatives.reduce((fewest, ids) => (ids.length < fewest.length ? ids : fewest));
    const docs: Document[] = [];
    for (const key of new Set(ids)) {
      const doc = collection.documents.get(key);
      if (doc) docs.push(doc);
    }
    return { indexName: ID_INDEX_NAME, keyPattern: { _id: 1 }, candidates: docs, candidateCount: docs.length, keysExamined: ids.length };
  }

  let best: IndexChoice | undefined;
  for (const index of collection.indexes.values()) {
    if (!index.answersEqualityLookups) continue;
    const choice = chooseBindings(index, bindings);
    if (choice && (!best || choice.cost < best.cost || (choice.cost === best.cost && choice.bound.length > best.bound.length))) best = choice;
  }
  if (!best) return scan;
  let docKeys = new Set<string>();
  for (const combo of best.combos) for (const docKey of best.index.lookup(combo)) docKeys.add(docKey);
  if (best.bound.length === 1) docKeys = intersectOtherBindings(best, bindings.get(best.index.fields[0]!)!, docKeys);
  // Index order, as with MongoDB's IXSCAN: without a sort no order is promised.
  const candidates: Document[] = [];
  for (const docKey of docKeys) {
    const doc = collection.documents.get(docKey);
    if (doc) candidates.push(doc);
  }
  return { indexName: best.index.spec.name, keyPattern: best.index.spec.key, candidates, candidateCount: candidates.length, keysExamined: docKeys.size };
}

/**
 * Index intersection on the leading field: `{$and: [{tags: 'a'}, {tags: 'b'}]}` keeps only the
 * chosen (rarest) word's documents that the other words' index entries also hold, so a search
 * for words that never occur together examines no document at all.
 */
function intersectOtherBindings(choice: IndexChoice, alternatives: string[][], docKeys: Set<string>): Set<string> {
  const others = alternatives.filter((values) => values !== choice.bound[0]);
  if (others.length === 0) return docKeys;
  const holders = others.map((values) => values.map((value) => choice.index.lookup([value])));
  const kept = new Set<string>();
  for (const docKey of docKeys) {
    if (holders.every((sets) => sets.some((set) => set.has(docKey)))) kept.add(docKey);
  }
  return kept;
}
