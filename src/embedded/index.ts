// The embedded MongoDB-wire engine: a development and test database that the official
// `mongodb` driver reaches over a real socket. See README.md in this folder.
import { mkdirSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { Catalog } from './catalog.ts';
import { dispatchCommand } from './command-dispatcher.ts';
import type { EngineState } from './command-context.ts';
import { serveConnection } from './connection.ts';
import { CursorRegistry } from './cursor-registry.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { Journal, replayJournal } from './journal.ts';
import { sweepExpiredDocuments } from './ttl-sweeper.ts';

export interface EmbeddedMongoOptions {
  /** Directory holding the journal; created if missing. */
  dataDir: string;
  /** TCP port; 0 picks a free one (use 0 in tests). Default 27017. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1: the engine has no authentication. */
  host?: string;
  /** How often TTL indexes are enforced. Default 60000 ms, as mongod's ttlMonitorSleepSecs. */
  ttlSweepIntervalMs?: number;
  /** Compact the journal once it passes this many bytes (and twice its size after the last compaction). Default 64 MiB. */
  journalCompactAtBytes?: number;
  /** No log lines on stderr. */
  quiet?: boolean;
}

export interface EmbeddedMongo {
  /** `mongodb://host:port`, ready for `new MongoClient(uri)`. */
  uri: string;
  port: number;
  host: string;
  /** Stop accepting connections, finish pending journal writes, release the data directory. */
  stop(): Promise<void>;
}

const DEFAULT_COMPACT_AT_BYTES = 64 * 1024 * 1024;

export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const host = options.host ?? '127.0.0.1';
  const log = options.quiet ? () => {} : (line: string) => console.error(line);
  const compactAtBytes = options.journalCompactAtBytes ?? DEFAULT_COMPACT_AT_BYTES;
  mkdirSync(options.dataDir, { recursive: true });
  const unlock = lockDataDir(options.dataDir);
  try {
    const catalog = new Catalog();
    replayJournal(options.dataDir, (op) => catalog.apply(op), log);
    const journal = await Journal.open(options.dataDir, {
      compactAtBytes,
      snapshot: () => catalog.snapshot(),
      log,
    });
    // A journal that grew past the threshold (mostly dead records, or a crash before the
    // running engine got to it) is compacted before serving.
    if (journal.bytes > compactAtBytes) await journal.compactNow();
    const engine: EngineState = { catalog, cursors: new CursorRegistry(), startedAt: new Date() };

    const sockets = new Set<Socket>();
    let nextConnectionId = 1;
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      const connectionId = nextConnectionId++;
      serveConnection(socket, (command) => dispatchCommand(engine, journal, command, connectionId), log);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 27017, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as { port: number }).port;
    // The engine alone does not keep the process alive (its clients' sockets and the
    // application do): a forgotten stop() must not hang a test runner.
    server.unref();

    const sweep = setInterval(() => {
      const batch = sweepExpiredDocuments(catalog);
      if (batch.length) journal.commit(batch).catch((err: Error) => log(`embedded mongo: TTL deletions not journaled: ${err.message}`));
    }, options.ttlSweepIntervalMs ?? 60_000);
    sweep.unref();

    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        clearInterval(sweep);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        engine.cursors.closeAll();
        await journal.close();
        unlock();
      })());

    const uriHost = host.includes(':') ? `[${host}]` : host;
    return { uri: `mongodb://${uriHost}:${port}`, port, host, stop };
  } catch (err) {
    unlock();
    throw err;
  }
}
