// Starts a real server (embedded engine, temp data dir, ephemeral port) for a test file
// and talks GraphQL to it over HTTP, as a client would.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createServer, type CreateServerOptions, type RunningServer } from '../../src/server/create-server.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  workspaceDir: string;
  /** Stops the server and removes its temp directory. */
  close(): Promise<void>;
}

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export async function startTestServer(options: Partial<CreateServerOptions> = {}): Promise<TestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lora-registry-test-'));
  const dataDir = path.join(dir, 'data');
  const workspaceDir = path.join(dir, 'runs');
  const server = await createServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    workspaceDir,
    log: () => {},
    ...options,
  });
  return {
    ...server,
    dataDir,
    workspaceDir,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: res.status, ...body };
}

/** The data of a response that must have no errors. */
export async function gqlData<T = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await gql<T>(url, query, variables);
  if (res.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

