// Connection-level commands: the hello handshake (a standalone server), ping, buildInfo and
// the session and diagnostic commands the driver and tools send.
import type { Document } from 'bson';
import type { CommandHandler } from '../command-context.ts';
import { MAX_BSON_OBJECT_BYTES, MAX_MESSAGE_BYTES } from '../wire-protocol.ts';

/** The server version this engine presents: wire version 21 is MongoDB 7.0. */
export const SERVER_VERSION = '7.0.0';
const MIN_WIRE_VERSION = 0;
const MAX_WIRE_VERSION = 21;

// No topologyVersion: with one, the driver switches its monitor to streaming (exhaust) hello,
// which a standalone that never changes topology has no reason to serve. Polling it is.
const hello: CommandHandler = (ctx) => ({
  helloOk: true,
  isWritablePrimary: true,
  ismaster: true,
  maxBsonObjectSize: MAX_BSON_OBJECT_BYTES,
  maxMessageSizeBytes: MAX_MESSAGE_BYTES,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: ctx.connectionId,
  minWireVersion: MIN_WIRE_VERSION,
  maxWireVersion: MAX_WIRE_VERSION,
  readOnly: false,
  ok: 1,
});

const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'lora-registry-embedded',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: MAX_BSON_OBJECT_BYTES,
  storageEngines: ['embedded-journal'],
  modules: [],
  ok: 1,
});

const ok: CommandHandler = () => ({ ok: 1 });

const listDatabases: CommandHandler = (ctx) => {
  const nameOnly = Boolean(ctx.body.nameOnly);
  const databases = [...ctx.engine.catalog.databases.keys()].sort().map((name) => {
    if (nameOnly) return { name };
    let documents = 0;
    for (const collection of ctx.engine.catalog.databases.get(name)!.values()) documents += collection.documents.size;
    return { name, sizeOnDisk: documents * 1024, empty: documents === 0 };
  });
  return nameOnly ? { databases, ok: 1 } : { databases, totalSize: databases.reduce((s, d) => s + ((d as Document).sizeOnDisk as number), 0), ok: 1 };
};

export const handshakeCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  endSessions: ok,
  killSessions: ok,
  refreshSessions: ok,
  listDatabases,
  whatsmyuri: () => ({ you: '127.0.0.1:0', ok: 1 }),
  getParameter: (ctx) => ({ ...(ctx.body.featureCompatibilityVersion ? { featureCompatibilityVersion: { version: '7.0' } } : {}), ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['lora-registry', 'db'], parsed: {}, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: 'localhost' }, os: { type: process.platform }, extra: {}, ok: 1 }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  serverStatus: (ctx) => ({ host: 'localhost', version: SERVER_VERSION, process: 'lora-registry-embedded', uptime: (Date.now() - ctx.engine.startedAt.getTime()) / 1000, localTime: new Date(), ok: 1 }),
};
