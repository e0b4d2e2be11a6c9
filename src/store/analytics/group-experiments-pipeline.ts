// The general form of "statistic of a summary metric per group of runs".
import type { Document } from 'mongodb';
import {
  GROUP_FIELD_EXPRESSIONS, GROUP_KEY_NAMES, SUMMARY_METRIC_PATHS, finiteNumberClause,
  type Accumulator, type GroupField, type SummaryMetric,
} from './analytics-fields.ts';

export interface GroupExperimentsSpec {
  /** One or more fields, distinct; the group key has one entry per field. */
  by: readonly GroupField[];
  metric: SummaryMetric;
  accumulators: readonly Accumulator[];
}

export interface ExperimentGroupRow {
  /** One entry per `by` field, named by GROUP_KEY_NAMES (e.g. { loraRank: 8, tag: 'anime' }). */
  key: Record<string, unknown>;
  /** Runs in the group with a finite value of the metric (always computed). */
  count: number;
  avg?: number;
  min?: number;
  max?: number;
  /** Population standard deviation. */
  stddev?: number;
  /** Middle value; the mean of the two middle values when the count is even. */
  median?: number;
}

/**
 * Groups the matching runs that have a finite value of `metric` and computes the requested
 * accumulators. Rows are sorted by their key fields ascending (nulls first).
 *
 * MEDIAN: `$median`/`$percentile` exist only from MongoDB 7.0, and the project supports 6.0+.
 * So the group `$push`es its values and a later stage sorts them (`$sortArray`, 5.2+) and
 * picks the middle. That is exact (no approximation) and costs memory proportional to the
 * group's size, which is why the values are pushed only when MEDIAN is asked for.
 */
export function buildGroupExperimentsPipeline(spec: GroupExperimentsSpec, match: Document): Document[] {
  const path = `$${SUMMARY_METRIC_PATHS[spec.metric]}`;
  const wants = new Set(spec.accumulators);
  const groupId: Record<string, unknown> = {};
  // $ifNull: a missing field would otherwise be dropped from the key object, splitting
  // "no value" into two groups ({} and { field: null }).
  for (const field of spec.by) groupId[GROUP_KEY_NAMES[field]] = { $ifNull: [GROUP_FIELD_EXPRESSIONS[field], null] };

  const accumulators: Record<string, unknown> = { count: { $sum: 1 } };
  if (wants.has('AVG')) accumulators.avg = { $avg: path };
  if (wants.has('MIN')) accumulators.min = { $min: path };
  if (wants.has('MAX')) accumulators.max = { $max: path };
  if (wants.has('STDDEV')) accumulators.stddev = { $stdDevPop: path };
  if (wants.has('MEDIAN')) accumulators.values = { $push: path };

  const stages: Document[] = [{ $match: { $and: [match, finiteNumberClause(SUMMARY_METRIC_PATHS[spec.metric])] } }];
  // An untagged run still forms a group (tag: null) rather than vanishing.
  if (spec.by.includes('TAG')) stages.push({ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } });
  stages.push({ $group: { _id: groupId, ...accumulators } });

  const sortKeys: Record<string, 1> = {};
  for (const field of spec.by) sortKeys[`_id.${GROUP_KEY_NAMES[field]}`] = 1;
  stages.push({ $sort: sortKeys });

  const projection: Record<string, unknown> = { _id: 0, key: '$_id', count: 1 };
  for (const name of ['avg', 'min', 'max', 'stddev'] as const) if (name in accumulators) projection[name] = 1;
  if (wants.has('MEDIAN')) projection.median = medianOfExpression({ $sortArray: { input: '$values', sortBy: 1 } });
  stages.push({ $project: projection });
  return stages;
}

/** The median of a sorted, non-empty array expression. */
export function medianOfExpression(sortedArray: unknown): Document {
  return {
    $let: {
      vars: { sorted: sortedArray },
      in: {
        $let: {
          vars: { n: { $size: '$$sorted' } },
          in: {
            $cond: [
              { $eq: [{ $mod: ['$$n', 2] }, 1] },
              { $arrayElemAt: ['$$sorted', { $toInt: { $floor: { $divide: ['$$n', 2] } } }] },
              {
                $avg: [
                  { $arrayElemAt: ['$$sorted', { $toInt: { $subtract: [{ $divide: ['$$n', 2] }, 1] } }] },
                  { $arrayElemAt: ['$$sorted', { $toInt: { $divide: ['$$n', 2] } }] },
                ],
              },
            ],
          },
        },
      },
    },
  };
}
