// The resolver registry: each area of the API adds ONE import line and one entry here;
// the schema builder merges them (src/server/schema.ts).
import type { Resolvers } from './generated/resolvers-types.ts';
import { analyticsResolvers } from './analytics.ts';
import { artifactResolvers } from './artifact.ts';
import { experimentResolvers } from './experiment.ts';
import { rootResolvers } from './root.ts';
import { scalarResolvers } from './scalars.ts';
import { trainingResolvers } from './training.ts';

export const resolverModules: Resolvers[] = [
  scalarResolvers,
  rootResolvers,
  experimentResolvers,
  artifactResolvers,
  analyticsResolvers,
  trainingResolvers,
];
