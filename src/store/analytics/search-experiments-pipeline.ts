// Ranked text search over the `searchTokens` array (see src/analytics/search-tokens.ts): the
// per-score tier queries that pages are read with, and the scoring pipeline for queries with too
// many words for tiers. experiment-search.ts puts pages together from them.
import type { Document, ObjectId } from 'mongodb';
import { allOf } from './analytics-fields.ts';

/** Where the previous page ended: its last row's score and id. */
export interface SearchCursor {
  score: number;
  id: ObjectId;
}

/**
 * The ids of runs whose tokens contain any query word, best first: score = how many
 * distinct query words the run contains; ties newest first (_id descending). `first + 1`
 * rows come back so the caller can tell whether another page follows; each row is
 * `{ _id, searchScore }` and the caller fetches the page's documents by id.
 *
 * The `$in` over the multikey index on `searchTokens` narrows to candidate runs, and one
 * `$project` reduces each to its id and score, so ranking never carries whole documents
 * through the sort (on MongoDB and on the embedded engine alike).
 */
export function buildSearchExperimentsPipeline(
  queryTokens: readonly string[],
  match: Document,
  first: number,
  after: SearchCursor | null,
): Document[] {
  const tokens = [...queryTokens];
  const stages: Document[] = [
    { $match: allOf(match, { searchTokens: { $in: tokens } }) },
    { $project: { searchScore: { $size: { $setIntersection: [{ $ifNull: ['$searchTokens', []] }, tokens] } } } },
  ];
  if (after) {
    stages.push({
      $match: {
        $or: [
          { searchScore: { $lt: after.score } },
          { searchScore: after.score, _id: { $lt: after.id } },
        ],
      },
    });
  }
  stages.push({ $sort: { searchScore: -1, _id: -1 } }, { $limit: first + 1 });
  return stages;
}

/**
 * Most `$all` clauses one tier's filter may list: every tier of a 9-word query fits (at most
 * 126 + 126); from 10 words the middle tiers do not, and the scoring pipeline ranks those pages.
 * Each clause costs the database one index intersection, far less than scoring every candidate.
 */
export const MAX_TIER_CLAUSES = 300;

/** The k-word subsets of `words`, in order. */
function subsets(words: readonly string[], k: number): string[][] {
  if (k === 0) return [[]];
  const out: string[][] = [];
  for (let i = 0; i + k <= words.length; i++) {
    for (const rest of subsets(words.slice(i + 1), k - 1)) out.push([words[i]!, ...rest]);
  }
  return out;
}

function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

/** Runs holding at least `k` of the words (k >= 1). */
function atLeastWords(words: readonly string[], k: number): Document {
  if (k === 1) return { searchTokens: { $in: [...words] } };
  if (k === words.length) return { searchTokens: { $all: [...words] } };
  return { $or: subsets(words, k).map((subset) => ({ searchTokens: { $all: subset } })) };
}

/**
 * One tier of the ranking: runs holding exactly `score` of the query words, newest first
 * (`_id` below `beforeId` when continuing a page), at most `limit` of them, whole documents.
 * Read-only stages that MongoDB answers from the `searchTokens` index (an OR of IXSCANs) or
 * the `_id` index with a limit, as the embedded engine does. null when the filter would list
 * more than MAX_TIER_CLAUSES word subsets.
 */
export function buildSearchTierPipeline(
  queryTokens: readonly string[],
  score: number,
  match: Document,
  limit: number,
  beforeId: ObjectId | null,
): Document[] | null {
  const n = queryTokens.length;
  if (binomial(n, score) + binomial(n, score + 1) > MAX_TIER_CLAUSES) return null;
  const clauses: Document[] = [match, atLeastWords(queryTokens, score)];
  if (score < n) clauses.push({ $nor: [atLeastWords(queryTokens, score + 1)] });
  if (beforeId) clauses.push({ _id: { $lt: beforeId } });
  return [{ $match: allOf(...clauses) }, { $sort: { _id: -1 } }, { $limit: limit }];
}
