// Which pub/sub a process uses, from the server config's `pubsub` section (PUBSUB and
// REDIS_URL override it, see src/server/config.ts): `memory` (default: one process serves
// the API and runs the jobs, no Redis needed) or `redis` (API replicas and workers share
// live events through Redis, src/jobs/redis-pubsub.ts).
import { InMemoryPubSub, type PubSub } from './pubsub.ts';
import { RedisPubSub, redactRedisUrl } from './redis-pubsub.ts';

export const PUBSUB_KINDS = ['memory', 'redis'] as const;
export type PubSubKind = (typeof PUBSUB_KINDS)[number];

export interface PubSubSettings {
  kind: PubSubKind;
  /** The Redis to use when kind is redis (the BullMQ queue uses it too). */
  url: string;
  /** Prefix of every Redis channel. */
  channelPrefix: string;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_CHANNEL_PREFIX = 'lora-registry:';

const KNOWN_KEYS = ['kind', 'url', 'channelPrefix'];

export function pubsubSettingsFrom(section: unknown): PubSubSettings {
  if (section != null && (typeof section !== 'object' || Array.isArray(section))) {
    throw new Error(`pubsub must be a mapping (kind, url, channelPrefix), got ${JSON.stringify(section)}.`);
  }
  const given = (section ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!KNOWN_KEYS.includes(key)) throw new Error(`pubsub.${key} is not a setting; known: ${KNOWN_KEYS.join(', ')}.`);
  }
  const kind = given.kind ?? 'memory';
  if (!PUBSUB_KINDS.includes(kind as PubSubKind)) {
    throw new Error(`pubsub.kind (or PUBSUB) must be one of ${PUBSUB_KINDS.join(', ')}, got ${JSON.stringify(kind)}.`);
  }
  const url = given.url ?? DEFAULT_REDIS_URL;
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new Error(`pubsub.url (or REDIS_URL) must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}.`);
  }
  const channelPrefix = given.channelPrefix ?? DEFAULT_CHANNEL_PREFIX;
  if (typeof channelPrefix !== 'string') throw new Error(`pubsub.channelPrefix must be a string, got ${JSON.stringify(channelPrefix)}.`);
  return { kind: kind as PubSubKind, url, channelPrefix };
}

export interface OpenPubSub {
  pubsub: PubSub;
  close(): Promise<void>;
}

export async function openPubSub(settings: PubSubSettings, log: (line: string) => void): Promise<OpenPubSub> {
  if (settings.kind === 'memory') return { pubsub: new InMemoryPubSub(), close: async () => {} };
  const pubsub = await RedisPubSub.connect({ url: settings.url, channelPrefix: settings.channelPrefix, log });
  log(`pub/sub: Redis at ${redactRedisUrl(settings.url)}, channels ${settings.channelPrefix}*`);
  return { pubsub, close: () => pubsub.close() };
}
