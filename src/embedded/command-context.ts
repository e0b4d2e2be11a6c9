// What a command handler receives and returns.
import type { Document } from 'bson';
import type { Catalog, WriteBatch } from './catalog.ts';
import type { CursorRegistry } from './cursor-registry.ts';

export interface EngineState {
  catalog: Catalog;
  cursors: CursorRegistry;
  startedAt: Date;
}

export interface CommandContext {
  engine: EngineState;
  /** The command's database (`$db`). */
  db: string;
  body: Document;
  /** Raw BSON of document-sequence documents (OP_MSG kind 1), aligned with body[identifier]. */
  rawSequences: Map<string, Uint8Array[]>;
  /** Journal operations this command produced; committed before the reply is sent. */
  batch: WriteBatch;
  connectionId: number;
}

/** A reply document, or a reply already encoded as BSON (cursor replies). */
export type CommandReply = Document | Uint8Array;

export type CommandHandler = (ctx: CommandContext) => CommandReply;
