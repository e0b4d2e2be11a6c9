// explain: the plan the engine chose (IXSCAN on an index, or COLLSCAN) and, for the
// executionStats verbosity, how many keys and documents it examined.
import type { Document } from 'bson';
import type { CommandContext, CommandHandler } from '../command-context.ts';
import { collectionArgument, optionalDocument } from '../command-arguments.ts';
import { CommandError, ErrorCodes } from '../command-error.ts';
import { selectDocuments, type Selection } from '../document-query.ts';
import { SERVER_VERSION } from './handshake.ts';
import { findSelection } from './reads.ts';
import { runPipeline } from './aggregate.ts';
import { winningPlanOf } from '../plan-description.ts';

interface ExecutionStats {
  nReturned: number;
  docsExamined: number;
  keysExamined: number;
  indexName: string | null;
  keyPattern?: Document;
}

function statsOf(selection: Selection | undefined, nReturned: number): ExecutionStats {
  return {
    nReturned,
    docsExamined: selection?.docsExamined ?? 0,
    keysExamined: selection?.plan.keysExamined ?? 0,
    indexName: selection?.plan.indexName ?? null,
    keyPattern: selection?.plan.keyPattern,
  };
}

/** The explained command's collection, filter, and a way to run it for its statistics. */
function explainedSelection(ctx: CommandContext, inner: Document): { collectionName: string; filter: Document; run: () => ExecutionStats } {
  const command = Object.keys(inner)[0];
  const selectAll = (collectionName: string, filter: Document) => () => {
    const selection = selectDocuments(ctx.engine.catalog.collection(ctx.db, collectionName), filter);
    return statsOf(selection, selection.docs.length);
  };
  switch (command) {
    case 'find':
      return {
        collectionName: collectionArgument(inner, 'find'),
        filter: optionalDocument(inner, 'filter') ?? {},
        run: () => {
          const { selection } = findSelection(ctx, inner);
          return statsOf(selection, selection.docs.length);
        },
      };
    case 'count':
    case 'distinct': {
      const collectionName = collectionArgument(inner, command);
      const filter = optionalDocument(inner, 'query') ?? {};
      return { collectionName, filter, run: selectAll(collectionName, filter) };
    }
    case 'delete':
    case 'update': {
      const collectionName = collectionArgument(inner, command);
      const statements = (inner[command === 'delete' ? 'deletes' : 'updates'] ?? []) as Document[];
      const filter = (statements[0]?.q ?? {}) as Document;
      return { collectionName, filter, run: selectAll(collectionName, filter) };
    }
    case 'aggregate': {
      const collectionName = collectionArgument(inner, 'aggregate');
      const pipeline = (inner.pipeline ?? []) as Document[];
      const filter = pipeline[0] && '$match' in pipeline[0] ? (pipeline[0].$match as Document) : {};
      return {
        collectionName,
        filter,
        run: () => {
          const { docs, selection } = runPipeline(ctx, collectionName, pipeline, {});
          return statsOf(selection, docs.length);
        },
      };
    }
    default:
      throw new CommandError(ErrorCodes.IllegalOperation, `explain of '${command}' is not supported by the embedded engine (find, count, distinct, aggregate, update, delete are)`);
  }
}

const explain: CommandHandler = (ctx) => {
  const inner = optionalDocument(ctx.body, 'explain');
  if (!inner) throw new CommandError(ErrorCodes.FailedToParse, `explain needs the command to explain as a document, e.g. { explain: { find: 'c', filter: {...} } }`);
  const verbosity = typeof ctx.body.verbosity === 'string' ? ctx.body.verbosity : 'allPlansExecution';
  const { collectionName, filter, run } = explainedSelection(ctx, inner);
  const started = process.hrtime.bigint();
  const stats = run();
  const millis = Number(process.hrtime.bigint() - started) / 1e6;
  const winningPlan = winningPlanOf(stats.indexName, stats.keyPattern, filter);
  const reply: Document = {
    explainVersion: '1',
    queryPlanner: { namespace: `${ctx.db}.${collectionName}`, parsedQuery: filter, winningPlan, rejectedPlans: [] },
  };
  if (verbosity !== 'queryPlanner') {
    reply.executionStats = {
      executionSuccess: true,
      nReturned: stats.nReturned,
      executionTimeMillis: Math.round(millis),
      totalKeysExamined: stats.keysExamined,
      totalDocsExamined: stats.docsExamined,
      executionStages: { ...winningPlan, nReturned: stats.nReturned, docsExamined: stats.docsExamined },
    };
  }
  return { ...reply, command: inner, serverInfo: { host: 'localhost', port: 0, version: SERVER_VERSION, gitVersion: 'lora-registry-embedded' }, ok: 1 };
};

export const explainCommands: Record<string, CommandHandler> = { explain };
