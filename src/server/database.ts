// Where the data lives: MongoDB at `mongoUri`, or, when none is given, the embedded
// MongoDB-wire engine (development and tests) with its files under `dataDir`/db.
import path from 'node:path';
import { startEmbeddedMongo } from '../embedded/index.ts';
import { connectDatabase, type DatabaseConnection } from '../store/connection.ts';

export interface DatabaseHandle {
  connection: DatabaseConnection;
  /** The URI the driver connected to (the embedded engine's when it was started). */
  uri: string;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabase(options: {
  mongoUri?: string;
  dataDir: string;
  monitorCommands?: boolean;
}): Promise<DatabaseHandle> {
  if (options.mongoUri) {
    const connection = await connectDatabase({ uri: options.mongoUri, monitorCommands: options.monitorCommands });
    return { connection, uri: options.mongoUri, embedded: false, close: () => connection.close() };
  }
  const engine = await startEmbeddedMongo({ dataDir: path.join(options.dataDir, 'db'), port: 0, host: '127.0.0.1', quiet: true });
  try {
    const connection = await connectDatabase({ uri: engine.uri, monitorCommands: options.monitorCommands });
    return {
      connection,
      uri: engine.uri,
      embedded: true,
      async close() {
        await connection.close();
        await engine.stop();
      },
    };
  } catch (err) {
    await engine.stop();
    throw err;
  }
}
