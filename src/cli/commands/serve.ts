// `lora-registry serve [--port N] [--config FILE]`: the API on one port until SIGINT/SIGTERM.
import { createServer } from '../../server/create-server.ts';
import { loadServerConfig, parsePort } from '../../server/config.ts';
import { drainOnSignal } from '../drain-on-signal.ts';
import { parseCommandLine } from '../command-line.ts';

export const summary = 'Serve the GraphQL API (HTTP + WebSocket at /graphql, /healthz) on PORT (default 4000).';

const USAGE = `Usage: lora-registry serve [--port N] [--config FILE]

  --port N       port to listen on (default: PORT, then the config file, then 4000; 0 = any free port)
  --config FILE  server settings in YAML (default: configs/server.yaml when present)

Environment: PORT, HOST, MONGODB_URI (unset: the embedded engine, data in DATA_DIR/db),
DATA_DIR (default ./data), WORKSPACE_DIR (default ./runs), PUBSUB (memory or redis: API
replicas share subscriptions through Redis), REDIS_URL (default redis://127.0.0.1:6379).`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommandLine(argv, { port: { type: 'string' }, config: { type: 'string' } }, USAGE, 'lora-registry serve');
  if (typeof values === 'number') return values;
  const config = loadServerConfig({ file: values.config });
  if (values.port !== undefined) config.port = parsePort('--port', values.port);

  const server = await createServer({
    port: config.port,
    host: config.host,
    mongoUri: config.mongoUri,
    dataDir: config.dataDir,
    workspaceDir: config.workspaceDir,
    limits: config.limits,
    jobs: config.jobs,
    pubsub: config.pubsub,
  });
  const database = config.mongoUri ? 'MongoDB at MONGODB_URI' : `the embedded engine (development/test only), data in ${config.dataDir}/db`;
  console.log(`lora-registry serving ${server.url} (subscriptions: ${server.wsUrl}), health: ${server.url.replace(/\/graphql$/, '/healthz')}; database: ${database}`);

  await drainOnSignal('lora-registry', 'connections', () => server.stop());
  return 0;
}
