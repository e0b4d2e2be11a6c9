// The API server: Apollo Server over express for queries and mutations, graphql-ws for
// subscriptions, both at /graphql on ONE HTTP port, plus /healthz. `createServer` is what
// `lora-registry serve` runs and what the end-to-end tests start in-process.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { parse, specifiedRules, validate, type ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { MongoClient } from 'mongodb';
import { ensureCoreIndexes } from '../store/indexes.ts';
import { createStore, type Store } from '../store/store.ts';
import { bodyErrorHandler } from './body-errors.ts';
import { DEFAULT_LIMITS, type RequestLimits, type ServerConfig } from './config.ts';
import { buildRequestContext, renewRequestContext, type RequestContext, type Services } from './context.ts';
import { openDatabase } from './database.ts';
import { subscribeWithContextPerEvent } from './per-event-subscribe.ts';
import { depthLimitRule } from './depth-limit-rule.ts';
import { maskInternalError } from './error-masking.ts';
import { healthRoute } from './health-route.ts';
import { querySizeLimitRule } from './query-size-limit-rule.ts';
import { openAccessScope, type ScopeResolver } from './request-scope.ts';
import { buildSchema } from './schema.ts';
import { serviceStarters, type StartedService } from './service-registry.ts';

export interface CreateServerOptions {
  /** 0 picks a free port. Default 4000. */
  port?: number;
  /** Default 0.0.0.0 (all interfaces). */
  host?: string;
  /** Unset: the embedded engine with data under `dataDir`/db. */
  mongoUri?: string;
  dataDir: string;
  /** Default `./runs`. */
  workspaceDir?: string;
  limits?: Partial<RequestLimits>;
  /** Driver command monitoring (tests count database round trips with it). */
  monitorCommands?: boolean;
  resolveScope?: ScopeResolver;
  log?: (message: string) => void;
  /** The job layer's settings (configs/server.yaml `jobs`). */
  jobs?: ServerConfig['jobs'];
  /** Pub/sub: memory (default) or redis (configs/server.yaml `pubsub`). */
  pubsub?: ServerConfig['pubsub'];
}

export interface RunningServer {
  /** http://host:port/graphql */
  url: string;
  /** ws://host:port/graphql */
  wsUrl: string;
  port: number;
  store: Store;
  mongoClient: MongoClient;
  /** Drains HTTP requests and WebSocket connections, then closes the database. */
  stop(): Promise<void>;
}

export const GRAPHQL_PATH = '/graphql';

export function limitRules(limits: RequestLimits): ValidationRule[] {
  return [
    depthLimitRule({ maxDepth: limits.maxDepth, maxIntrospectionDepth: limits.maxIntrospectionDepth }),
    querySizeLimitRule({ maxFields: limits.maxFields, maxAliases: limits.maxAliases }),
  ];
}

export async function createServer(options: CreateServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((message: string) => console.log(`[lora-registry] ${message}`));
  const limits: RequestLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const config: ServerConfig = {
    port: options.port ?? 4000,
    host: options.host ?? '0.0.0.0',
    mongoUri: options.mongoUri,
    dataDir: options.dataDir,
    workspaceDir: options.workspaceDir ?? './runs',
    limits,
    jobs: options.jobs,
    pubsub: options.pubsub,
  };
  const resolveScope = options.resolveScope ?? openAccessScope;
  const startedAt = new Date();

  const database = await openDatabase({ mongoUri: config.mongoUri, dataDir: config.dataDir, monitorCommands: options.monitorCommands });
  const started: StartedService[] = [];
  let apollo: ApolloServer<RequestContext> | undefined;
  try {
    const { db } = database.connection;
    await ensureCoreIndexes(db);
    const store = createStore(db, { workspaceDir: path.resolve(config.workspaceDir) });
    const services: Services = {};
    for (const starter of serviceStarters) {
      const service = await starter.start({ db, store, config, log });
      started.push(service);
      Object.assign(services, service.services);
    }

    const schema = buildSchema();
    const rules = limitRules(limits);
    const app = express();
    const httpServer = http.createServer(app);
    const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH, maxPayload: limits.maxWebSocketMessageBytes });
    const wsCleanup = useServer(
      {
        schema,
        context: async (ctx) => buildRequestContext(store, services, await resolveScope(ctx.extra.request.headers)),
        parse: (source) => parse(source, { maxTokens: limits.maxTokens }),
        validate: (s, document) => validate(s, document, [...specifiedRules, ...rules]),
        subscribe: (args) => subscribeWithContextPerEvent<RequestContext>(args, renewRequestContext),
        onNext: (_ctx, _id, _payload, _args, result) => {
          if (!('errors' in result) || !result.errors) return;
          return { ...result, errors: result.errors.map((e) => maskInternalError(e, e, log)) };
        },
      },
      wsServer,
    );

    apollo = new ApolloServer<RequestContext>({
      schema,
      parseOptions: { maxTokens: limits.maxTokens },
      validationRules: rules,
      includeStacktraceInErrorResponses: false,
      // Signals are the caller's business (serve.ts drains on SIGINT/SIGTERM); Apollo's own
      // handler would stop the server behind our back and re-raise the signal.
      stopOnTerminationSignals: false,
      formatError: (formatted, error) => maskInternalError(formatted, error, log),
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer }),
        {
          // Close WebSocket connections when Apollo drains, so stop() ends subscriptions too.
          async serverWillStart() {
            return {
              async drainServer() {
                await wsCleanup.dispose();
              },
            };
          },
        },
      ],
    });
    await apollo.start();

    app.get('/healthz', healthRoute(() => database.connection.ping(), startedAt));
    app.use(
      GRAPHQL_PATH,
      express.json({ limit: limits.maxBodyBytes }),
      expressMiddleware(apollo, {
        context: async ({ req }) => buildRequestContext(store, services, await resolveScope(req.headers)),
      }),
    );
    app.use(bodyErrorHandler);

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    const port = (httpServer.address() as AddressInfo).port;
    const reachableHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

    let stopping: Promise<void> | undefined;
    const runningApollo = apollo;
    return {
      url: `http://${reachableHost}:${port}${GRAPHQL_PATH}`,
      wsUrl: `ws://${reachableHost}:${port}${GRAPHQL_PATH}`,
      port,
      store,
      mongoClient: database.connection.client,
      stop() {
        stopping ??= (async () => {
          await runningApollo.stop(); // drains HTTP, then disposes the WebSocket server
          for (const service of started.reverse()) await service.stop();
          await database.close();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await apollo?.stop().catch(() => undefined);
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
    await database.close().catch(() => undefined);
    throw err;
  }
}
