// Selecting documents for a command: plan (index or scan), filter (compiled-filter.ts), then
// sort, skip and limit. Shared by find, count, distinct, update, delete and findAndModify.
import type { Document } from 'bson';
import { Aggregator } from 'mingo';
import { ID_INDEX_NAME, type Collection } from './collection.ts';
import { commandErrorFrom } from './command-error.ts';
import { compileFilter } from './compiled-filter.ts';
import { runFastStages } from './pipeline-fast-paths.ts';
import { queryOptions } from './mingo-options.ts';
import { planQuery, type QueryPlan } from './query-planner.ts';

export interface Selection {
  docs: Document[];
  plan: QueryPlan;
  docsExamined: number;
}

export interface SelectionOptions {
  sort?: Document;
  skip?: number;
  /** 0 or absent: no limit. */
  limit?: number;
  collation?: Document;
  variables?: Document;
}

export function selectDocuments(collection: Collection | undefined, filter: Document = {}, options: SelectionOptions = {}): Selection {
  // Parse the filter first: a bad operator is an error even where the collection is missing.
  const matches = compileFilter(filter, options);
  if (!collection) return { docs: [], plan: { indexName: null, candidates: [], candidateCount: 0, keysExamined: 0 }, docsExamined: 0 };
  const plan = planQuery(collection, filter, Boolean(options.collation));
  const skip = options.skip ?? 0;
  const limit = options.limit ?? 0;
  const walked = walkInIdOrder(collection, plan, matches, options, skip + limit);
  if (walked) return { ...walked, docs: walked.docs.slice(skip) };
  const sorted = options.sort && Object.keys(options.sort).length > 0;
  // Without a sort, stop as soon as skip + limit documents matched.
  const stopAfter = !sorted && limit > 0 ? skip + limit : Infinity;
  let docs: Document[] = [];
  let docsExamined = 0;
  try {
    for (const doc of plan.candidates) {
      docsExamined++;
      if (!matches || matches(doc)) {
        docs.push(doc);
        if (docs.length >= stopAfter) break;
      }
    }
    if (sorted) docs = sortDocuments(docs, options.sort!, { ...options, limit: limit > 0 ? skip + limit : 0 });
  } catch (err) {
    throw commandErrorFrom(err);
  }
  if (skip > 0 || limit > 0) docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return { docs, plan, docsExamined };
}

/** The _id direction of a sort on `_id` alone (1 or -1), else 0. */
export function idSortDirection(sort: Document | undefined): 1 | -1 | 0 {
  if (!sort) return 0;
  const keys = Object.keys(sort);
  if (keys.length !== 1 || keys[0] !== '_id') return 0;
  return sort._id === 1 ? 1 : sort._id === -1 ? -1 : 0;
}

/**
 * A sort on _id with a limit, answered by walking the documents in _id order and stopping at
 * the `wanted`-th match: newest-first pages of a broad filter examine a few dozen documents
 * instead of collecting and sorting every candidate. When an index narrowed the filter, the
 * walk gets as many documents as that plan has candidates (MongoDB races the two plans the
 * same way) and gives up beyond, so a selective filter costs at most twice its index plan.
 * null: not this query's shape, or the walk gave up.
 */
function walkInIdOrder(collection: Collection, plan: QueryPlan, matches: ((doc: Document) => boolean) | null | undefined, options: SelectionOptions, wanted: number): Selection | null {
  const direction = idSortDirection(options.sort);
  if (direction === 0 || !(options.limit && options.limit > 0) || options.collation) return null;
  const keys = collection.keysInIdOrder();
  if (!keys) return null;
  const budget = plan.indexName === null ? Infinity : plan.candidateCount;
  const docs: Document[] = [];
  let docsExamined = 0;
  try {
    for (let i = direction === 1 ? 0 : keys.length - 1; i >= 0 && i < keys.length; i += direction) {
      if (docsExamined >= budget) return null;
      const doc = collection.documents.get(keys[i]!)!;
      docsExamined++;
      if (!matches || matches(doc)) {
        docs.push(doc);
        if (docs.length >= wanted) break;
      }
    }
  } catch (err) {
    throw commandErrorFrom(err);
  }
  const idPlan: QueryPlan = { indexName: ID_INDEX_NAME, keyPattern: { _id: 1 }, candidates: [], candidateCount: docsExamined, keysExamined: docsExamined };
  return { docs, plan: idPlan, docsExamined };
}

/** Sorted documents; with `limit`, only the first `limit` of them (a top-k, not a full sort, where it can). */
function sortDocuments(docs: Document[], sort: Document, options: SelectionOptions): Document[] {
  const keys = Object.keys(sort);
  if (keys.length === 1 && keys[0] === '$natural') return sort.$natural === -1 ? [...docs].reverse() : docs;
  if (options.limit && !options.collation) {
    const topK = runFastStages(docs, [{ $sort: sort }, { $limit: options.limit }]);
    if (topK.rest.length === 0) return topK.docs;
  }
  return new Aggregator([{ $sort: sort }], queryOptions(options)).run(docs) as Document[];
}
