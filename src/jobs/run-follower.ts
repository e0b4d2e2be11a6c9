// Follows one run's event log into the store until the run's process has exited and every
// line is committed. When the database is unreachable, training goes on (the process only
// writes its log file); the follower drops what it had not committed, waits, and reads the
// log again from the last committed offset, so each event is stored exactly once.
import { setImmediate } from 'node:timers/promises';
import { parseEventLine } from './event-protocol.ts';
import type { EventLogTail } from './event-log-tail.ts';
import type { RunIngest } from './run-ingest.ts';

export interface RunFollowerOptions {
  tail: EventLogTail;
  ingest: RunIngest;
  /** Offset up to which the log is already stored. */
  committedOffset: number;
  /** Longest wait between reads when no change notification arrives; also bounds how late a due flush is. */
  pollMs?: number;
  log?: (message: string) => void;
}

const MAX_RETRY_DELAY_MS = 5000;

export class RunFollower {
  private committedOffset: number;
  private processExited = false;
  private aborted = false;
  private readonly pollMs: number;
  /** Consecutive failed commits (database unreachable). */
  failures = 0;

  constructor(private readonly opts: RunFollowerOptions) {
    this.committedOffset = opts.committedOffset;
    this.pollMs = opts.pollMs ?? 200;
  }

  get offset(): number {
    return this.committedOffset;
  }

  /** The process has exited: read to the end of the log, commit, and return from `run`. */
  processHasExited(): void {
    this.processExited = true;
    this.opts.tail.interrupt();
  }

  /** Stop following now (server shutdown); uncommitted lines are read again at the next start. */
  abort(): void {
    this.aborted = true;
    this.opts.tail.interrupt();
  }

  async run(): Promise<void> {
    const { tail, ingest } = this.opts;
    tail.watch(this.pollMs);
    try {
      while (!this.aborted) {
        const exitedBeforeRead = this.processExited;
        try {
          const lines = tail.readLines();
          for (const line of lines) {
            const event = parseEventLine(line.text);
            if (!event) {
              ingest.skipLine(line.endOffset);
              continue;
            }
            if (ingest.accept(event, line.endOffset)) {
              await ingest.flush();
              await ingest.store(event, line.endOffset);
              this.committedOffset = line.endOffset;
            } else if (ingest.isFull()) {
              this.commit(await ingest.flush());
            }
          }
          const atEnd = exitedBeforeRead && lines.length === 0 && tail.caughtUp;
          // A backlog is stored in batches as large as isFull allows (fewer, larger writes).
          if ((tail.caughtUp && ingest.isDue()) || atEnd) this.commit(await ingest.flush());
          if (atEnd) return;
          this.failures = 0;
        } catch (err) {
          this.failures++;
          ingest.discardPending();
          tail.rewind(this.committedOffset);
          const retryInMs = Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** Math.min(this.failures, 6));
          this.opts.log?.(`experimentId=${ingest.experimentIdHex} storing events failed (${(err as Error).message}); the event log keeps them, retrying in ${retryInMs} ms`);
          await this.backOff(retryInMs);
          continue;
        }
        // A backlog is read on at once, letting other work in between chunks; so is the rest
        // of the log once the process has exited. Otherwise wait for the log to grow; the
        // tail's poll also wakes this loop, so buffered points are flushed at most a poll
        // after they are due.
        if (!tail.caughtUp) await setImmediate();
        else if (!this.processExited) await tail.waitForChange();
      }
    } finally {
      tail.close();
    }
  }

  /** Waits `ms` before a retry, waking at the tail's polls to stop early on `abort`. */
  private async backOff(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.aborted && Date.now() < until) await this.opts.tail.waitForChange();
  }

  private commit(offset: number | null): void {
    if (offset !== null) this.committedOffset = offset;
  }
}
