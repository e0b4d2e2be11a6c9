// aggregate: the pipeline runs in mingo, after a leading $match is answered through the query
// planner (so it uses indexes) and with compiled fast paths for the common analytical stages.
import type { Document } from 'bson';
import { Aggregator } from 'mingo';
import type { CommandContext, CommandHandler } from '../command-context.ts';
import { optionalArray, optionalDocument, optionalNumber } from '../command-arguments.ts';
import { CommandError, ErrorCodes, LocationCodes, commandErrorFrom } from '../command-error.ts';
import { validateCollectionName } from '../catalog.ts';
import { cloneValue } from '../document-clone.ts';
import { idSortDirection, selectDocuments, type Selection } from '../document-query.ts';
import { queryOptions } from '../mingo-options.ts';
import { runFastStages } from '../pipeline-fast-paths.ts';
import { rewritePipeline } from '../pipeline-rewrites.ts';
import { planQuery } from '../query-planner.ts';
import { winningPlanOf } from '../plan-description.ts';
import { replyWithCursor } from './reads.ts';

/** Stages that only read their input documents; anything else gets copies so stored documents stay untouched. */
const READ_ONLY_STAGES = new Set(['$match', '$group', '$sort', '$limit', '$skip', '$count', '$sortByCount', '$bucket', '$bucketAuto', '$facet', '$lookup', '$sample', '$documents', '$unionWith']);

/** Stages that would write or watch: refused by name (the application must not rely on them). */
const REFUSED_STAGES: Record<string, CommandError> = {
  $changeStream: new CommandError(LocationCodes.ChangeStreamNotSupported, 'The $changeStream stage is only supported on replica sets; the embedded engine does not support change streams'),
  $out: new CommandError(LocationCodes.UnrecognizedPipelineStage, 'The $out stage is not supported by the embedded engine'),
  $merge: new CommandError(LocationCodes.UnrecognizedPipelineStage, 'The $merge stage is not supported by the embedded engine'),
};

function stageName(stage: unknown, position: number): string {
  if (!stage || typeof stage !== 'object' || Array.isArray(stage)) throw new CommandError(ErrorCodes.TypeMismatch, `pipeline[${position}] must be a document, got ${JSON.stringify(stage)}`);
  const keys = Object.keys(stage);
  if (keys.length !== 1) throw new CommandError(40323, `A pipeline stage specification object must contain exactly one field; pipeline[${position}] has ${keys.length}`);
  return keys[0];
}

/** True when no stage (nested ones included) may change the documents it reads. */
function readsOnly(pipeline: Document[]): boolean {
  return pipeline.every((stage, i) => {
    const name = stageName(stage, i);
    if (REFUSED_STAGES[name]) throw REFUSED_STAGES[name];
    if (!READ_ONLY_STAGES.has(name)) return false;
    const spec = stage[name] as Document;
    if (name === '$facet') return Object.values(spec).every((sub) => readsOnly(sub as Document[]));
    if ((name === '$lookup' || name === '$unionWith') && Array.isArray(spec?.pipeline)) return readsOnly(spec.pipeline as Document[]);
    return true;
  });
}

/**
 * `$match, $sort: {_id: ±1}, $limit: n` (a newest-first page): the sort and limit go to the
 * selection with the match, which answers them by walking the _id order (document-query.ts).
 */
function idSortAndLimitAfter(stages: Document[]): { sort: Document; limit: number } | undefined {
  const sort = stages[1]?.$sort as Document | undefined;
  const limit = stages[2]?.$limit;
  if (idSortDirection(sort) === 0) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) return undefined;
  return { sort: sort!, limit };
}

export interface PipelineRun {
  docs: Document[];
  selection?: Selection;
}

export function runPipeline(ctx: CommandContext, collectionName: string | null, requested: Document[], options: { collation?: Document; variables?: Document }): PipelineRun {
  const pipeline = rewritePipeline(requested);
  const untouched = readsOnly(pipeline);
  const resolveCollection = (name: string): Document[] => {
    const docs = [...(ctx.engine.catalog.collection(ctx.db, name)?.documents.values() ?? [])];
    return untouched ? docs : docs.map(cloneValue);
  };
  let stages = pipeline;
  let selection: Selection | undefined;
  let input: Document[] = [];
  if (collectionName !== null) {
    const collection = ctx.engine.catalog.collection(ctx.db, collectionName);
    const first = stages[0];
    if (first && '$match' in first) {
      const sortAndLimit = idSortAndLimitAfter(stages);
      selection = selectDocuments(collection, first.$match as Document, { ...options, ...sortAndLimit });
      stages = stages.slice(sortAndLimit ? 3 : 1);
    } else {
      selection = selectDocuments(collection, {}, options);
    }
    input = selection.docs;
  }
  try {
    // The fast paths only read their input (their output may share values with stored
    // documents), so copies are made only of what reaches a mingo stage that may rewrite it:
    // after a compiled $match/$group that is the matches or a few group rows, not every
    // stored document selected.
    const fast = options.collation ? { docs: input, rest: stages } : runFastStages(input, stages);
    if (fast.rest.length === 0) return { docs: fast.docs, selection };
    const mingoInput = untouched || readsOnly(fast.rest) ? fast.docs : fast.docs.map(cloneValue);
    const aggregator = new Aggregator(fast.rest, queryOptions({ ...options, collectionResolver: resolveCollection }));
    return { docs: aggregator.run(mingoInput) as Document[], selection };
  } catch (err) {
    throw commandErrorFrom(err);
  }
}

const aggregate: CommandHandler = (ctx) => {
  const target = ctx.body.aggregate;
  const collectionName = target === 1 ? null : validateCollectionName(target);
  const pipeline = (optionalArray(ctx.body, 'pipeline') ?? []) as Document[];
  if (ctx.body.explain) return explainAggregate(ctx, collectionName, pipeline);
  const cursorOptions = optionalDocument(ctx.body, 'cursor');
  if (!cursorOptions) throw new CommandError(ErrorCodes.FailedToParse, `The 'cursor' option is required, except for aggregate with the explain argument`);
  const { docs } = runPipeline(ctx, collectionName, pipeline, { collation: optionalDocument(ctx.body, 'collation'), variables: optionalDocument(ctx.body, 'let') });
  const ns = collectionName === null ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${collectionName}`;
  return replyWithCursor(ctx, ns, docs, { batchSize: optionalNumber(cursorOptions, 'batchSize', { min: 0 }) });
};

/** `aggregate` with `explain: true`: the plan of the leading $match, without running the pipeline. */
function explainAggregate(ctx: CommandContext, collectionName: string | null, pipeline: Document[]): Document {
  const first = pipeline[0];
  const leadingMatch = Boolean(first && '$match' in first);
  const filter = leadingMatch ? (first.$match as Document) : {};
  const collection = collectionName === null ? undefined : ctx.engine.catalog.collection(ctx.db, collectionName);
  const plan = collection ? planQuery(collection, filter) : { indexName: null };
  const queryPlanner = {
    namespace: `${ctx.db}.${collectionName ?? '$cmd.aggregate'}`,
    parsedQuery: filter,
    winningPlan: winningPlanOf(plan.indexName, 'keyPattern' in plan ? plan.keyPattern : undefined, filter),
    rejectedPlans: [],
  };
  return { explainVersion: '1', stages: [{ $cursor: { queryPlanner } }, ...pipeline.slice(leadingMatch ? 1 : 0)], ok: 1 };
}

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
