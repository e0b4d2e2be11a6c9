// Picks the documents a filter must look at: equality ($eq, $in, $all, a plain value) on _id or
// on the leading fields of an index answers from the index, choosing by how many documents each
// lookup names (and intersecting several values of one field); an $or reads the union of its
// branches' lookups; anything else, or a lookup naming most of the collection, scans. The full
// filter is still applied to every candidate, so the index only narrows, never decides.
import type { Document } from 'bson';
import { Collection, ID_INDEX_NAME, type SecondaryIndex } from './collection.ts';
import { encodeIndexValue, isIndexableEqualityValue } from './index-key.ts';

/** An index lookup naming more than this share of the documents loses to a collection scan. */
const MAX_INDEXED_SHARE = 0.5;

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
 * Encoded values each top-level field is bound to by equality ($eq, $in, $all, or a plain
 * value). A field bound by several conditions ({$and: [{tags: 'a'}, {tags: 'b'}]}, or
 * {tags: {$all: ['a', 'b']}}) gets one alternative per condition: each alone is a correct
 * narrowing, and the planner takes the one with the fewest documents (the rarest word of a
 * search) and intersects the others in.
 */
function equalityBindings(filter: Document, out = new Map<string, string[][]>()): Map<string, string[][]> {
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(condition)) {
      for (const clause of condition) if (clause && typeof clause === 'object') equalityBindings(clause as Document, out);
      continue;
    }
    if (field.startsWith('$')) continue;
    for (const values of equalityAlternatives(condition)) {
      const alternatives = out.get(field);
      if (alternatives) alternatives.push(values.map(encodeIndexValue));
      else out.set(field, [values.map(encodeIndexValue)]);
    }
  }
  return out;
}

/** The value lists a condition binds its field to, any one of which a match must hold. */
function equalityAlternatives(condition: unknown): unknown[][] {
  if (isIndexableEqualityValue(condition)) return [[condition]];
  if (!condition || typeof condition !== 'object' || Array.isArray(condition) || Object.getPrototypeOf(condition) !== Object.prototype) return [];
  const operators = condition as Document;
  const alternatives: unknown[][] = [];
  if ('$eq' in operators && isIndexableEqualityValue(operators.$eq)) alternatives.push([operators.$eq]);
  if (Array.isArray(operators.$in) && operators.$in.every(isIndexableEqualityValue)) alternatives.push(operators.$in);
  if (Array.isArray(operators.$all)) for (const value of operators.$all) if (isIndexableEqualityValue(value)) alternatives.push([value]);
  return alternatives;
}

/** The `$or` clauses of a filter, at its top level or inside its top-level `$and`. */
function orClauses(filter: Document, out: Document[][] = []): Document[][] {
  for (const [field, condition] of Object.entries(filter)) {
    if (!Array.isArray(condition)) continue;
    if (field === '$or' && condition.every((branch) => branch && typeof branch === 'object' && !Array.isArray(branch))) out.push(condition as Document[]);
    if (field === '$and') for (const clause of condition) if (clause && typeof clause === 'object') orClauses(clause as Document, out);
  }
  return out;
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
  for (const field of index.lookupFields) {
    let cheapest: { values: string[]; choice: IndexChoice } | undefined;
    for (const values of bindings.get(field) ?? []) {
      const combos = cartesian([...bound, values]);
      if (combos.length === 0) continue;
      let cost = 0;
      for (const combo of combos) cost += index.count(combo);
      if (!cheapest || cost < cheapest.choice.cost) cheapest = { values, choice: { index, combos, cost, bound: [...bound, values] } };
    }
    if (!cheapest) break;
    bound.push(cheapest.values);
    chosen = cheapest.choice;
  }
  return chosen;
}

/** Documents an index lookup names, before the filter is applied to them. Read lazily: a walk in
 * `_id` order (document-query.ts) needs only their number. */
interface IndexLookup {
  indexName: string;
  keyPattern: Document;
  /** How many documents it names: exact, or an upper bound where one may be named twice. */
  count: number;
  /** Their keys, each once. */
  docKeys(): Iterable<string>;
}

/**
 * The candidate documents for a filter: through _id or the secondary index whose equality
 * lookup names the fewest documents (MongoDB's planner races plans; counting index entries
 * is this engine's cheap stand-in), or the union of index lookups for each branch of an `$or`
 * when every branch has one; else a collection scan.
 */
