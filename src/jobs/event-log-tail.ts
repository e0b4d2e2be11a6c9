// Follows a run's event log (the training process's stdout, written straight to a file) from
// a byte offset, and hands over complete lines with the offset just past each one. The file
// is the run's durable spool: whatever the server or the database does, the child keeps
// writing it, and the ingest resumes from the last offset it committed.
import { open, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

export interface LogLine {
  text: string;
  /** Byte offset just past this line's newline: where reading resumes once the line is committed. */
  endOffset: number;
}

const READ_CHUNK_BYTES = 1 << 20;

export class EventLogTail {
  private offset: number;
  private remainder = Buffer.alloc(0);
  private chunk: Buffer | null = null;
  private handle: FileHandle | null = null;
  private watcher: FSWatcher | null = null;
  private wake: (() => void) | null = null;
  private changed = true;

  constructor(
    readonly file: string,
    startOffset: number,
  ) {
    this.offset = startOffset;
  }

  private watching = false;

  /** Starts change notifications; `waitForChange` then returns as soon as the file grows. */
  watch(): void {
    this.watching = true;
    if (this.watcher) return;
    try {
      this.watcher = watch(this.file, () => this.signal());
      this.watcher.on('error', () => undefined);
    } catch {
      // The file does not exist yet (readLines tries again once it does), or the file system
      // has no notifications: waitForChange then falls back to its timeout.
    }
  }

  private signal(): void {
    this.changed = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Resolves on the next change notification, or after `timeoutMs` (a poll, in case one was missed). */
  waitForChange(timeoutMs: number): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.changed = false;
        resolve();
      };
    });
  }

  /** Wakes a pending waitForChange (used to stop following). */
  interrupt(): void {
    this.signal();
  }

  /** Reading restarts at `offset` (after a failed commit: the uncommitted lines are read again). */
  rewind(offset: number): void {
    this.offset = offset;
    this.remainder = Buffer.alloc(0);
  }

  /** The complete lines written since the last read. A partial last line waits for its newline. */
  async readLines(): Promise<LogLine[]> {
    if (!this.handle) {
      try {
        this.handle = await open(this.file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    }
    if (this.watching && !this.watcher) this.watch();
    const lines: LogLine[] = [];
    // One read buffer for the tail's life: a fresh 1 MiB per wake-up (one per trainer step) costs more than the step's parsing.
    const chunk = (this.chunk ??= Buffer.allocUnsafe(READ_CHUNK_BYTES));
    for (;;) {
      const { bytesRead } = await this.handle.read(chunk, 0, READ_CHUNK_BYTES, this.offset + this.remainder.length);
      if (bytesRead === 0) break;
      const data = this.remainder.length > 0 ? Buffer.concat([this.remainder, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        const endOffset = this.offset + nl + 1;
        lines.push({ text: data.toString('utf8', start, nl), endOffset });
        start = nl + 1;
      }
      this.offset += start;
      this.remainder = Buffer.from(data.subarray(start));
      if (bytesRead < READ_CHUNK_BYTES) break;
    }
    return lines;
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    this.signal();
    await this.handle?.close();
    this.handle = null;
  }
}
