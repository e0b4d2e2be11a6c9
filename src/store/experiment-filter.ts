// Typed experiment filters -> MongoDB filters. Client input only ever lands in the value
// position of operators chosen here; every value is type-checked at run time as well, so a
// caller that bypasses GraphQL's typing still cannot smuggle in an operator object.
import type { Filter } from 'mongodb';
import type { ErrorType, ExperimentDoc, ExperimentStatus } from './documents.ts';
import { InvalidInputError } from './errors.ts';

type Maybe<T> = T | null | undefined;

export interface NumberRange {
  gt?: Maybe<number>;
  gte?: Maybe<number>;
  lt?: Maybe<number>;
  lte?: Maybe<number>;
}

export interface DateRange {
  gt?: Maybe<Date>;
  gte?: Maybe<Date>;
  lt?: Maybe<Date>;
  lte?: Maybe<Date>;
}

export interface ExperimentFilterInput {
  project?: Maybe<string>;
  tags?: Maybe<{ all?: Maybe<readonly string[]>; any?: Maybe<readonly string[]> }>;
  status?: Maybe<readonly ExperimentStatus[]>;
  loraRankIn?: Maybe<readonly number[]>;
  learningRate?: Maybe<NumberRange>;
  finalLoss?: Maybe<NumberRange>;
  createdAt?: Maybe<DateRange>;
  nameContains?: Maybe<string>;
  errorType?: Maybe<readonly ErrorType[]>;
  configHash?: Maybe<string>;
  datasetSha256?: Maybe<string>;
  baseModelSha256?: Maybe<string>;
}

export const EXPERIMENT_STATUSES: readonly ExperimentStatus[] = [
  'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED',
];
export const ERROR_TYPES: readonly ErrorType[] = [
  'CUDA_OOM', 'OOM', 'NAN_LOSS', 'DATA_ERROR', 'CONFIG_ERROR', 'CRASHED', 'CANCELLED', 'UNKNOWN',
];

const MAX_LIST_LENGTH = 100;
const MAX_TEXT_LENGTH = 200;

/** Builds the MongoDB filter for `experiments(filter: ...)`; `{}` when nothing narrows. */
export function buildExperimentFilter(input: Maybe<ExperimentFilterInput>): Filter<ExperimentDoc> {
  if (input == null) return {};
  if (typeof input !== 'object') throw new InvalidInputError([], 'filter must be an object.');
  const clauses: Filter<ExperimentDoc>[] = [];

  if (input.project != null) clauses.push({ project: requireText(['project'], input.project) });
  if (input.tags != null) {
    const all = input.tags.all == null ? null : requireTextList(['tags', 'all'], input.tags.all);
    const any = input.tags.any == null ? null : requireTextList(['tags', 'any'], input.tags.any);
    if (all && all.length > 0) clauses.push({ tags: { $all: all } });
    if (any && any.length > 0) clauses.push({ tags: { $in: any } });
  }
  if (input.status != null) {
    clauses.push({ status: { $in: requireEnumList(['status'], input.status, EXPERIMENT_STATUSES) } });
  }
  if (input.loraRankIn != null) {
    clauses.push({ 'config.lora_rank': { $in: requireIntegerList(['loraRankIn'], input.loraRankIn) } });
  }
  if (input.learningRate != null) {
    clauses.push({ 'config.learning_rate': buildNumberRange(['learningRate'], input.learningRate) });
  }
  if (input.finalLoss != null) {
    clauses.push({ 'summary.finalLoss': buildNumberRange(['finalLoss'], input.finalLoss) });
  }
  if (input.createdAt != null) clauses.push({ createdAt: buildDateRange(['createdAt'], input.createdAt) });
  if (input.nameContains != null) {
    const text = requireText(['nameContains'], input.nameContains);
    clauses.push({ name: { $regex: escapeRegExp(text), $options: 'i' } });
  }
  if (input.errorType != null) {
    clauses.push({ 'error.type': { $in: requireEnumList(['errorType'], input.errorType, ERROR_TYPES) } });
  }
  if (input.configHash != null) clauses.push({ configHash: requireHex(['configHash'], input.configHash) });
  if (input.datasetSha256 != null) {
    clauses.push({ 'dataset.sha256': requireHex(['datasetSha256'], input.datasetSha256) });
  }
  if (input.baseModelSha256 != null) {
    clauses.push({ 'baseModel.sha256': requireHex(['baseModelSha256'], input.baseModelSha256) });
  }

  if (clauses.length === 0) return {};
  if (clauses.length === 1) return clauses[0]!;
  return { $and: clauses };
}

