// "The k best runs by a summary metric".
import type { Document } from 'mongodb';
import { METRIC_BETTER_DIRECTION, SUMMARY_METRIC_PATHS, allOf, finiteNumberClause, type SummaryMetric } from './analytics-fields.ts';

export const MAX_BEST_K = 100;

/**
 * The `k` matching runs with the best finite value of `metric` (lowest loss or time,
 * highest tokens/s or steps); ties broken by id so the order is stable.
 */
export function buildBestExperimentsPipeline(metric: SummaryMetric, k: number, match: Document): Document[] {
  const path = SUMMARY_METRIC_PATHS[metric];
  return [
    { $match: allOf(match, finiteNumberClause(path)) },
    { $sort: { [path]: METRIC_BETTER_DIRECTION[metric], _id: 1 } },
    { $limit: k },
  ];
}
