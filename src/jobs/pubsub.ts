// Publish/subscribe for live training events. The API serves subscriptions from it; the
// ingest path publishes into it. In-memory by default (one process serves the API and runs
// the jobs); RedisPubSub (redis-pubsub.ts) replaces it behind the same interface when API
// replicas must share subscriptions.

export interface PubSub {
  publish(topic: string, payload: unknown): void;
  /** Live payloads of `topic` from now on; `return()` on the iterator unsubscribes. */
  subscribe<T>(topic: string): LiveSubscription<T>;
  /** Subscribers of `topic` in this process. */
  subscriberCount(topic: string): number;
}

export interface LiveSubscription<T> extends AsyncIterableIterator<T> {
  /**
   * Settles once payloads published from now on are sure to arrive (at once in memory; when
   * Redis has acknowledged the SUBSCRIBE for RedisPubSub). Read state after it, not before.
   */
  readonly ready: Promise<void>;
}

/** A slow subscriber keeps at most this many unread payloads; older ones are dropped. */
export const MAX_BUFFERED_PER_SUBSCRIBER = 10_000;

const SUBSCRIBED: Promise<void> = Promise.resolve();

/** One subscriber's bounded buffer of payloads, read as an async iterator. */
class Subscription<T> implements LiveSubscription<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private closed = false;

  constructor(
    private readonly onClose: () => void,
    readonly ready: Promise<void> = SUBSCRIBED,
  ) {}

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

/** The subscribers of each topic in this process, shared by the PubSub implementations. */
export class TopicSubscribers {
  private readonly topics = new Map<string, Set<Subscription<unknown>>>();

  /** A new subscriber of `topic`; `onLastLeft` runs when the topic's last subscriber leaves. */
  add<T>(topic: string, ready?: Promise<void>, onLastLeft?: () => void): LiveSubscription<T> {
    let subs = this.topics.get(topic);
    if (!subs) this.topics.set(topic, (subs = new Set()));
    const sub: Subscription<unknown> = new Subscription(() => {
      subs.delete(sub);
      if (subs.size > 0) return;
      this.topics.delete(topic);
      onLastLeft?.();
    }, ready);
    subs.add(sub);
    return sub as LiveSubscription<T>;
  }

  deliver(topic: string, payload: unknown): void {
    const subs = this.topics.get(topic);
    if (!subs) return;
    for (const sub of subs) sub.push(payload);
  }

  count(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }
}

export class InMemoryPubSub implements PubSub {
  private readonly subscribers = new TopicSubscribers();

  publish(topic: string, payload: unknown): void {
    this.subscribers.deliver(topic, payload);
  }

  subscribe<T>(topic: string): LiveSubscription<T> {
    return this.subscribers.add<T>(topic);
  }

  subscriberCount(topic: string): number {
    return this.subscribers.count(topic);
  }
}
