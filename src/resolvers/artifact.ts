// Resolvers of checkpoints and artifacts, and the lookup of a file by its content hash.
import { underArgument, notFound } from './errors.ts';
import type { Resolvers } from './generated/resolvers-types.ts';

export const artifactResolvers: Resolvers = {
  Query: {
    artifactByHash: (_root, args, ctx) => underArgument('sha256', () => ctx.store.artifacts.findByHash(ctx.scope, args.sha256)),
  },

  Checkpoint: {
    id: (c) => c._id.toHexString(),
    async experiment(c, _args, ctx) {
      const experiment = await ctx.loaders.experimentById.load(c.experimentId);
      if (!experiment) throw notFound('Experiment', c.experimentId.toHexString());
      return experiment;
    },
    artifacts: (c, _args, ctx) => ctx.loaders.artifactsByCheckpointId.load(c._id),
  },

  Artifact: {
    id: (a) => a._id.toHexString(),
    async experiment(a, _args, ctx) {
      const experiment = await ctx.loaders.experimentById.load(a.experimentId);
      if (!experiment) throw notFound('Experiment', a.experimentId.toHexString());
      return experiment;
    },
    checkpoint: (a, _args, ctx) => (a.checkpointId ? ctx.loaders.checkpointById.load(a.checkpointId) : null),
  },
};
