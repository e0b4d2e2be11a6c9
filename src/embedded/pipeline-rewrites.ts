// Stages rewritten into equivalent ones before mingo runs them, where mingo's own version
// departs from MongoDB. $bucket: mingo 7 puts a value equal to a boundary in the bucket below
// it; MongoDB's buckets include their lower boundary and exclude the upper one. MongoDB
// documents $bucket as exactly this $group + $sort.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error.ts';

function bucketAsGroup(spec: Document): Document[] {
  const { groupBy, boundaries, output } = spec;
  if (!Array.isArray(boundaries) || boundaries.length < 2) {
    throw new CommandError(40192, `The $bucket 'boundaries' field must be an array of at least two values, got ${JSON.stringify(boundaries)}`);
  }
  if (typeof groupBy !== 'string' && (typeof groupBy !== 'object' || groupBy === null)) {
    throw new CommandError(40202, `The $bucket 'groupBy' field must be a $-prefixed path or an expression, got ${JSON.stringify(groupBy)}`);
  }
  const branches = boundaries.slice(0, -1).map((lower, i) => ({
    case: { $and: [{ $gte: [groupBy, lower] }, { $lt: [groupBy, boundaries[i + 1]] }] },
    then: lower,
  }));
  const bucketId = { $switch: { branches, ...('default' in spec ? { default: spec.default } : {}) } };
  const accumulators = output && typeof output === 'object' ? (output as Document) : { count: { $sum: 1 } };
  return [{ $group: { _id: bucketId, ...accumulators } }, { $sort: { _id: 1 } }];
}

export function rewritePipeline(pipeline: Document[]): Document[] {
  if (!Array.isArray(pipeline)) throw new CommandError(ErrorCodes.TypeMismatch, `a pipeline must be an array of stages, got ${JSON.stringify(pipeline)}`);
  return pipeline.flatMap((stage) => {
    if (stage && typeof stage === 'object') {
      if ('$bucket' in stage) return bucketAsGroup(stage.$bucket as Document);
      if ('$facet' in stage && stage.$facet && typeof stage.$facet === 'object') {
        const facets = Object.fromEntries(Object.entries(stage.$facet as Document).map(([name, sub]) => [name, rewritePipeline(sub as Document[])]));
        return [{ $facet: facets }];
      }
      if ('$lookup' in stage && Array.isArray((stage.$lookup as Document)?.pipeline)) {
        return [{ $lookup: { ...(stage.$lookup as Document), pipeline: rewritePipeline((stage.$lookup as Document).pipeline as Document[]) } }];
      }
    }
    return [stage];
  });
}
