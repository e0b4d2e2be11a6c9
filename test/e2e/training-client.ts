// What the end-to-end tests of training share: the tiny config with test overrides, the
// GraphQL operations a client sends, a graphql-ws subscriber, and polling for a status.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { gqlData } from '../server/harness.ts';
import { PROTOCOL_TRAINER } from '../jobs/run-harness.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** configs/tiny-style.yaml with absolute paths and overrides (few steps keep the tests fast). */
export function tinyConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const file = path.join(REPO_ROOT, 'configs', 'tiny-style.yaml');
  const config = yaml.load(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const key of ['base_model', 'train_data_dir']) config[key] = path.resolve(path.dirname(file), config[key] as string);
  delete config.output_dir; // the run's own directory, named by its experiment id
  return { ...config, max_steps: 30, warmup_steps: 5, save_steps: 10, eval_steps: 0, log_steps: 5, save_total_limit: null, ...overrides };
}

export function tinyConfigYaml(overrides: Record<string, unknown> = {}): string {
  return yaml.dump(tinyConfig(overrides));
}

/** The external runners the e2e servers allow: the protocol fixture. */
export const E2E_JOBS = {
  maxConcurrentRuns: 2,
  stopGraceMs: 20_000,
  externalRunners: {
    'fixture-trainer': { argv: ['{node}', PROTOCOL_TRAINER, '--out', '{outputDir}', '--steps', '25', '--checkpoint-every', '10'], description: 'test fixture' },
  },
};

export const LAUNCH = /* GraphQL */ `
  mutation Launch($input: LaunchTrainingInput!) {
    launchTraining(input: $input) { id status outputDir runner project name tags }
  }
`;

export const EXPERIMENT = /* GraphQL */ `
  query Experiment($id: ID!, $points: Int!) {
    experiment(id: $id) {
      id status outputDir runner configHash rawConfig
      config { loraRank maxSteps learningRate outputDir }
      startedAt endedAt
      statusHistory { status at }
      summary { finalLoss minLoss bestStep steps tokensPerSecond wallSeconds finalEvalLoss }
      error { type message exitCode signal }
      environment { node onnxruntime executionProvider cpu cpuCount host platform }
      dataset { path sha256 }
      baseModel { path sha256 }
      metrics(key: "loss", points: $points) { step value min max count }
      metricKeys
      checkpoints { step dir files { path sha256 bytes } }
      artifacts { sha256 kind path bytes }
    }
  }
`;

export function wsClient(url: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

export const TRAINING_PROGRESS = /* GraphQL */ `
  subscription Progress($id: ID!) {
    trainingProgress(experimentId: $id) {
      kind experimentId status time step totalSteps loss learningRate gradNorm tokensPerSecond etaSeconds evalLoss
      checkpoint { step dir files { sha256 } }
      error { type }
    }
  }
`;

export interface ProgressEvent {
  kind: string;
  status: string;
  step: number | null;
  loss: number | null;
  [key: string]: unknown;
}

/** Subscribes and collects events until `until` says stop (or the server completes the stream). */
export function collectProgress(client: Client, id: string, until: (e: ProgressEvent, all: ProgressEvent[]) => boolean): { events: ProgressEvent[]; done: Promise<ProgressEvent[]> } {
  const events: ProgressEvent[] = [];
  const iterator = client.iterate<{ trainingProgress: ProgressEvent }>({ query: TRAINING_PROGRESS, variables: { id } });
  const done = (async () => {
    for await (const result of iterator) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      const e = result.data!.trainingProgress;
      events.push(e);
      if (until(e, events)) break;
    }
    return events;
  })();
  return { events, done };
}

/** Follows a run over a WebSocket of its own until `until` says stop, then closes it. */
export async function followUntil(wsUrl: string, id: string, until: (e: ProgressEvent, all: ProgressEvent[]) => boolean): Promise<ProgressEvent[]> {
  const client = wsClient(wsUrl);
  try {
    return await collectProgress(client, id, until).done;
  } finally {
    await client.dispose();
  }
}

export async function waitForStatus(url: string, id: string, statuses: string[], timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { experiment } = await gqlData(url, EXPERIMENT, { id, points: 1000 });
    if (statuses.includes(experiment.status)) return experiment;
    if (Date.now() > deadline) throw new Error(`experiment ${id} is ${experiment.status}, not ${statuses.join('/')} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Steps 1..n, each stored once: the shape of a gapless, duplicate-free history read at full resolution. */
export function stepsOf(curve: { step: number; count: number }[]): number[] {
  if (curve.some((p) => p.count !== 1)) throw new Error('curve read at full resolution must have one point per range');
  return curve.map((p) => p.step);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
