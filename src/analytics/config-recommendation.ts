// When history is enough to recommend a config, and how to say so plainly. The store
// supplies the numbers (similar runs, config groups); this decides and words the answer.

/** Fewer similar completed runs than this and nothing is recommended. */
export const MIN_SIMILAR_RUNS = 5;
/** A config must have been tried this often before its mean is trusted. */
export const MIN_RUNS_PER_CONFIG = 3;

export interface RecommendationCriteria {
  baseModel?: string | null;
  dataset?: string | null;
  tags?: readonly string[] | null;
}

export interface CandidateConfigStats {
  config: {
    loraRank?: number | null;
    loraAlpha?: number | null;
    learningRate?: number | null;
    batchSize?: number | null;
    targetModules?: string[] | null;
  };
  count: number;
  avg: number;
  stddev: number;
}

/**
 * The criteria to try, strictest first: all given criteria, then without tags, then base
 * model only. When the strict set has too little history the answer says which criteria it
 * dropped.
 */
export function recommendationTiers(criteria: RecommendationCriteria): RecommendationCriteria[] {
  const tags = criteria.tags && criteria.tags.length > 0 ? criteria.tags : null;
  const tiers: RecommendationCriteria[] = [{ baseModel: criteria.baseModel ?? null, dataset: criteria.dataset ?? null, tags }];
  if (tags) tiers.push({ baseModel: criteria.baseModel ?? null, dataset: criteria.dataset ?? null, tags: null });
  if (criteria.dataset != null && criteria.baseModel != null) tiers.push({ baseModel: criteria.baseModel, dataset: null, tags: null });
  return tiers;
}

/** True when a tier's history supports a recommendation. */
export function isHistoryEnough(similarRuns: number, candidates: readonly CandidateConfigStats[]): boolean {
  return similarRuns >= MIN_SIMILAR_RUNS && candidates.length > 0;
}

export function describeCriteria(criteria: RecommendationCriteria): string {
  const parts: string[] = [];
  if (criteria.baseModel != null) parts.push(`base model ${criteria.baseModel}`);
  if (criteria.dataset != null) parts.push(`dataset ${criteria.dataset}`);
  if (criteria.tags && criteria.tags.length > 0) parts.push(`tags ${criteria.tags.join(', ')}`);
  return parts.length === 0 ? 'any base model and dataset' : parts.join(', ');
}

export function describeConfig(config: CandidateConfigStats['config']): string {
  const parts = [
    `rank ${config.loraRank ?? '?'}`,
    `alpha ${config.loraAlpha ?? '?'}`,
    `learning rate ${config.learningRate ?? '?'}`,
    `batch size ${config.batchSize ?? '?'}`,
  ];
  if (config.targetModules && config.targetModules.length > 0) parts.push(`target modules ${config.targetModules.join('+')}`);
  return parts.join(', ');
}

/** The plain statement of a recommendation (or of why there is none). */
export function recommendationStatement(input: {
  asked: RecommendationCriteria;
  used: RecommendationCriteria;
  similarRuns: number;
  candidates: readonly CandidateConfigStats[];
}): string {
  const { asked, used, similarRuns, candidates } = input;
  if (!isHistoryEnough(similarRuns, candidates)) {
    const tried = similarRuns === 1 ? '1 completed run' : `${similarRuns} completed runs`;
    return `History is too thin to recommend a config: ${tried} with ${describeCriteria(used)}, ` +
      `and a recommendation needs at least ${MIN_SIMILAR_RUNS} similar runs with some config tried ` +
      `at least ${MIN_RUNS_PER_CONFIG} times. Run a few configs and ask again.`;
  }
  const best = candidates[0]!;
  const relaxed = describeCriteria(used) !== describeCriteria(asked)
    ? ` (too few runs matched ${describeCriteria(asked)}, so this looks at ${describeCriteria(used)})`
    : '';
  return `From ${similarRuns} completed runs with ${describeCriteria(used)}${relaxed}: ` +
    `${describeConfig(best.config)} has the lowest mean final loss, ${round(best.avg)} ± ${round(best.stddev)} ` +
    `over ${best.count} runs.`;
}

function round(value: number): string {
  return Number(value.toPrecision(4)).toString();
}
