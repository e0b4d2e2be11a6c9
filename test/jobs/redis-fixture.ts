// The real Redis the scale-out tests use (127.0.0.1:6379, or REDIS_URL), and channel/queue
// prefixes unique to one test run so that test files running in parallel never cross.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}:`;
}

/** A plain client for what the test itself asks Redis (NUMSUB, CLIENT LIST, CLIENT KILL). */
export function adminClient(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
}
