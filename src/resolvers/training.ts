// Resolvers of launching and following training: thin argument handling over src/jobs.
import { GraphQLError } from 'graphql';
import type { ExperimentDoc } from '../store/documents.ts';
import { parseObjectId } from '../store/experiments.ts';
import { MetricsRepository } from '../store/metrics.ts';
import { assertProjectInScope } from '../store/scope.ts';
import type { RequestContext } from '../server/context.ts';
import { launchTraining } from '../jobs/launch-training.ts';
import { logMetrics } from '../jobs/log-metrics.ts';
import { experimentUpdatedTopic, type TrainingProgressPayload } from '../jobs/progress-events.ts';
import { trainingProgressStream } from '../jobs/progress-stream.ts';
import type { JobExperimentDoc } from '../jobs/run-records.ts';
import { notFound, toGraphQLError, underArgument } from './errors.ts';
import type { Resolvers } from './generated/resolvers-types.ts';
import { loraConfigFromInput } from './lora-config.ts';

function jobsOf(ctx: RequestContext) {
  const jobs = ctx.services.jobs;
  const pubsub = ctx.services.pubsub;
  if (!jobs || !pubsub) throw new GraphQLError('The job layer is not running on this server.', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
  return { ...jobs, pubsub };
}

async function experimentInScope(ctx: RequestContext, argument: string, idText: string): Promise<JobExperimentDoc> {
  const id = await underArgument(argument, () => parseObjectId([], idText));
  const doc = await ctx.store.experiments.findById(ctx.scope, id);
  if (!doc) throw notFound('Experiment', idText);
  return doc as JobExperimentDoc;
}

/** camelCase input field of a snake_case config key (for error paths). */
function inputFieldOf(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

async function progressStream(ctx: RequestContext, experimentIdText: string): Promise<AsyncIterableIterator<TrainingProgressPayload>> {
  const doc = await experimentInScope(ctx, 'experimentId', experimentIdText);
  const { runner, pubsub } = jobsOf(ctx);
  return trainingProgressStream(runner, pubsub, doc._id);
}

function experimentUpdates(ctx: RequestContext, project: string): AsyncIterableIterator<ExperimentDoc> {
  try {
    assertProjectInScope(ctx.scope, project);
  } catch (err) {
    throw toGraphQLError(err);
  }
  // The pub/sub iterator itself: return() unsubscribes at once.
  return jobsOf(ctx).pubsub.subscribe<ExperimentDoc>(experimentUpdatedTopic(project));
}

export const trainingResolvers: Resolvers = {
  Query: {
    externalRunners: (_root, _args, ctx) => [...jobsOf(ctx).runner.externalRunners.values()].map((r) => ({ name: r.name, description: r.description })),
  },

  Mutation: {
    async launchTraining(_root, { input }, ctx) {
      const { runner, baseDir } = jobsOf(ctx);
      return underArgument(null, () =>
        launchTraining({ store: ctx.store, runner, baseDir }, ctx.scope, {
          name: input.name,
          project: input.project,
          tags: input.tags ?? [],
          notes: input.notes,
          configYaml: input.configYaml,
          config: input.config ? { stored: loraConfigFromInput(input.config), fieldOf: inputFieldOf } : null,
          externalCommand: input.externalCommand,
          logOnly: input.logOnly,
          ttlDays: input.ttlDays,
        }),
      );
    },
    async cancelTraining(_root, args, ctx) {
      const doc = await experimentInScope(ctx, 'id', args.id);
      return underArgument(null, () => jobsOf(ctx).runner.cancel(doc._id));
    },
    async resumeTraining(_root, args, ctx) {
      const doc = await experimentInScope(ctx, 'id', args.id);
      return underArgument(null, () => jobsOf(ctx).runner.resume(doc._id));
    },
    async logMetrics(_root, args, ctx) {
      const doc = await experimentInScope(ctx, 'experimentId', args.experimentId);
      const { runner, pubsub } = jobsOf(ctx);
      const points = args.points.map((p) => ({ key: p.key ?? 'loss', step: p.step, value: p.value, time: p.time ?? undefined }));
      return underArgument(null, () => logMetrics({ runner, pubsub }, doc, points, args.status ?? null));
    },
  },

  Subscription: {
    trainingProgress: {
      subscribe: (_root, args, ctx) => progressStream(ctx, args.experimentId) as unknown as never,
      resolve: (payload: TrainingProgressPayload) => payload,
    },
    experimentUpdated: {
      subscribe: (_root, args, ctx) => experimentUpdates(ctx, args.project) as AsyncIterable<unknown> as never,
      resolve: (payload: ExperimentDoc) => payload,
    },
  },

  Experiment: {
    async metrics(e, args, ctx) {
      const repo = ctx.perRequest('metricsRepository', () => new MetricsRepository(ctx.store.db));
      try {
        return await repo.readCurve(e._id, args.key, args.points);
      } catch (err) {
        if (err instanceof RangeError) throw new GraphQLError(err.message, { extensions: { code: 'BAD_USER_INPUT', argumentPath: ['points'] } });
        throw err;
      }
    },
    metricKeys: (e, _args, ctx) => ctx.perRequest('metricsRepository', () => new MetricsRepository(ctx.store.db)).keys(e._id),
    statusHistory: (e) => (e as JobExperimentDoc).statusHistory ?? [],
    queuePosition: (e, _args, ctx) => (e.status === 'QUEUED' ? (ctx.services.jobs?.runner.queuePosition(e._id.toHexString()) ?? null) : null),
    externalCommand: (e) => (e as JobExperimentDoc).externalCommand ?? null,
  },
};
