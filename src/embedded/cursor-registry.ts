// Open cursors: the rest of a result waiting for getMore. Results are materialized when the
// cursor opens (a snapshot: later writes do not show through, which MongoDB allows).
import type { Document } from 'bson';

export interface OpenCursor {
  id: number;
  ns: string;
  docs: Document[];
  position: number;
  /** Applied to each batch as it is sent (e.g. a find projection on copies). */
  transform?: (docs: Document[]) => Document[];
  lastUsed: number;
}

/** Idle cursors close after this long, as mongod's cursorTimeoutMillis (10 minutes). */
const CURSOR_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export class CursorRegistry {
  private readonly cursors = new Map<number, OpenCursor>();
  private nextId = 1;

  open(ns: string, docs: Document[], position: number, transform?: (docs: Document[]) => Document[]): OpenCursor {
    this.closeIdle();
    // Ids stay within 2^53 so they round-trip through Long and JavaScript numbers alike.
    const id = this.nextId++ * 7919 + Math.floor(Math.random() * 7919);
    const cursor = { id, ns, docs, position, transform, lastUsed: Date.now() };
    this.cursors.set(id, cursor);
    return cursor;
  }

  get(id: number): OpenCursor | undefined {
    const cursor = this.cursors.get(id);
    if (cursor) cursor.lastUsed = Date.now();
    return cursor;
  }

  close(id: number): boolean {
    return this.cursors.delete(id);
  }

  closeAll(): void {
    this.cursors.clear();
  }

  private closeIdle(): void {
    const cutoff = Date.now() - CURSOR_IDLE_TIMEOUT_MS;
    for (const [id, cursor] of this.cursors) if (cursor.lastUsed < cutoff) this.cursors.delete(id);
  }
}
