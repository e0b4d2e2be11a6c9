// Pub/sub through Redis, for API replicas (and workers) that must share live events: what
// one process publishes reaches the subscribers of every process. One publisher connection
// and one subscriber connection per process; a topic is SUBSCRIBEd when its first local
// subscriber arrives and UNSUBSCRIBEd when its last one leaves, and each Redis message is
// parsed once and handed to the topic's local subscribers (bounded buffers, as in memory).
//
// Payloads travel as relaxed Extended JSON (EJSON of the driver's own BSON, so ObjectIds
// come back as the driver's class): the experiment documents of experimentUpdated carry
// ObjectIds and Dates that the Experiment resolvers read as such (`_id.toHexString()`,
// DataLoader keys), and progress events carry Dates.
//
// When Redis goes away while running, the API stays up: live events between processes pause,
// ioredis reconnects and resubscribes every topic (autoResubscribe), and each connection logs
// the loss once and the recovery once. Publishes meanwhile are dropped, not queued: they are
// live views, and the store keeps the history.
import { Redis } from 'ioredis';
import { BSON } from 'mongodb';
import { TopicSubscribers, type LiveSubscription, type PubSub } from './pubsub.ts';

export interface RedisPubSubOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Every channel is `<channelPrefix><topic>`, so deployments (and tests) sharing a Redis stay apart. */
  channelPrefix: string;
  log?: (line: string) => void;
}

/** The URL as it may appear in logs: without its password. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

export class RedisPubSub implements PubSub {
  private readonly subscribers = new TopicSubscribers();
  /** Topics SUBSCRIBEd on Redis, each with the acknowledgement of its SUBSCRIBE. */
  private readonly subscribed = new Map<string, Promise<void>>();
  private readonly prefix: string;
  private readonly log: (line: string) => void;
  private closing = false;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly options: RedisPubSubOptions,
  ) {
    this.prefix = options.channelPrefix;
    this.log = options.log ?? (() => {});
    subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  /** Connects both connections; a Redis that cannot be reached is a start-up error saying what to do. */
  static async connect(options: RedisPubSubOptions): Promise<RedisPubSub> {
    const where = redactRedisUrl(options.url);
    const name = options.channelPrefix.replace(/[^\w:.-]/g, '_');
    let firstError: Error | null = null;
    const open = (role: 'publisher' | 'subscriber') => {
      const client = new Redis(options.url, {
        lazyConnect: true,
        connectionName: `${name}${role}`,
        // The subscriber waits out an outage (its SUBSCRIBEs are replayed); the publisher drops.
        enableOfflineQueue: role === 'subscriber',
        maxRetriesPerRequest: role === 'subscriber' ? null : 1,
      });
      client.on('error', (err: Error) => (firstError ??= err));
      return client;
    };
    const publisher = open('publisher');
    const subscriber = open('subscriber');
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    } catch (err) {
      publisher.disconnect();
      subscriber.disconnect();
      const reason = (firstError ?? (err as Error)).message;
      throw new Error(
        `pub/sub: cannot reach Redis at ${where} (${reason}). Start Redis there, point REDIS_URL (pubsub.url in the server config) at a running one, or set PUBSUB=memory (pubsub.kind: memory) to serve from one process without Redis.`,
      );
    }
    const pubsub = new RedisPubSub(publisher, subscriber, options);
    pubsub.reportOutages(publisher, 'publisher', where);
    pubsub.reportOutages(subscriber, 'subscriber', where);
    return pubsub;
  }

  publish(topic: string, payload: unknown): void {
    // A failed publish is reported through the connection's own outage log line.
    this.publisher.publish(this.prefix + topic, BSON.EJSON.stringify(payload, { relaxed: true })).catch(() => undefined);
  }

  subscribe<T>(topic: string): LiveSubscription<T> {
    let ready = this.subscribed.get(topic);
    if (!ready) {
      ready = this.subscriber.subscribe(this.prefix + topic).then(() => undefined);
      ready.catch(() => undefined); // the subscriber that awaits it sees the error
      this.subscribed.set(topic, ready);
    }
    return this.subscribers.add<T>(topic, ready, () => {
      this.subscribed.delete(topic);
      this.subscriber.unsubscribe(this.prefix + topic).catch(() => undefined);
    });
  }

  /** Subscribers in this process only; other processes' subscribers are not counted. */
  subscriberCount(topic: string): number {
    return this.subscribers.count(topic);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private receive(channel: string, message: string): void {
    if (!channel.startsWith(this.prefix)) return;
    const topic = channel.slice(this.prefix.length);
    if (this.subscribers.count(topic) === 0) return;
    let payload: unknown;
    try {
      payload = BSON.EJSON.parse(message, { relaxed: true });
    } catch (err) {
      this.log(`pub/sub: dropped a message on Redis channel ${channel} that is not Extended JSON (${(err as Error).message})`);
      return;
    }
    this.subscribers.deliver(topic, payload);
  }

  /** One line when a connection is lost, one when it is back: not one per retry. */
  private reportOutages(client: Redis, role: string, where: string): void {
    let up = true;
    const lost = (reason: string) => {
      if (!up || this.closing) return;
      up = false;
      this.log(`pub/sub: lost the Redis ${role} connection to ${where} (${reason}); the API stays up, live events between processes pause while it reconnects`);
    };
    client.on('error', (err: Error) => lost(err.message));
    client.on('close', () => lost('connection closed'));
    client.on('ready', () => {
      if (up) return;
      up = true;
      const topics = role === 'subscriber' ? `, ${this.subscribed.size} topic(s) resubscribed` : '';
      this.log(`pub/sub: Redis ${role} connection to ${where} is back${topics}`);
    });
  }
}
