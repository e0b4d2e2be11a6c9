// The analytics repository: runs the named pipelines against `experiments` (and reads
// curves through the metrics repository), each call narrowed by the caller's project
// scope and the typed experiment filter. Callers never see the driver.
import { ObjectId, type Collection, type Db, type Document } from 'mongodb';
import { COLLECTIONS, type ExperimentDoc } from '../documents.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import { buildExperimentFilter, type ExperimentFilterInput } from '../experiment-filter.ts';
import { MetricsRepository } from '../metrics.ts';
import { readCurvesOfRuns } from '../metric-curve-batch.ts';
import type { CurvePoint } from '../metrics-downsampling.ts';
import { scopeClause, type ProjectScope } from '../scope.ts';
import { withPath } from '../experiments.ts';
import {
  ACCUMULATORS, GROUP_FIELDS, GROUP_KEY_NAMES, SUMMARY_METRICS, allOf, requireEnumValue,
  type Accumulator, type GroupField, type SummaryMetric,
} from './analytics-fields.ts';
import { buildLossByRankPipeline, type LossByRankGroupDoc, type LossByRankRow } from './loss-by-rank-pipeline.ts';
import { buildGroupExperimentsPipeline, type ExperimentGroupDoc, type ExperimentGroupRow } from './group-experiments-pipeline.ts';
import { buildBestExperimentsPipeline, MAX_BEST_K } from './best-experiments-pipeline.ts';
import { decodeSearchCursor, ExperimentSearch, type SearchPage } from './experiment-search.ts';
import { buildRecommendConfigPipeline, buildSimilarRunsMatch } from './recommend-config-pipeline.ts';
import { searchQueryTokens } from '../../analytics/search-tokens.ts';
import { alignCurvesByStep } from '../../analytics/curve-alignment.ts';
import {
  diagnoseLossCurves, EVAL_LOSS_KEY, TRAIN_LOSS_KEY, type DiagnosisFinding,
} from '../../analytics/loss-curve-diagnosis.ts';
import type { Curve } from '../../analytics/curve-statistics.ts';
import { expiresAtFromTtlDays } from '../../analytics/retention-policy.ts';
import {
  isHistoryEnough, MIN_RUNS_PER_CONFIG, recommendationStatement, recommendationTiers,
  type CandidateConfigStats, type RecommendationCriteria,
} from '../../analytics/config-recommendation.ts';

export const MAX_SEARCH_PAGE = 100;
export const MAX_COMPARE_EXPERIMENTS = 20;
export const MAX_COMPARE_POINTS = 2000;
/** Points read per curve for a diagnosis: enough to see the shape, cheap on any run length. */
export const DIAGNOSIS_CURVE_POINTS = 400;
const MAX_RECOMMENDED_CONFIGS = 5;

export interface ComparedCurves {
  key: string;
  steps: number[];
  series: { experiment: ExperimentDoc; values: (number | null)[] }[];
}

export interface RecommendedConfig extends CandidateConfigStats {
  min: number;
  max: number;
  bestExperimentId: ObjectId;
}

export interface ConfigRecommendation {
  enoughHistory: boolean;
  statement: string;
  /** How many completed runs matched the criteria that were used. */
  similarRuns: number;
  /** The criteria the answer is based on (may be looser than asked; see statement). */
  basedOn: RecommendationCriteria;
  configs: RecommendedConfig[];
}

export class AnalyticsRepository {
  private readonly experiments: Collection<ExperimentDoc>;
  private readonly metrics: MetricsRepository;
  private readonly search: ExperimentSearch;

  constructor(db: Db) {
    this.experiments = db.collection<ExperimentDoc>(COLLECTIONS.experiments);
    this.search = new ExperimentSearch(this.experiments);
    this.metrics = new MetricsRepository(db);
  }

  async lossByRank(scope: ProjectScope, filter?: ExperimentFilterInput | null): Promise<LossByRankRow[]> {
    const groups = await this.aggregate<LossByRankGroupDoc>(buildLossByRankPipeline(matchOf(scope, filter)));
    return groups.map(({ _id, ...stats }) => ({ rank: _id ?? null, ...stats }));
  }

