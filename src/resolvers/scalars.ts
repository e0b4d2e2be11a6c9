// The custom scalars of src/schema/scalars.graphql, from graphql-scalars.
import { DateTimeResolver, JSONObjectResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars';
import type { Resolvers } from './generated/resolvers-types.ts';

export const scalarResolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSON: JSONResolver,
  JSONObject: JSONObjectResolver,
  SafeInt: SafeIntResolver,
};
