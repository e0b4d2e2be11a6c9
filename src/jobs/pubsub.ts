// Publish/subscribe for live training events. The API serves subscriptions from it; the
// ingest path publishes into it. In-memory by default (one process serves the API and runs
// the jobs); a Redis-backed implementation can replace it behind the same interface when
// API replicas must share subscriptions.

export interface PubSub {
  publish(topic: string, payload: unknown): void;
  /** Live payloads of `topic` from now on; `return()` on the iterator unsubscribes. */
  subscribe<T>(topic: string): AsyncIterableIterator<T>;
  subscriberCount(topic: string): number;
}

/** A slow subscriber keeps at most this many unread payloads; older ones are dropped. */
const MAX_BUFFERED_PER_SUBSCRIBER = 10_000;

class Subscription<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  push(payload: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: payload, done: false });
      return;
    }
    if (this.buffer.length >= MAX_BUFFERED_PER_SUBSCRIBER) this.buffer.shift();
    this.buffer.push(payload);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.closed) {
      this.closed = true;
      this.buffer.length = 0;
      this.onClose();
      const resolve = this.waiting;
      this.waiting = null;
      resolve?.({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

export class InMemoryPubSub implements PubSub {
  private readonly topics = new Map<string, Set<Subscription<unknown>>>();

  publish(topic: string, payload: unknown): void {
    const subs = this.topics.get(topic);
    if (!subs) return;
    for (const sub of subs) sub.push(payload);
  }

  subscribe<T>(topic: string): AsyncIterableIterator<T> {
    let subs = this.topics.get(topic);
    if (!subs) this.topics.set(topic, (subs = new Set()));
    const sub: Subscription<unknown> = new Subscription(() => {
      subs.delete(sub);
      if (subs.size === 0) this.topics.delete(topic);
    });
    subs.add(sub);
    return sub as AsyncIterableIterator<T>;
  }

  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }
}
