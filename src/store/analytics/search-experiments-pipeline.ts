// Ranked text search over the `searchTokens` array (see src/analytics/search-tokens.ts).
import type { Document, ObjectId } from 'mongodb';

/** Where the previous page ended: its last row's score and id. */
export interface SearchCursor {
  score: number;
  id: ObjectId;
}

/**
 * Runs whose tokens contain any query word, best first: score = how many distinct query
 * words the run contains; ties newest first (_id descending). `first + 1` rows are
 * returned so the caller can tell whether another page follows. `matchedWords` carries
 * the words that matched; `searchTokens` itself is dropped from the rows.
 *
 * The `$in` over the multikey index on `searchTokens` narrows to candidate runs; the score
 * is computed only for those.
 */
export function buildSearchExperimentsPipeline(
  queryTokens: readonly string[],
  match: Document,
  first: number,
  after: SearchCursor | null,
): Document[] {
  const tokens = [...queryTokens];
  const stages: Document[] = [
    { $match: { $and: [match, { searchTokens: { $in: tokens } }] } },
    { $addFields: { matchedWords: { $setIntersection: [{ $ifNull: ['$searchTokens', []] }, tokens] } } },
    { $addFields: { searchScore: { $size: '$matchedWords' } } },
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
  stages.push({ $sort: { searchScore: -1, _id: -1 } }, { $limit: first + 1 }, { $project: { searchTokens: 0 } });
  return stages;
}
