// Ranked search over the experiments' `searchTokens`: runs ordered by how many distinct query
// words they contain (the score), ties newest first, in keyset pages.
//
// A page is read score by score ("tiers"), each tier with one ordinary query: the runs holding
// exactly t of the words ($or of `$all` over the t-word subsets, minus those holding t + 1),
// newest first, below the cursor, limited to what the page still needs. On MongoDB and the
// embedded engine alike that query is answered from the multikey `searchTokens` index or by
// walking the `_id` order and stopping at the limit, so a page costs what it returns plus the
// empty tiers above it, however many runs match. Queries with so many words that a tier's
// filter would list too many subsets are ranked by the scoring pipeline instead, which scores
// every candidate (search-experiments-pipeline.ts). test/analytics checks both against a
// plain-TypeScript reference ranking.
import { ObjectId, type Collection, type Document } from 'mongodb';
import type { ExperimentDoc } from '../documents.ts';
import { InvalidInputError } from '../errors.ts';
import { allOf } from './analytics-fields.ts';
import { buildSearchExperimentsPipeline, buildSearchTierPipeline, type SearchCursor } from './search-experiments-pipeline.ts';

export interface SearchHit {
  doc: ExperimentDoc;
  /** Fraction (0..1] of the query's words the run contains. */
  score: number;
  matchedWords: string[];
  cursor: string;
}

export interface SearchPage {
  queryWords: string[];
  hits: SearchHit[];
  hasNextPage: boolean;
}

/** A run's place in the ranking. */
interface Ranked {
  id: ObjectId;
  /** How many distinct query words the run holds. */
  score: number;
  matchedWords: string[];
}

export class ExperimentSearch {
  constructor(private readonly experiments: Collection<ExperimentDoc>) {}

  /** One page of the ranking of `words` among the runs matching `match`, after `after`. */
  async page(words: string[], match: Document, first: number, after: SearchCursor | null): Promise<SearchPage> {
    const wanted = first + 1; // one more than the page tells whether another follows
    if (after && (after.score < 1 || after.score > words.length)) {
      throw new InvalidInputError(['after'], `after is a cursor of a search with other words (score ${after.score} of ${words.length} words); start again without after.`);
    }
    const docs: ExperimentDoc[] = [];
    let beforeId = after?.id ?? null;
    for (let score = after?.score ?? words.length; score >= 1 && docs.length < wanted; score--, beforeId = null) {
      const pipeline = buildSearchTierPipeline(words, score, match, wanted - docs.length, beforeId);
      if (!pipeline) return this.scoredPage(words, match, first, after);
      docs.push(...(await this.experiments.aggregate<ExperimentDoc>(pipeline).toArray()));
    }
    return this.pageOf(words, docs.map((doc) => ({ doc, ranked: rankedOf(doc, words) })), first);
  }

  /** The page from the scoring pipeline (every candidate scored in the database), then its documents fetched by id. */
  private async scoredPage(words: string[], match: Document, first: number, after: SearchCursor | null): Promise<SearchPage> {
    const rows = await this.experiments
      .aggregate<{ _id: ObjectId; searchScore: number }>(buildSearchExperimentsPipeline(words, match, first, after))
      .toArray();
    const page = rows.slice(0, first);
    const docs = page.length === 0 ? [] : await this.experiments.find(allOf(match, { _id: { $in: page.map((r) => r._id) } })).toArray();
    const byId = new Map(docs.map((d) => [d._id.toHexString(), d]));
    // In ranking order; a run deleted since it was ranked is left out.
    const entries = page.flatMap((row) => {
      const doc = byId.get(row._id.toHexString());
      return doc ? [{ doc, ranked: { ...rankedOf(doc, words), score: row.searchScore } }] : [];
    });
    return this.pageOf(words, entries, first, rows.length > first);
  }

  private pageOf(words: string[], entries: { doc: ExperimentDoc; ranked: Ranked }[], first: number, hasNextPage = entries.length > first): SearchPage {
    const hits = entries.slice(0, first).map(({ doc, ranked }) => {
      const { searchTokens: _tokens, ...shown } = doc;
      return {
        doc: shown as ExperimentDoc,
        score: ranked.score / words.length,
        matchedWords: ranked.matchedWords,
        cursor: encodeSearchCursor({ score: ranked.score, id: ranked.id }),
      };
    });
    return { queryWords: words, hits, hasNextPage };
  }
}

/** The run's score: the distinct query words among its tokens, in query order. */
function rankedOf(doc: { _id: ObjectId; searchTokens?: string[] }, words: string[]): Ranked {
  const tokens = new Set(doc.searchTokens ?? []);
  const matchedWords = words.filter((w) => tokens.has(w));
  return { id: doc._id, score: matchedWords.length, matchedWords };
}

export function encodeSearchCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify({ s: cursor.score, id: cursor.id.toHexString() })).toString('base64url');
}

export function decodeSearchCursor(text: string): SearchCursor {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { s?: unknown; id?: unknown };
    if (typeof parsed.s === 'number' && Number.isInteger(parsed.s) && typeof parsed.id === 'string' && /^[0-9a-f]{24}$/.test(parsed.id)) {
      return { score: parsed.s, id: new ObjectId(parsed.id) };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError(['after'], `after ${JSON.stringify(text.slice(0, 40))} is not a cursor returned by searchExperiments.`);
}
