// `lora-registry db`: run the embedded MongoDB-wire engine as its own process and print its URI.
import path from 'node:path';
import { startEmbeddedMongo } from '../../embedded/index.ts';
import { parseCommandLine } from '../command-line.ts';

export const summary = 'run the embedded MongoDB-wire engine (development and test database) and print its mongodb:// URI';

const usage = `Usage: lora-registry db [--port N] [--host H] [--data-dir D] [--quiet]

Starts the embedded engine, a development and test database that speaks the MongoDB wire
protocol, and prints its mongodb:// URI. Production uses MongoDB through MONGODB_URI.

  --port N       TCP port (default 27017; 0 picks a free port)
  --host H       interface to bind (default 127.0.0.1; the engine has no authentication)
  --data-dir D   where the journal lives (default ./data/embedded-mongo)
  --quiet        no log lines`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommandLine(argv, { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' }, quiet: { type: 'boolean' } }, usage, 'lora-registry db');
  if (typeof values === 'number') return values;
  const port = values.port === undefined ? 27017 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`lora-registry db: --port must be an integer from 0 to 65535, got "${values.port}"`);
    return 2;
  }
  const dataDir = path.resolve(values['data-dir'] ?? path.join('data', 'embedded-mongo'));
  const engine = await startEmbeddedMongo({ dataDir, port, host: values.host, quiet: values.quiet });
  console.log(engine.uri);
  if (!values.quiet) console.error(`embedded mongo: serving ${engine.uri} from ${dataDir} (development and test engine; Ctrl-C to stop)`);
  // The engine does not hold the process open by itself; this command serves until a signal.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    const shutdown = () => resolve();
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  clearInterval(keepAlive);
  await engine.stop();
  return 0;
}