  async groupExperiments(
    scope: ProjectScope,
    args: { by: readonly GroupField[]; metric: SummaryMetric; accumulators: readonly Accumulator[]; filter?: ExperimentFilterInput | null },
  ): Promise<ExperimentGroupRow[]> {
    if (!Array.isArray(args.by) || args.by.length === 0 || args.by.length > 4) {
      throw new InvalidInputError(['by'], `by must list 1 to 4 fields to group on, got ${Array.isArray(args.by) ? args.by.length : 'none'}.`);
    }
    const by = args.by.map((field, i) => requireEnumValue(`by[${i}]`, field, GROUP_FIELDS));
    if (new Set(by).size !== by.length) throw new InvalidInputError(['by'], `by lists a field twice: ${by.join(', ')}.`);
    const metric = requireEnumValue('metric', args.metric, SUMMARY_METRICS);
    const accumulators = (args.accumulators ?? []).map((a, i) => requireEnumValue(`accumulators[${i}]`, a, ACCUMULATORS));
    const groups = await this.aggregate<ExperimentGroupDoc>(
      buildGroupExperimentsPipeline({ by, metric, accumulators }, matchOf(scope, args.filter)),
    );
    return groups.map(({ _id, ...stats }) => {
      const key: Record<string, unknown> = {};
      for (const field of by) key[GROUP_KEY_NAMES[field]] = _id[GROUP_KEY_NAMES[field]] ?? null;
      return { key, ...stats };
    });
  }

  async bestExperiments(scope: ProjectScope, metric: SummaryMetric, k: number, filter?: ExperimentFilterInput | null): Promise<ExperimentDoc[]> {
    const checkedMetric = requireEnumValue('metric', metric, SUMMARY_METRICS);
    requireIntegerIn('k', k, 1, MAX_BEST_K);
    return this.aggregate<ExperimentDoc>(buildBestExperimentsPipeline(checkedMetric, k, matchOf(scope, filter)));
  }

  async searchExperiments(
    scope: ProjectScope,
    args: { text: string; filter?: ExperimentFilterInput | null; first?: number | null; after?: string | null },
  ): Promise<SearchPage> {
    if (typeof args.text !== 'string' || args.text.length > 500) {
      throw new InvalidInputError(['text'], 'text must be a string of at most 500 characters.');
    }
    const first = args.first ?? 20;
    requireIntegerIn('first', first, 0, MAX_SEARCH_PAGE);
    const words = searchQueryTokens(args.text);
    if (words.length === 0) return { queryWords: [], hits: [], hasNextPage: false };
    const after = args.after == null ? null : decodeSearchCursor(args.after);
    return this.search.page(words, matchOf(scope, args.filter), first, after);
  }

  async recommendConfig(scope: ProjectScope, asked: RecommendationCriteria): Promise<ConfigRecommendation> {
    const scopeMatch = scopeClause<ExperimentDoc>(scope) as Document;
    let answer: ConfigRecommendation | null = null;
    for (const tier of recommendationTiers(asked)) {
      const similar = buildSimilarRunsMatch(tier, scopeMatch);
      const [similarRuns, configs] = await Promise.all([
        this.experiments.countDocuments(similar),
        this.aggregate<RecommendedConfig>(buildRecommendConfigPipeline(similar, MIN_RUNS_PER_CONFIG, MAX_RECOMMENDED_CONFIGS)),
      ]);
      const enough = isHistoryEnough(similarRuns, configs);
      const candidate: ConfigRecommendation = {
        enoughHistory: enough,
        statement: recommendationStatement({ asked, used: tier, similarRuns, candidates: configs }),
        similarRuns,
        basedOn: tier,
        configs: enough ? configs : [],
      };
      // Thin everywhere: report on the strictest criteria, the ones the user asked about.
      answer ??= candidate;
      if (enough) return candidate;
    }
    return answer!;
  }

