// Resolvers of experiments: the queries, the mutations and the edges to their records.
import type { ExperimentDoc } from '../store/documents.ts';
import { parseObjectId } from '../store/experiments.ts';
import { notFound, underArgument } from './errors.ts';
import { experimentPatchFromInput, newExperimentFromInput } from './experiment-input.ts';
import type { Resolvers, RunnerKind } from './generated/resolvers-types.ts';
import { loraConfigResolvers } from './lora-config.ts';

const RUNNER_KIND: Record<NonNullable<ExperimentDoc['runner']>, RunnerKind> = {
  builtin: 'BUILTIN',
  external: 'EXTERNAL',
  logged: 'LOGGED',
};

export const experimentResolvers: Resolvers = {
  Query: {
    async experiment(_root, args, ctx) {
      const id = await underArgument('id', () => parseObjectId([], args.id));
      const doc = await ctx.loaders.experimentById.load(id);
      if (!doc) throw notFound('Experiment', args.id);
      return doc;
    },
    async experiments(_root, args, ctx) {
      // The store names the argument itself (filter, sort, first, after) in its errors.
      const page = await underArgument(null, () =>
        ctx.store.experiments.findPage(ctx.scope, { filter: args.filter, sort: args.sort, first: args.first, after: args.after }),
      );
      for (const row of page.rows) ctx.loaders.experimentById.prime(row.doc._id, row.doc);
      return { page, hasPreviousPage: args.after != null, filter: args.filter };
    },
  },

  Mutation: {
    async createExperiment(_root, args, ctx) {
      const doc = await underArgument('input', () => ctx.store.experiments.create(ctx.scope, newExperimentFromInput(args.input)));
      return doc;
    },
    async updateExperiment(_root, args, ctx) {
      const id = await underArgument('id', () => parseObjectId([], args.id));
      return underArgument('input', () => ctx.store.experiments.update(ctx.scope, id, experimentPatchFromInput(args.input)));
    },
    async deleteExperiment(_root, args, ctx) {
      const id = await underArgument('id', () => parseObjectId([], args.id));
      return underArgument('id', () => ctx.store.experiments.delete(ctx.scope, id, { deleteFiles: args.deleteFiles ?? false }));
    },
  },

  Experiment: {
    id: (e) => e._id.toHexString(),
    tags: (e) => e.tags ?? [],
    config: (e) => e.config ?? {},
    runner: (e) => (e.runner ? RUNNER_KIND[e.runner] : null),
    samplePrompts: (e) => e.samplePrompts ?? [],
    checkpoints: (e, _args, ctx) => ctx.loaders.checkpointsByExperimentId.load(e._id),
    async artifacts(e, args, ctx) {
      const artifacts = await ctx.loaders.artifactsByExperimentId.load(e._id);
      return args.kind ? artifacts.filter((a) => a.kind === args.kind) : artifacts;
    },
  },

  LoraConfig: loraConfigResolvers,

  Dataset: {
    fileCount: (d) => d.files ?? null,
    async files(d, _args, ctx) {
      if (!d.sha256) return [];
      const record = await ctx.loaders.datasetBySha256.load(d.sha256);
      return record?.files ?? [];
    },
  },

  ExperimentConnection: {
    edges: (c) => c.page.rows.map((row) => ({ cursor: row.cursor, node: row.doc })),
    pageInfo: (c) => ({
      hasNextPage: c.page.hasNextPage,
      hasPreviousPage: c.hasPreviousPage,
      startCursor: c.page.rows[0]?.cursor ?? null,
      endCursor: c.page.rows.at(-1)?.cursor ?? null,
    }),
    totalCount: (c, _args, ctx) => ctx.store.experiments.count(ctx.scope, c.filter),
  },

  DeleteExperimentPayload: {
    deletedId: (p) => p.id.toHexString(),
    deletedCheckpoints: (p) => p.checkpoints,
    deletedArtifacts: (p) => p.artifacts,
    deletedMetricBuckets: (p) => p.metricBuckets,
  },
};
