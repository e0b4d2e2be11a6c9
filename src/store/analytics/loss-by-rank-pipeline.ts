// "Average final loss by LoRA rank": the question users ask most, as its own pipeline.
import type { Document } from 'mongodb';
import { allOf, finiteNumberClause } from './analytics-fields.ts';

/** A row as the pipeline returns it: `_id` is the rank (null when the config has none). */
export interface LossByRankGroupDoc {
  _id: number | null;
  count: number;
  avg: number;
  min: number;
  max: number;
  stddev: number;
}

export interface LossByRankRow {
  /** null groups the runs whose config has no lora_rank. */
  rank: number | null;
  count: number;
  avg: number;
  min: number;
  max: number;
  /** Population standard deviation ($stdDevPop): 0 for a single run. */
  stddev: number;
}

/**
 * Per rank: count, mean, min, max and population standard deviation of summary.finalLoss
 * over the experiments that match `match` (scope and filter, already built) and have a
 * finite final loss. Rows sorted by rank ascending (null first), `_id` holding the rank.
 *
 * Only $match, $group and $sort: no stage rewrites documents, so no engine has to copy the
 * 100,000 input documents to run it; the rename of `_id` to `rank` is done by the caller.
 */
export function buildLossByRankPipeline(match: Document): Document[] {
  return [
    { $match: allOf(match, finiteNumberClause('summary.finalLoss')) },
    {
      $group: {
        _id: '$config.lora_rank',
        count: { $sum: 1 },
        avg: { $avg: '$summary.finalLoss' },
        min: { $min: '$summary.finalLoss' },
        max: { $max: '$summary.finalLoss' },
        stddev: { $stdDevPop: '$summary.finalLoss' },
      },
    },
    { $sort: { _id: 1 } },
  ];
}
