// The vocabulary of analytics: which experiment fields can be grouped on, which summary
// metrics can be aggregated, and with what. Each enum value maps to exactly one document
// path or expression here, so client input never names a path itself.
import type { Document } from 'mongodb';
import { InvalidInputError } from '../errors.ts';

export const GROUP_FIELDS = [
  'LORA_RANK', 'LORA_ALPHA', 'LEARNING_RATE', 'BATCH_SIZE', 'TARGET_MODULES',
  'BASE_MODEL', 'DATASET', 'STATUS', 'TAG', 'PROJECT',
] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

export const SUMMARY_METRICS = [
  'FINAL_LOSS', 'MIN_LOSS', 'FINAL_EVAL_LOSS', 'TOKENS_PER_SECOND', 'WALL_SECONDS', 'STEPS',
] as const;
export type SummaryMetric = (typeof SUMMARY_METRICS)[number];

export const ACCUMULATORS = ['AVG', 'MIN', 'MAX', 'STDDEV', 'COUNT', 'MEDIAN'] as const;
export type Accumulator = (typeof ACCUMULATORS)[number];

/** The key of each group field in result rows (GraphQL `ExperimentGroupKey`). */
export const GROUP_KEY_NAMES: Record<GroupField, string> = {
  LORA_RANK: 'loraRank',
  LORA_ALPHA: 'loraAlpha',
  LEARNING_RATE: 'learningRate',
  BATCH_SIZE: 'batchSize',
  TARGET_MODULES: 'targetModules',
  BASE_MODEL: 'baseModel',
  DATASET: 'dataset',
  STATUS: 'status',
  TAG: 'tag',
  PROJECT: 'project',
};

/**
 * The aggregation expression each group field evaluates to. TAG reads `$tags` after the
 * pipeline's `$unwind`, so a run with two tags counts in both tag groups.
 */
export const GROUP_FIELD_EXPRESSIONS: Record<GroupField, unknown> = {
  LORA_RANK: '$config.lora_rank',
  LORA_ALPHA: '$config.lora_alpha',
  LEARNING_RATE: '$config.learning_rate',
  BATCH_SIZE: '$config.batch_size',
  // A set of modules, whatever order the config listed them in.
  TARGET_MODULES: {
    $cond: [{ $isArray: '$config.target_modules' }, { $sortArray: { input: '$config.target_modules', sortBy: 1 } }, null],
  },
  BASE_MODEL: { $ifNull: ['$baseModel.name', '$baseModel.path', '$config.base_model', null] },
  DATASET: { $ifNull: ['$dataset.path', '$config.train_data_dir', null] },
  STATUS: '$status',
  TAG: '$tags',
  PROJECT: '$project',
};

/** Where each summary metric lives in an experiment document. */
export const SUMMARY_METRIC_PATHS: Record<SummaryMetric, string> = {
  FINAL_LOSS: 'summary.finalLoss',
  MIN_LOSS: 'summary.minLoss',
  FINAL_EVAL_LOSS: 'summary.finalEvalLoss',
  TOKENS_PER_SECOND: 'summary.tokensPerSecond',
  WALL_SECONDS: 'summary.wallSeconds',
  STEPS: 'summary.steps',
};

/** Which way is better for each metric (bestExperiments): losses and time down, speed and steps up. */
export const METRIC_BETTER_DIRECTION: Record<SummaryMetric, 1 | -1> = {
  FINAL_LOSS: 1,
  MIN_LOSS: 1,
  FINAL_EVAL_LOSS: 1,
  TOKENS_PER_SECOND: -1,
  WALL_SECONDS: 1,
  STEPS: -1,
};

/**
 * Matches documents whose `path` holds a finite number. The open range excludes NaN (which
 * MongoDB orders below -Infinity), both infinities, and, by type bracketing, strings,
 * nulls and missing fields. Every aggregate reads only values that passed this, so
 * results are NaN-free. (An array holding a finite number would also match, as MongoDB
 * matches array elements; summary metrics are written as plain numbers by every writer.)
 */
export function finiteNumberClause(path: string): Document {
  return { [path]: { $gt: -Infinity, $lt: Infinity } };
}

/** The conjunction of filter clauses, leaving out empty ones (`{}` when none is left). */
export function allOf(...clauses: Document[]): Document {
  const kept = clauses.filter((clause) => Object.keys(clause).length > 0);
  if (kept.length === 0) return {};
  return kept.length === 1 ? kept[0]! : { $and: kept };
}

/** Checks a client-given enum value at run time too (callers may bypass GraphQL typing). */
export function requireEnumValue<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError([field], `${field} is ${JSON.stringify(value)}; allowed: ${allowed.join(', ')}.`);
  }
  return value as T;
}