  /** Curves of one key for several runs, on one shared step axis of at most `points` steps. */
  async compareExperiments(scope: ProjectScope, ids: readonly ObjectId[], key: string, points: number): Promise<ComparedCurves> {
    if (ids.length === 0 || ids.length > MAX_COMPARE_EXPERIMENTS) {
      throw new InvalidInputError(['ids'], `ids must list 1 to ${MAX_COMPARE_EXPERIMENTS} experiments, got ${ids.length}.`);
    }
    requireIntegerIn('points', points, 2, MAX_COMPARE_POINTS);
    if (typeof key !== 'string' || key.length === 0 || key.length > 100) {
      throw new InvalidInputError(['key'], 'key must be a metric key of 1 to 100 characters, e.g. "loss".');
    }
    const docs = await this.experiments.find({ $and: [scopeClause<ExperimentDoc>(scope), { _id: { $in: [...ids] } }] }).toArray();
    const byId = new Map(docs.map((d) => [d._id.toHexString(), d]));
    const ordered = ids.map((id, i) => {
      const doc = byId.get(id.toHexString());
      if (!doc) throw new NotFoundError('Experiment', `${id.toHexString()} (ids[${i}])`);
      return doc;
    });
    const curves = await readCurvesOfRuns(this.metrics, ordered.map((doc) => doc._id), [key], points);
    const aligned = alignCurvesByStep(curves.map(([curve]) => curveOf(curve!)), points);
    return { key, steps: aligned.steps, series: ordered.map((experiment, i) => ({ experiment, values: aligned.series[i]! })) };
  }

  /** The diagnosis of one run's loss curves (the experiment document is already in scope). */
  async diagnose(experiment: ExperimentDoc): Promise<DiagnosisFinding[]> {
    return (await this.diagnoseRuns([experiment]))[0]!;
  }

  /** The diagnosis of each run's loss curves, all curves read together (a page costs a fixed number of commands). */
  async diagnoseRuns(experiments: readonly ExperimentDoc[]): Promise<DiagnosisFinding[][]> {
    const ids = experiments.map((e) => e._id);
    const curves = await readCurvesOfRuns(this.metrics, ids, [TRAIN_LOSS_KEY, EVAL_LOSS_KEY], DIAGNOSIS_CURVE_POINTS);
    return experiments.map((experiment, i) => {
      const [loss, evalLoss] = curves[i]!.map(curveOf);
      return diagnoseLossCurves({
        loss: loss!.steps.length > 0 ? loss : null,
        evalLoss: evalLoss!.steps.length > 0 ? evalLoss : null,
        // Ingest refuses non-finite points, so a NaN shows up as the run's failure instead.
        nonFiniteReported: experiment.error?.type === 'NAN_LOSS' ? { message: experiment.error.message } : null,
      });
    });
  }

  /** Sets (ttlDays > 0) or clears (null) the experiment's expiresAt. */
  async setRetention(scope: ProjectScope, id: ObjectId, ttlDays: number | null, now = new Date()): Promise<ExperimentDoc> {
    const expiresAt = expiresAtFromTtlDays(ttlDays, now);
    const update = expiresAt ? { $set: { expiresAt, updatedAt: now } } : { $set: { updatedAt: now }, $unset: { expiresAt: '' as const } };
    const updated = await this.experiments.findOneAndUpdate(
      { $and: [scopeClause<ExperimentDoc>(scope), { _id: id }] },
      update,
      { returnDocument: 'after' },
    );
    if (!updated) throw new NotFoundError('Experiment', id.toHexString());
    return updated;
  }

  private aggregate<T extends Document>(pipeline: Document[]): Promise<T[]> {
    // allowDiskUse: a large MEDIAN group on real MongoDB may exceed the 100 MB stage limit.
    return this.experiments.aggregate<T>(pipeline, { allowDiskUse: true }).toArray();
  }
}

function curveOf(points: readonly CurvePoint[]): Curve {
  return { steps: points.map((p) => p.step), values: points.map((p) => p.value) };
}

/** Scope and typed filter as one `$match` document. */
function matchOf(scope: ProjectScope, filter: ExperimentFilterInput | null | undefined): Document {
  const built = withPath(['filter'], () => buildExperimentFilter(filter));
  return allOf(scopeClause<ExperimentDoc>(scope), built);
}

function requireIntegerIn(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError([field], `${field} must be an integer from ${min} to ${max}, got ${String(value)}.`);
  }
}