export function planQuery(collection: Collection, filter: Document, hasCollation = false): QueryPlan {
  const documents = collection.documents;
  const scan: QueryPlan = { indexName: null, candidates: documents.values(), candidateCount: documents.size, keysExamined: 0 };
  if (hasCollation) return scan; // string equality under a collation is not byte equality
  const lookup = indexLookup(collection, filter);
  // Naming most of the collection, the index costs more than reading it in order.
  if (!lookup || lookup.count > documents.size * MAX_INDEXED_SHARE) return scan;
  // Index order, as with MongoDB's IXSCAN: without a sort no order is promised.
  const candidates = {
    *[Symbol.iterator]() {
      for (const docKey of lookup.docKeys()) {
        const doc = documents.get(docKey);
        if (doc) yield doc;
      }
    },
  };
  return { indexName: lookup.indexName, keyPattern: lookup.keyPattern, candidates, candidateCount: lookup.count, keysExamined: lookup.count };
}

function indexLookup(collection: Collection, filter: Document): IndexLookup | undefined {
  const bindings = equalityBindings(filter);
  const idAlternatives = bindings.get('_id')?.filter((ids) => ids.length <= MAX_LOOKUP_KEYS);
  if (idAlternatives && idAlternatives.length > 0) {
    const ids = idAlternatives.reduce((fewest, ids) => (ids.length < fewest.length ? ids : fewest));
    const present = [...new Set(ids)].filter((key) => collection.documents.has(key));
    return { indexName: ID_INDEX_NAME, keyPattern: { _id: 1 }, count: present.length, docKeys: () => present };
  }
  let cheapest: IndexLookup | undefined;
  const consider = (lookup: IndexLookup | undefined) => {
    if (lookup && (!cheapest || lookup.count < cheapest.count)) cheapest = lookup;
  };
  consider(secondaryIndexLookup(collection, bindings));
  for (const branches of orClauses(filter)) consider(unionOfBranches(collection, branches));
  return cheapest;
}

/** The keys of several lookups, each once. */
function distinctKeys(sources: (() => Iterable<string>)[]): () => Iterable<string> {
  if (sources.length === 1) return sources[0]!;
  return function* () {
    const seen = new Set<string>();
    for (const source of sources) {
      for (const docKey of source()) {
        if (seen.has(docKey)) continue;
        seen.add(docKey);
        yield docKey;
      }
    }
  };
}

function secondaryIndexLookup(collection: Collection, bindings: Map<string, string[][]>): IndexLookup | undefined {
  if (bindings.size === 0) return undefined;
  let best: IndexChoice | undefined;
  for (const index of collection.indexes.values()) {
    if (!index.answersEqualityLookups) continue;
    const choice = chooseBindings(index, bindings);
    if (choice && (!best || choice.cost < best.cost || (choice.cost === best.cost && choice.bound.length > best.bound.length))) best = choice;
  }
  if (!best) return undefined;
  const { index } = best;
  const named = distinctKeys(best.combos.map((combo) => () => index.lookup(combo)));
  const lookup = { indexName: index.spec.name, keyPattern: index.spec.key };
  const others = best.bound.length === 1 ? otherValues(best, bindings.get(index.fields[0]!)!) : [];
  if (others.length === 0) return { ...lookup, count: best.cost, docKeys: named };
  // Index intersection on the leading field: {$and: [{tags: 'a'}, {tags: 'b'}]} keeps only the
  // chosen (rarest) value's documents that the other values' entries also hold, so words that
  // never occur together cost one pass over the rarest one's entries and examine no document.
  const holders = others.map((values) => values.map((value) => index.lookup([value])));
  const heldByAll = (docKey: string) => holders.every((sets) => sets.some((set) => set.has(docKey)));
  let count = 0;
  for (const docKey of named()) if (heldByAll(docKey)) count++;
  return {
    ...lookup,
    count,
    *docKeys() {
      for (const docKey of named()) if (heldByAll(docKey)) yield docKey;
    },
  };
}

/** The leading field's other bound value lists, besides the one the lookup was made with. */
function otherValues(choice: IndexChoice, alternatives: string[][]): string[][] {
  return alternatives.filter((values) => values !== choice.bound[0]);
}

/** `$or`: the union of each branch's lookup, when every branch has one (MongoDB's OR of IXSCANs). */
function unionOfBranches(collection: Collection, branches: Document[]): IndexLookup | undefined {
  const lookups = branches.map((branch) => indexLookup(collection, branch));
  if (lookups.length === 0 || lookups.some((lookup) => !lookup)) return undefined;
  const present = lookups as IndexLookup[];
  return {
    indexName: present[0]!.indexName,
    keyPattern: present[0]!.keyPattern,
    count: present.reduce((sum, lookup) => sum + lookup.count, 0),
    docKeys: distinctKeys(present.map((lookup) => () => lookup.docKeys())),
  };
}