/** Regex metacharacters escaped, so user text matches literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function requireText(field: string[], value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidInputError(field, `${field.join('.')} must be a string, got ${describe(value)}.`);
  }
  if (value.length > MAX_TEXT_LENGTH) {
    throw new InvalidInputError(field, `${field.join('.')} is ${value.length} characters long; at most ${MAX_TEXT_LENGTH} are allowed.`);
  }
  return value;
}

function requireList(field: string[], value: unknown): unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidInputError(field, `${field.join('.')} must be a list, got ${describe(value)}.`);
  }
  if (value.length > MAX_LIST_LENGTH) {
    throw new InvalidInputError(field, `${field.join('.')} has ${value.length} entries; at most ${MAX_LIST_LENGTH} are allowed.`);
  }
  return value;
}

function requireTextList(field: string[], value: unknown): string[] {
  return requireList(field, value).map((item, i) => requireText([...field, String(i)], item));
}

function requireIntegerList(field: string[], value: unknown): number[] {
  return requireList(field, value).map((item, i) => {
    if (typeof item !== 'number' || !Number.isInteger(item)) {
      throw new InvalidInputError([...field, i], `${field.join('.')}[${i}] must be an integer, got ${describe(item)}.`);
    }
    return item;
  });
}

function requireEnumList<T extends string>(field: string[], value: unknown, allowed: readonly T[]): T[] {
  return requireList(field, value).map((item, i) => {
    if (typeof item !== 'string' || !(allowed as readonly string[]).includes(item)) {
      throw new InvalidInputError(
        [...field, i],
        `${field.join('.')}[${i}] is ${describe(item)}; allowed: ${allowed.join(', ')}.`,
      );
    }
    return item as T;
  });
}

function requireHex(field: string[], value: unknown): string {
  const text = requireText(field, value);
  if (!/^[0-9a-fA-F]{1,128}$/.test(text)) {
    throw new InvalidInputError(field, `${field.join('.')} must be a hexadecimal hash, got ${describe(text)}.`);
  }
  return text.toLowerCase();
}

type RangeOperators<T> = { $gt?: T; $gte?: T; $lt?: T; $lte?: T };

function buildNumberRange(field: string[], range: NumberRange): RangeOperators<number> {
  return buildRange(field, range, (bound, value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidInputError([...field, bound], `${field.join('.')}.${bound} must be a finite number, got ${describe(value)}.`);
    }
    return value;
  });
}

function buildDateRange(field: string[], range: DateRange): RangeOperators<Date> {
  return buildRange(field, range, (bound, value) => {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new InvalidInputError([...field, bound], `${field.join('.')}.${bound} must be a date-time, got ${describe(value)}.`);
    }
    return value;
  });
}

function buildRange<T extends number | Date>(
  field: string[],
  range: { gt?: Maybe<T>; gte?: Maybe<T>; lt?: Maybe<T>; lte?: Maybe<T> },
  check: (bound: string, value: unknown) => T,
): RangeOperators<T> {
  if (typeof range !== 'object' || Array.isArray(range)) {
    throw new InvalidInputError(field, `${field.join('.')} must be a range object with gt, gte, lt or lte.`);
  }
  const out: RangeOperators<T> = {};
  if (range.gt != null && range.gte != null) {
    throw new InvalidInputError(field, `${field.join('.')}: give either gt or gte, not both.`);
  }
  if (range.lt != null && range.lte != null) {
    throw new InvalidInputError(field, `${field.join('.')}: give either lt or lte, not both.`);
  }
  if (range.gt != null) out.$gt = check('gt', range.gt);
  if (range.gte != null) out.$gte = check('gte', range.gte);
  if (range.lt != null) out.$lt = check('lt', range.lt);
  if (range.lte != null) out.$lte = check('lte', range.lte);
  const lower = out.$gt ?? out.$gte;
  const upper = out.$lt ?? out.$lte;
  if (lower === undefined && upper === undefined) {
    throw new InvalidInputError(field, `${field.join('.')} needs at least one of gt, gte, lt, lte.`);
  }
  if (lower !== undefined && upper !== undefined && Number(lower) > Number(upper)) {
    throw new InvalidInputError(field, `${field.join('.')}: the lower bound ${String(lower)} is above the upper bound ${String(upper)}.`);
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  return `${typeof value} ${String(value)}`;
}
