// Resolvers of the root fields every deployment has: server info, ping, the clock.
import packageJson from '../../package.json' with { type: 'json' };
import type { Resolvers } from './generated/resolvers-types.ts';
import { tickingClock } from './server-clock.ts';

const SERVER_STARTED_AT = new Date();

async function* serverTimeEvents(): AsyncGenerator<{ serverTime: Date }> {
  for await (const now of tickingClock(1000)) yield { serverTime: now };
}

export const rootResolvers: Resolvers = {
  Query: {
    serverInfo: () => ({ version: packageJson.version, startedAt: SERVER_STARTED_AT }),
  },
  Mutation: {
    ping: (_root, args) => `pong${args.note ? `: ${args.note}` : ''}`,
  },
  Subscription: {
    serverTime: { subscribe: () => serverTimeEvents() },
  },
  ServerInfo: {
    uptimeSeconds: (info) => (Date.now() - info.startedAt.getTime()) / 1000,
  },
};
