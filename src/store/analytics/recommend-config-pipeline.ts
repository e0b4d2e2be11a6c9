// "Which config worked best for runs like mine": history grouped by the config choices
// that matter, ranked by mean final loss.
import type { Document } from 'mongodb';
import { allOf, finiteNumberClause, GROUP_FIELD_EXPRESSIONS } from './analytics-fields.ts';

/** What makes a past run "similar": each given criterion must hold. */
export interface SimilarRunCriteria {
  /** Matched against baseModel.name, baseModel.path or config.base_model. */
  baseModel?: string | null;
  /** Matched against dataset.path, dataset.sha256 or config.train_data_dir. */
  dataset?: string | null;
  /** The run has at least one of these tags. */
  tags?: readonly string[] | null;
}

/** Completed runs with a finite final loss that meet the criteria, inside `match` (the scope). */
export function buildSimilarRunsMatch(criteria: SimilarRunCriteria, match: Document): Document {
  const clauses: Document[] = [match, { status: 'COMPLETED' }, finiteNumberClause('summary.finalLoss')];
  if (criteria.baseModel != null) {
    clauses.push({
      $or: [
        { 'baseModel.name': criteria.baseModel },
        { 'baseModel.path': criteria.baseModel },
        { 'config.base_model': criteria.baseModel },
      ],
    });
  }
  if (criteria.dataset != null) {
    clauses.push({
      $or: [
        { 'dataset.path': criteria.dataset },
        { 'dataset.sha256': criteria.dataset },
        { 'config.train_data_dir': criteria.dataset },
      ],
    });
  }
  if (criteria.tags != null && criteria.tags.length > 0) clauses.push({ tags: { $in: [...criteria.tags] } });
  return allOf(...clauses);
}

/**
 * Similar runs grouped by (rank, alpha, learning rate, batch size, target modules): count,
 * mean/min/max/population-stddev of final loss and the best run's id, for configs tried at
 * least `minRuns` times, lowest mean first (more runs first on ties), at most `limit` rows.
 */
export function buildRecommendConfigPipeline(similarRuns: Document, minRuns: number, limit: number): Document[] {
  return [
    { $match: similarRuns },
    // Sorted so that $first picks each config's best run.
    { $sort: { 'summary.finalLoss': 1, _id: 1 } },
    {
      $group: {
        _id: {
          loraRank: { $ifNull: [GROUP_FIELD_EXPRESSIONS.LORA_RANK, null] },
          loraAlpha: { $ifNull: [GROUP_FIELD_EXPRESSIONS.LORA_ALPHA, null] },
          learningRate: { $ifNull: [GROUP_FIELD_EXPRESSIONS.LEARNING_RATE, null] },
          batchSize: { $ifNull: [GROUP_FIELD_EXPRESSIONS.BATCH_SIZE, null] },
          targetModules: { $ifNull: [GROUP_FIELD_EXPRESSIONS.TARGET_MODULES, null] },
        },
        count: { $sum: 1 },
        avg: { $avg: '$summary.finalLoss' },
        min: { $min: '$summary.finalLoss' },
        max: { $max: '$summary.finalLoss' },
        stddev: { $stdDevPop: '$summary.finalLoss' },
        bestExperimentId: { $first: '$_id' },
      },
    },
    { $match: { count: { $gte: minRuns } } },
    { $sort: { avg: 1, count: -1, '_id.loraRank': 1, '_id.learningRate': 1 } },
    { $limit: limit },
    { $project: { _id: 0, config: '$_id', count: 1, avg: 1, min: 1, max: 1, stddev: 1, bestExperimentId: 1 } },
  ];
}
