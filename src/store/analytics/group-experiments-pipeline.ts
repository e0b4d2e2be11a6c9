// The general form of "statistic of a summary metric per group of runs".
import type { Document } from 'mongodb';
import {
  GROUP_FIELD_EXPRESSIONS, GROUP_KEY_NAMES, SUMMARY_METRIC_PATHS, allOf, finiteNumberClause,
  type Accumulator, type GroupField, type SummaryMetric,
} from './analytics-fields.ts';

export interface GroupExperimentsSpec {
  /** One or more fields, distinct; the group key has one entry per field. */
  by: readonly GroupField[];
  metric: SummaryMetric;
  accumulators: readonly Accumulator[];
}

/** A group as the pipeline returns it; `_id` omits a field the group's runs do not have. */
export interface ExperimentGroupDoc extends Omit<ExperimentGroupRow, 'key'> {
  _id: Record<string, unknown>;
}

export interface ExperimentGroupRow {
  /** One entry per `by` field, named by GROUP_KEY_NAMES (e.g. { loraRank: 8, tag: 'anime' }); null where runs lack the field. */
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
 * accumulators. Groups come back as `{ _id: key, count, ... }`, sorted by their key fields
 * ascending (missing first).
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
  // Plain field paths where possible: a run without the field gets a key without it, which
  // the caller reads as null. (Config fields are never stored as explicit nulls, so "missing"
  // is the only way to lack a value and there is one such group per field.)
  for (const field of spec.by) groupId[GROUP_KEY_NAMES[field]] = GROUP_FIELD_EXPRESSIONS[field];

  const accumulators: Record<string, unknown> = { count: { $sum: 1 } };
  if (wants.has('AVG')) accumulators.avg = { $avg: path };
  if (wants.has('MIN')) accumulators.min = { $min: path };
  if (wants.has('MAX')) accumulators.max = { $max: path };
  if (wants.has('STDDEV')) accumulators.stddev = { $stdDevPop: path };
  if (wants.has('MEDIAN')) accumulators.values = { $push: path };

  const stages: Document[] = [{ $match: allOf(match, finiteNumberClause(SUMMARY_METRIC_PATHS[spec.metric])) }];
  // An untagged run still forms a group (tag: null) rather than vanishing.
  if (spec.by.includes('TAG')) stages.push({ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } });
  stages.push({ $group: { _id: groupId, ...accumulators } });

  const sortKeys: Record<string, 1> = {};
  for (const field of spec.by) sortKeys[`_id.${GROUP_KEY_NAMES[field]}`] = 1;
  stages.push({ $sort: sortKeys });

  // Without MEDIAN the pipeline is $match, $group, $sort only (nothing rewrites documents).
  if (wants.has('MEDIAN')) {
    stages.push(
      { $addFields: { median: medianOfExpression({ $sortArray: { input: '$values', sortBy: 1 } }) } },
      { $project: { values: 0 } },
    );
  }
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
