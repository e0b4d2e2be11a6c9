// The per-request context every resolver receives, over HTTP and over WebSocket alike.
import type { Store } from '../store/store.ts';
import type { ProjectScope } from '../store/scope.ts';
import { createLoaders, type Loaders } from '../resolvers/loaders.ts';

/**
 * The job layer (launching and following training). Empty here: the jobs area adds its
 * members by declaration merging (`declare module '../server/context.ts' { interface
 * JobsService { ... } }`) and fills `services.jobs` at start-up.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface JobsService {}

/** Publish/subscribe for live updates; the jobs area fills `services.pubsub` (in memory or Redis). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PubSubService {}

/** Long-lived services shared by every request; slots stay empty until an area starts them. */
export interface Services {
  jobs?: JobsService;
  pubsub?: PubSubService;
}

export interface RequestContext {
  /** The projects this caller may see and change; passed to every store call. */
  scope: ProjectScope;
  store: Store;
  /** DataLoaders of the core edges, fresh for each request. */
  loaders: Loaders;
  /** Request-scoped memo for loaders that other areas define: `perRequest('key', () => new DataLoader(...))`. */
  perRequest<T>(key: string, create: () => T): T;
  services: Services;
}

/** Builds a fresh context for one operation (HTTP request or WebSocket subscribe). */
export function buildRequestContext(store: Store, services: Services, scope: ProjectScope): RequestContext {
  const memo = new Map<string, unknown>();
  return {
    scope,
    store,
    loaders: createLoaders(store, scope),
    perRequest<T>(key: string, create: () => T): T {
      if (!memo.has(key)) memo.set(key, create());
      return memo.get(key) as T;
    },
    services,
  };
}

/** The same caller and services with empty request caches (one per subscription event). */
export function renewRequestContext(context: RequestContext): RequestContext {
  return buildRequestContext(context.store, context.services, context.scope);
}
