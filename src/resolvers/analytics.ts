// Resolvers of the analytics queries: argument checks and shaping only; every question is
// answered by the analytics repository (src/store/analytics), inside the caller's scope.
import DataLoader from 'dataloader';
import type { ObjectId } from 'mongodb';
import type { ExperimentDoc, ExperimentStatus } from '../store/documents.ts';
import { parseObjectId } from '../store/experiments.ts';
import { AnalyticsRepository } from '../store/analytics/analytics-repository.ts';
import type { ExperimentGroupRow } from '../store/analytics/group-experiments-pipeline.ts';
import type { DiagnosisFinding } from '../analytics/loss-curve-diagnosis.ts';
import type { RequestContext } from '../server/context.ts';
import { notFound, underArgument } from './errors.ts';
import type { ExperimentGroupKey, Resolvers } from './generated/resolvers-types.ts';

/** One repository per request; it only holds collection handles. */
function analyticsOf(ctx: RequestContext): AnalyticsRepository {
  return ctx.perRequest('analytics', () => new AnalyticsRepository(ctx.store.db));
}

/** Diagnoses of the experiments a request resolves, their curves read together (a page costs a fixed number of commands). */
function diagnosisLoader(ctx: RequestContext): DataLoader<ExperimentDoc, DiagnosisFinding[], string> {
  return ctx.perRequest('diagnosisByExperiment', () => new DataLoader(
    (experiments: readonly ExperimentDoc[]) => analyticsOf(ctx).diagnoseRuns(experiments),
    { cacheKeyFn: (experiment) => experiment._id.toHexString() },
  ));
}

async function loadExperiment(ctx: RequestContext, id: ObjectId): Promise<ExperimentDoc> {
  const doc = await ctx.loaders.experimentById.load(id);
  if (!doc) throw notFound('Experiment', id.toHexString());
  return doc;
}

function groupKeyOf(row: ExperimentGroupRow): ExperimentGroupKey {
  const key = row.key as Record<string, unknown>;
  return {
    loraRank: key.loraRank as number | null | undefined,
    loraAlpha: key.loraAlpha as number | null | undefined,
    learningRate: key.learningRate as number | null | undefined,
    batchSize: key.batchSize as number | null | undefined,
    targetModules: key.targetModules as string[] | null | undefined,
    baseModel: key.baseModel as string | null | undefined,
    dataset: key.dataset as string | null | undefined,
    status: key.status as ExperimentStatus | null | undefined,
    tag: key.tag as string | null | undefined,
    project: key.project as string | null | undefined,
  };
}

function findingOf(finding: DiagnosisFinding) {
  return {
    ...finding,
    evidence: finding.evidence.map((e) => ({
      ...e,
      value: Number.isFinite(e.value) ? e.value : null,
      valueText: String(e.value),
    })),
  };
}

export const analyticsResolvers: Resolvers = {
  Query: {
    lossByRank: (_root, args, ctx) => underArgument(null, () => analyticsOf(ctx).lossByRank(ctx.scope, args.filter)),

    async groupExperiments(_root, args, ctx) {
      const rows = await underArgument(null, () =>
        analyticsOf(ctx).groupExperiments(ctx.scope, {
          by: args.by,
          metric: args.metric ?? 'FINAL_LOSS',
          accumulators: args.accumulators ?? [],
          filter: args.filter,
        }),
      );
      return rows.map((row) => ({ ...row, key: groupKeyOf(row) }));
    },

    bestExperiments: (_root, args, ctx) =>
      underArgument(null, () => analyticsOf(ctx).bestExperiments(ctx.scope, args.metric ?? 'FINAL_LOSS', args.k ?? 10, args.filter)),

    async compareExperiments(_root, args, ctx) {
      const ids = await underArgument('ids', () => args.ids.map((id, i) => parseObjectId([i], id)));
      const compared = await underArgument(null, () =>
        analyticsOf(ctx).compareExperiments(ctx.scope, ids, args.key ?? 'loss', args.points ?? 200),
      );
      return { key: compared.key, steps: compared.steps, series: compared.series };
    },

    async searchExperiments(_root, args, ctx) {
      const page = await underArgument(null, () =>
        analyticsOf(ctx).searchExperiments(ctx.scope, { text: args.text, filter: args.filter, first: args.first, after: args.after }),
      );
      for (const hit of page.hits) ctx.loaders.experimentById.prime(hit.doc._id, hit.doc);
      return {
        queryWords: page.queryWords,
        edges: page.hits.map((hit) => ({ cursor: hit.cursor, score: hit.score, matchedWords: hit.matchedWords, node: hit.doc })),
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: args.after != null,
          startCursor: page.hits[0]?.cursor ?? null,
          endCursor: page.hits.at(-1)?.cursor ?? null,
        },
      };
    },

    async recommendConfig(_root, args, ctx) {
      const answer = await underArgument(null, () =>
        analyticsOf(ctx).recommendConfig(ctx.scope, { baseModel: args.baseModel, dataset: args.dataset, tags: args.tags }),
      );
      return {
        enoughHistory: answer.enoughHistory,
        statement: answer.statement,
        similarRuns: answer.similarRuns,
        basedOn: {
          baseModel: answer.basedOn.baseModel ?? null,
          dataset: answer.basedOn.dataset ?? null,
          tags: answer.basedOn.tags ? [...answer.basedOn.tags] : null,
        },
        configs: await Promise.all(
          answer.configs.map(async (c) => ({
            config: c.config,
            count: c.count,
            avgFinalLoss: c.avg,
            minFinalLoss: c.min,
            maxFinalLoss: c.max,
            stddevFinalLoss: c.stddev,
            bestExperiment: await loadExperiment(ctx, c.bestExperimentId),
          })),
        ),
      };
    },
  },

  Mutation: {
    async setExperimentRetention(_root, args, ctx) {
      const id = await underArgument('id', () => parseObjectId([], args.id));
      const updated = await underArgument(null, () => analyticsOf(ctx).setRetention(ctx.scope, id, args.ttlDays ?? null));
      ctx.loaders.experimentById.clear(id).prime(id, updated);
      return updated;
    },
  },

  Experiment: {
    async diagnosis(experiment, _args, ctx) {
      const findings = await diagnosisLoader(ctx).load(experiment);
      return findings.map(findingOf);
    },
  },
};
