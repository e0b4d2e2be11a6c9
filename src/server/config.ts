// Server configuration: built-in defaults, then a YAML file (configs/server.yaml), then
// environment variables (PORT, MONGODB_URI, DATA_DIR, WORKSPACE_DIR, PUBSUB, REDIS_URL,
// JOB_QUEUE), then CLI flags.
import { existsSync, readFileSync } from 'node:fs';

import yaml from 'js-yaml';

export interface RequestLimits {
  /**
   * Most lexical tokens a document may have, enforced while parsing: validation of a huge
   * document costs seconds (graphql's overlapping-fields check), so it never gets there.
   */
  maxTokens: number;
  /** Deepest field nesting an operation may have (introspection excluded). */
  maxDepth: number;
  /** Deepest nesting inside __schema/__type (the standard introspection query needs 15). */
  maxIntrospectionDepth: number;
  /** Most fields an operation may select, fragments counted where spread. */
  maxFields: number;
  maxAliases: number;
  /** Largest HTTP request body, in bytes. */
  maxBodyBytes: number;
  /** Largest WebSocket message, in bytes. */
  maxWebSocketMessageBytes: number;
}

export interface ServerConfig {
  port: number;
  host: string;
  /** MongoDB to use; unset: start the embedded engine with data under `dataDir`/db. */
  mongoUri?: string;
  dataDir: string;
  /** Run files may be deleted (deleteExperiment(deleteFiles: true)) only inside this directory. */
  workspaceDir: string;
  limits: RequestLimits;
  /** The job layer's section (concurrency, external-runner allow-list): validated by src/jobs/jobs-service.ts. */
  jobs?: Record<string, unknown>;
  /** Pub/sub (memory or redis, its URL and channel prefix): validated by src/jobs/pubsub-settings.ts. */
  pubsub?: Record<string, unknown>;
}

export const DEFAULT_LIMITS: RequestLimits = {
  maxTokens: 15_000,
  maxDepth: 10,
  maxIntrospectionDepth: 16,
  maxFields: 1000,
  maxAliases: 50,
  maxBodyBytes: 1024 * 1024,
  maxWebSocketMessageBytes: 1024 * 1024,
};

export const DEFAULT_CONFIG: ServerConfig = {
  port: 4000,
  host: '0.0.0.0',
  dataDir: './data',
  workspaceDir: './runs',
  limits: DEFAULT_LIMITS,
};

export const DEFAULT_CONFIG_FILE = 'configs/server.yaml';

/** Reads the YAML file (when it exists) and applies the environment over it. */
export function loadServerConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): ServerConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? DEFAULT_CONFIG_FILE;
  let fromFile: Partial<ServerConfig> = {};
  if (existsSync(file)) {
    fromFile = parseConfigFile(file, readFileSync(file, 'utf8'));
  } else if (options.file) {
    throw new Error(`server config file ${file} does not exist.`);
  }
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    ...fromFile,
    limits: { ...DEFAULT_LIMITS, ...(fromFile.limits ?? {}) },
  };
  if (env.PORT) config.port = parsePort('PORT', env.PORT);
  if (env.MONGODB_URI) config.mongoUri = env.MONGODB_URI;
  if (env.DATA_DIR) config.dataDir = env.DATA_DIR;
  if (env.WORKSPACE_DIR) config.workspaceDir = env.WORKSPACE_DIR;
  if (env.HOST) config.host = env.HOST;
  if (env.PUBSUB) config.pubsub = { ...config.pubsub, kind: env.PUBSUB };
  if (env.REDIS_URL) config.pubsub = { ...config.pubsub, url: env.REDIS_URL };
  if (env.JOB_QUEUE) config.jobs = { ...config.jobs, queue: env.JOB_QUEUE };
  return config;
}

export function parsePort(source: string, text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${source} must be a port number from 0 to 65535, got ${JSON.stringify(text)}.`);
  }
  return port;
}

const KNOWN_KEYS = new Set(['port', 'host', 'mongoUri', 'dataDir', 'workspaceDir', 'limits', 'jobs', 'pubsub']);

function parseConfigFile(file: string, text: string): Partial<ServerConfig> {
  const parsed = yaml.load(text);
  if (parsed == null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected a mapping of settings.`);
  const record = parsed as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN_KEYS.has(key)) throw new Error(`${file}: unknown setting "${key}"; known: ${[...KNOWN_KEYS].join(', ')}.`);
  }
  if (record.limits != null) {
    if (typeof record.limits !== 'object') throw new Error(`${file}: limits must be a mapping.`);
    for (const [key, value] of Object.entries(record.limits as Record<string, unknown>)) {
      if (!Object.hasOwn(DEFAULT_LIMITS, key)) {
        throw new Error(`${file}: unknown limit "${key}"; known: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
      }
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
        throw new Error(`${file}: limits.${key} must be a positive integer, got ${JSON.stringify(value)}.`);
      }
    }
  }
  if (record.port != null) record.port = parsePort(`${file}: port`, String(record.port));
  for (const key of ['host', 'mongoUri', 'dataDir', 'workspaceDir']) {
    if (record[key] != null && typeof record[key] !== 'string') throw new Error(`${file}: ${key} must be a string.`);
  }
  return record as Partial<ServerConfig>;
}

