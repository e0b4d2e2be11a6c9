// The analytics answers computed in plain TypeScript over the same documents the tests
// insert: the reference each pipeline's result must equal.
import type { ExperimentDoc } from '../../src/store/documents.ts';
import type { Accumulator, GroupField, SummaryMetric } from '../../src/store/analytics/analytics-fields.ts';
import { searchQueryTokens } from '../../src/analytics/search-tokens.ts';

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const METRIC_OF: Record<SummaryMetric, (d: ExperimentDoc) => unknown> = {
  FINAL_LOSS: (d) => d.summary?.finalLoss,
  MIN_LOSS: (d) => d.summary?.minLoss,
  FINAL_EVAL_LOSS: (d) => d.summary?.finalEvalLoss,
  TOKENS_PER_SECOND: (d) => d.summary?.tokensPerSecond,
  WALL_SECONDS: (d) => d.summary?.wallSeconds,
  STEPS: (d) => d.summary?.steps,
};

/** The group-key value(s) of one field; TAG yields one per tag (null when untagged). */
const KEY_VALUES: Record<GroupField, (d: ExperimentDoc) => unknown[]> = {
  LORA_RANK: (d) => [d.config.lora_rank ?? null],
  LORA_ALPHA: (d) => [d.config.lora_alpha ?? null],
  LEARNING_RATE: (d) => [d.config.learning_rate ?? null],
  BATCH_SIZE: (d) => [d.config.batch_size ?? null],
  TARGET_MODULES: (d) => [d.config.target_modules ? [...d.config.target_modules].sort() : null],
  BASE_MODEL: (d) => [d.baseModel?.name ?? d.baseModel?.path ?? d.config.base_model ?? null],
  DATASET: (d) => [d.dataset?.path ?? d.config.train_data_dir ?? null],
  STATUS: (d) => [d.status],
  TAG: (d) => (d.tags.length === 0 ? [null] : d.tags),
  PROJECT: (d) => [d.project],
};

export const KEY_NAME: Record<GroupField, string> = {
  LORA_RANK: 'loraRank', LORA_ALPHA: 'loraAlpha', LEARNING_RATE: 'learningRate', BATCH_SIZE: 'batchSize',
  TARGET_MODULES: 'targetModules', BASE_MODEL: 'baseModel', DATASET: 'dataset', STATUS: 'status', TAG: 'tag', PROJECT: 'project',
};

export interface ReferenceStats {
  count: number;
  avg: number;
  min: number;
  max: number;
  stddev: number;
  median: number;
}

export function statsOf(values: readonly number[]): ReferenceStats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const avg = sorted.reduce((s, v) => s + v, 0) / n;
  const variance = sorted.reduce((s, v) => s + (v - avg) ** 2, 0) / n;
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { count: n, avg, min: sorted[0]!, max: sorted[n - 1]!, stddev: Math.sqrt(variance), median };
}

export function referenceLossByRank(docs: readonly ExperimentDoc[]) {
  const byRank = new Map<number | null, number[]>();
  for (const d of docs) {
    const loss = d.summary?.finalLoss;
    if (!isFiniteNumber(loss)) continue;
    const rank = d.config.lora_rank ?? null;
    if (!byRank.has(rank)) byRank.set(rank, []);
    byRank.get(rank)!.push(loss);
  }
  return [...byRank.entries()]
    .sort(([a], [b]) => (a ?? -Infinity) - (b ?? -Infinity))
    .map(([rank, values]) => {
      const { count, avg, min, max, stddev } = statsOf(values);
      return { rank, count, avg, min, max, stddev };
    });
}

export function referenceGroups(
  docs: readonly ExperimentDoc[],
  by: readonly GroupField[],
  metric: SummaryMetric,
  accumulators: readonly Accumulator[],
) {
  const groups = new Map<string, { key: Record<string, unknown>; values: number[] }>();
  for (const d of docs) {
    const value = METRIC_OF[metric](d);
    if (!isFiniteNumber(value)) continue;
    let keys: Record<string, unknown>[] = [{}];
    for (const field of by) {
      keys = keys.flatMap((k) => KEY_VALUES[field](d).map((v) => ({ ...k, [KEY_NAME[field]]: v })));
    }
    for (const key of keys) {
      const id = JSON.stringify(key);
      if (!groups.has(id)) groups.set(id, { key, values: [] });
      groups.get(id)!.values.push(value);
    }
  }
  return [...groups.values()].map(({ key, values }) => {
    const s = statsOf(values);
    const row: Record<string, unknown> = { key, count: s.count };
    if (accumulators.includes('AVG')) row.avg = s.avg;
    if (accumulators.includes('MIN')) row.min = s.min;
    if (accumulators.includes('MAX')) row.max = s.max;
    if (accumulators.includes('STDDEV')) row.stddev = s.stddev;
    if (accumulators.includes('MEDIAN')) row.median = s.median;
    return row;
  });
}

export function referenceBest(docs: readonly ExperimentDoc[], metric: SummaryMetric, k: number, direction: 1 | -1): string[] {
  return docs
    .filter((d) => isFiniteNumber(METRIC_OF[metric](d)))
    .sort((a, b) =>
      direction * ((METRIC_OF[metric](a) as number) - (METRIC_OF[metric](b) as number)) ||
      a._id.toHexString().localeCompare(b._id.toHexString()))
    .slice(0, k)
    .map((d) => d._id.toHexString());
}

/** Ids ranked as search must rank them: most query words matched, then newest id. */
export function referenceSearch(docs: readonly ExperimentDoc[], text: string): { id: string; matched: number }[] {
  const words = searchQueryTokens(text);
  return docs
    .map((d) => ({ id: d._id.toHexString(), matched: words.filter((w) => (d.searchTokens ?? []).includes(w)).length }))
    .filter((r) => r.matched > 0)
    .sort((a, b) => b.matched - a.matched || b.id.localeCompare(a.id));
}
