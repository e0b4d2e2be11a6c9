// Resolvers of checkpoints and artifacts, and the lookup of a file by its content hash.
import type { ObjectId } from 'mongodb';
import type { ExperimentDoc } from '../store/documents.ts';
import type { RequestContext } from '../server/context.ts';
import { underArgument, notFound } from './errors.ts';
import type { Resolvers } from './generated/resolvers-types.ts';

/** The run a record belongs to; its absence (deleted meanwhile, or out of scope) is NOT_FOUND. */
async function owningExperiment(experimentId: ObjectId, ctx: RequestContext): Promise<ExperimentDoc> {
  const experiment = await ctx.loaders.experimentById.load(experimentId);
  if (!experiment) throw notFound('Experiment', experimentId.toHexString());
  return experiment;
}

export const artifactResolvers: Resolvers = {
  Query: {
    artifactByHash: (_root, args, ctx) => underArgument('sha256', () => ctx.store.artifacts.findByHash(ctx.scope, args.sha256)),
  },

  Checkpoint: {
    id: (c) => c._id.toHexString(),
    experiment: (c, _args, ctx) => owningExperiment(c.experimentId, ctx),
    artifacts: (c, _args, ctx) => ctx.loaders.artifactsByCheckpointId.load(c._id),
  },

  Artifact: {
    id: (a) => a._id.toHexString(),
    experiment: (a, _args, ctx) => owningExperiment(a.experimentId, ctx),
    checkpoint: (a, _args, ctx) => (a.checkpointId ? ctx.loaders.checkpointById.load(a.checkpointId) : null),
  },
};
