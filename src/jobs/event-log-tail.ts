// Follows a run's event log (the training process's stdout, written straight to a file) from
// a byte offset, and hands over complete lines with the offset just past each one. The file
// is the run's durable spool: whatever the server or the database does, the child keeps
// writing it, and the ingest resumes from the last offset it committed.
//
// Reads are synchronous: the tail reads what the child wrote a moment ago, from the page
// cache, a few hundred bytes per trainer step. An asynchronous read costs a thread-pool
// round trip per step (measured: twice the CPU of the rest of the tail's work), and that CPU
// is taken from the trainer on a machine with as many trainer threads as cores.
import { closeSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';

export interface LogLine {
  text: string;
  /** Byte offset just past this line's newline: where reading resumes once the line is committed. */
  endOffset: number;
}

const READ_CHUNK_BYTES = 1 << 20;
const EMPTY = Buffer.alloc(0);

export class EventLogTail {
  private offset: number;
  private remainder = EMPTY;
  private chunk: Buffer | null = null;
  private fd: number | null = null;
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private changed = true;
  /** Whether the last `readLines` reached the end of the file (false: more is waiting). */
  caughtUp = true;

  constructor(
    readonly file: string,
    startOffset: number,
  ) {
    this.offset = startOffset;
  }

  /**
   * Starts change notifications, and a poll every `pollMs` in case one is missed or the file
   * system has none: `waitForChange` returns at whichever comes first. One interval for the
   * tail's life rather than a timeout per wait: arming and clearing a timer at every trainer
   * step cost as much CPU as reading the step.
   */
  watch(pollMs: number): void {
    this.poll ??= setInterval(() => this.signal(), pollMs);
    this.startWatcher();
  }

  private startWatcher(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.file, () => this.signal());
      this.watcher.on('error', () => undefined);
    } catch {
      // The file does not exist yet (readLines tries again once it does), or the file system
      // has no notifications: the poll stands in.
    }
  }

  private signal(): void {
    this.changed = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Resolves at the next change notification, poll or interrupt (at once if one came since the last call). */
  waitForChange(): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = () => {
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
    this.remainder = EMPTY;
  }

  /**
   * The complete lines of the next chunk (up to 1 MiB) written since the last read; a
   * partial last line waits for its newline. `caughtUp` then tells whether the read reached
   * the end of the file: a backlog is read chunk by chunk, so that neither memory nor one
   * synchronous stretch grows with it.
   */
  readLines(): LogLine[] {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    }
    if (this.poll) this.startWatcher();
    const lines: LogLine[] = [];
    // One read buffer for the tail's life: a fresh 1 MiB per wake-up (one per trainer step) costs more than the step's parsing.
    const chunk = (this.chunk ??= Buffer.allocUnsafe(READ_CHUNK_BYTES));
    const bytesRead = readSync(this.fd, chunk, 0, READ_CHUNK_BYTES, this.offset + this.remainder.length);
    this.caughtUp = bytesRead < READ_CHUNK_BYTES;
    if (bytesRead === 0) return lines;
    const data = this.remainder.length > 0 ? Buffer.concat([this.remainder, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      const endOffset = this.offset + nl + 1;
      lines.push({ text: data.toString('utf8', start, nl), endOffset });
      start = nl + 1;
    }
    this.offset += start;
    this.remainder = start === data.length ? EMPTY : Buffer.from(data.subarray(start));
    return lines;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.signal();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
