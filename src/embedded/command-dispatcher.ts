// Routes a command to its handler, refuses what the engine does not do (transactions, unknown
// commands) the way MongoDB does, and holds the reply until the command's writes are on disk.
import { BSON, type Document } from 'bson';
import type { CommandContext, CommandHandler, EngineState } from './command-context.ts';
import { CommandError, ErrorCodes, commandErrorFrom } from './command-error.ts';
import type { IncomingCommand } from './wire-protocol.ts';
import type { Journal } from './journal.ts';
import { aggregateCommands } from './commands/aggregate.ts';
import { explainCommands } from './commands/explain.ts';
import { handshakeCommands } from './commands/handshake.ts';
import { namespaceCommands } from './commands/namespaces.ts';
import { readCommands } from './commands/reads.ts';
import { writeCommands } from './commands/writes.ts';

const handlers: Record<string, CommandHandler> = {
  ...handshakeCommands,
  ...readCommands,
  ...writeCommands,
  ...namespaceCommands,
  ...aggregateCommands,
  ...explainCommands,
};

const TRANSACTION_COMMANDS = new Set(['commitTransaction', 'abortTransaction']);

// mongod on a standalone answers IllegalOperation (20) here, but the driver replaces that
// message on writes with advice about retryable writes; CommandNotSupported keeps ours intact.
function refuseTransactions(name: string, body: Document): void {
  if (TRANSACTION_COMMANDS.has(name) || body.startTransaction !== undefined || body.autocommit !== undefined || body.txnNumber !== undefined) {
    throw new CommandError(ErrorCodes.CommandNotSupported, 'Transactions are not supported by the embedded engine (a standalone server without a replica set); use MongoDB through MONGODB_URI for transactions');
  }
}

export function errorReply(err: unknown): Document {
  const error = commandErrorFrom(err);
  return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName, ...error.details };
}

export async function dispatchCommand(engine: EngineState, journal: Journal, command: IncomingCommand, connectionId: number): Promise<Uint8Array> {
  const body = command.body;
  const name = Object.keys(body)[0] ?? '';
  const db = command.legacyDatabase ?? (typeof body.$db === 'string' ? body.$db : 'admin');
  const ctx: CommandContext = { engine, db, body, rawSequences: command.rawSequences, batch: [], connectionId };
  let reply: Document | Uint8Array;
  try {
    refuseTransactions(name, body);
    const handler = Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (!handler) throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
    reply = handler(ctx);
  } catch (err) {
    reply = errorReply(err);
  }
  if (ctx.batch.length > 0) {
    try {
      await journal.commit(ctx.batch);
    } catch (err) {
      reply = errorReply(new CommandError(ErrorCodes.InternalError, (err as Error).message));
    }
  }
  return reply instanceof Uint8Array ? reply : BSON.serialize(reply);
}
