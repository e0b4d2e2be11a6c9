// Opening the database through the official driver, wherever it runs (MongoDB or the
// embedded engine: both are a `mongodb://` URI to the driver).
import { MongoClient, type Db } from 'mongodb';

export const DEFAULT_DB_NAME = 'lora_registry';

export interface DatabaseConnection {
  client: MongoClient;
  db: Db;
  /** True when a ping round trip succeeds within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  uri: string;
  /** Emit `commandStarted` events on the client (tests count round trips with them). */
  monitorCommands?: boolean;
}

/** The database named in the URI path (`mongodb://host/name`), else lora_registry. */
export function databaseNameFromUri(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(uri);
  return match?.[1] ? decodeURIComponent(match[1]) : DEFAULT_DB_NAME;
}

export async function connectDatabase(options: ConnectOptions): Promise<DatabaseConnection> {
  // Options in the URI win over our defaults (the driver lets client options win otherwise).
  const uriSetsSelectionTimeout = /[?&]serverSelectionTimeoutMS=/i.test(options.uri);
  const client = new MongoClient(options.uri, {
    monitorCommands: options.monitorCommands ?? false,
    ...(uriSetsSelectionTimeout ? {} : { serverSelectionTimeoutMS: 10_000 }),
    appName: 'lora-registry',
  });
  await client.connect();
  const db = client.db(databaseNameFromUri(options.uri));
  return {
    client,
    db,
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([db.command({ ping: 1 }).then(() => true, () => false), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => client.close(),
  };
}
