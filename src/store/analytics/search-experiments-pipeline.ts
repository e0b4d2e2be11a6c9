// Ranked text search over the `searchTokens` array (see src/analytics/search-tokens.ts).
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
 * `{ _id, searchScore, matchedWords }` and the caller fetches the page's documents by id.
 *
 * The `$in` over the multikey index on `searchTokens` narrows to candidate runs, and the
 * early `$project` keeps only the tokens, so ranking never carries whole documents through
 * the sort (on MongoDB and on the embedded engine alike).
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
    { $project: { _id: 1, searchTokens: 1 } },
    { $addFields: { matchedWords: { $setIntersection: [{ $ifNull: ['$searchTokens', []] }, tokens] } } },
    { $project: { _id: 1, matchedWords: 1, searchScore: { $size: '$matchedWords' } } },
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
 * The shortcut for the head of the ranking: runs that contain every query word, newest
 * first (`_id` below `beforeId` when continuing a page of such runs). When this yields
 * `first + 1` runs the page is made of top-scored runs only and the scoring pipeline is not
 * needed, which is the common case for broad queries. Read-only stages only ($match, $sort,
 * $limit), so MongoDB uses the multikey index and a top-k sort, and no engine has to copy
 * the candidates.
 */
export function buildAllWordsPipeline(
  queryTokens: readonly string[],
  match: Document,
  first: number,
  beforeId: ObjectId | null,
): Document[] {
  const clauses: Document[] = [match, ...queryTokens.map((token) => ({ searchTokens: token }))];
  if (beforeId) clauses.push({ _id: { $lt: beforeId } });
  return [{ $match: allOf(...clauses) }, { $sort: { _id: -1 } }, { $limit: first + 1 }];
}
