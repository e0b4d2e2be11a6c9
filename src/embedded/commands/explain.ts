// explain: the plan the engine chose (IXSCAN on an index, or COLLSCAN) and, for the
// executionStats verbosity, how many keys and documents it examined.
import type { Document } from 'bson';
import type { CommandContext, CommandHandler } from '../command-context.ts';
import { collectionArgument, optionalDocument } from '../command-arguments.ts';
import { CommandError, ErrorCodes } from '../command-error.ts';
import { selectDocuments } from '../document-query.ts';
import { SERVER_VERSION } from './handshake.ts';
import { findSelection } from './reads.ts';
import { runPipeline, winningPlanOf } from './aggregate.ts';

function explainedSelection(ctx: CommandContext, inner: Document): { command: string; filter: Document; collectionName: string; run: () => { nReturned: number; docsExamined: number; keysExamined: number; indexName: string | null; keyPattern?: Document } } {
  const command = Object.keys(inner)[0];
  const collection = (name: string) => ctx.engine.catalog.collection(ctx.db, name);
  switch (command) {
    case 'find': {
      const collectionName = collectionArgument(inner, 'find');
      return { command, collectionName, filter: optionalDocument(inner, 'filter') ?? {}, run: () => {
        const { selection } = findSelection(ctx, inner);
        return { nReturned: selection.docs.length, docsExamined: selection.docsExamined, keysExamined: selection.plan.keysExamined, indexName: selection.plan.indexName, keyPattern: selection.plan.keyPattern };
      } };
    }
    case 'count':
    case 'distinct': {
      const collectionName = collectionArgument(inner, command);
      const filter = optionalDocument(inner, 'query') ?? {};
      return { command, collectionName, filter, run: () => {
        const s = selectDocuments(collection(collectionName), filter);
        return { nReturned: s.docs.length, docsExamined: s.docsExamined, keysExamined: s.plan.keysExamined, indexName: s.plan.indexName, keyPattern: s.plan.keyPattern };
      } };
    }
    case 'aggregate': {
      const collectionName = collectionArgument(inner, 'aggregate');
      const pipeline = (inner.pipeline ?? []) as Document[];
      const filter = pipeline[0] && '$match' in pipeline[0] ? (pipeline[0].$match as Document) : {};
      return { command, collectionName, filter, run: () => {
        const { docs, selection } = runPipeline(ctx, collectionName, pipeline, {});
        return { nReturned: docs.length, docsExamined: selection?.docsExamined ?? 0, keysExamined: selection?.plan.keysExamined ?? 0, indexName: selection?.plan.indexName ?? null, keyPattern: selection?.plan.keyPattern };
      } };
    }
    case 'delete':
    case 'update': {
      const collectionName = collectionArgument(inner, command);
      const statements = (inner[command === 'delete' ? 'deletes' : 'updates'] ?? []) as Document[];
      const filter = (statements[0]?.q ?? {}) as Document;
      return { command, collectionName, filter, run: () => {
        const s = selectDocuments(collection(collectionName), filter);
        return { nReturned: s.docs.length, docsExamined: s.docsExamined, keysExamined: s.plan.keysExamined, indexName: s.plan.indexName, keyPattern: s.plan.keyPattern };
      } };
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
