// bench:live — latency from a trainer's step event to 200 graphql-ws subscribers of its
// trainingProgress: the trainer (the protocol fixture, one step every 50 ms: faster than the tiny config trains on this machine) writes its event log,
// the runner's follower reads it, pub/sub fans it out over WebSocket to a separate
// subscriber process. Target p99 <= 50 ms. Prints p50/p99 per round and their medians, for
// two set-ups in one run: `memory` (one server runs the job and serves the subscribers) and
// `redis` (replica A runs the job and publishes into Redis; the subscribers are on replica
// B; both over one embedded engine of their own, and the Redis at REDIS_URL or 127.0.0.1:6379).
// The redis set-up also prints the Redis hop alone: one RedisPubSub publishing, another
// receiving, 1,000 events one at a time (what Redis adds, without the WebSocket fan-out).
//
//   npm run bench:live [-- --subscribers 200 --rounds 3 --steps 300 --delay-ms 50 --only memory|redis]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';
import { RedisPubSub } from '../../src/jobs/redis-pubsub.ts';
import { createServer, type CreateServerOptions, type RunningServer } from '../../src/server/create-server.ts';

const { values: args } = parseArgs({ options: { subscribers: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' }, steps: { type: 'string', default: '300' }, 'delay-ms': { type: 'string', default: '50' }, only: { type: 'string' } } });
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const fixture = path.join(repoRoot, 'test', 'fixtures', 'protocol-trainer.mjs');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-live-'));
const serverOptions = (name: string): CreateServerOptions => ({
  port: 0, host: '127.0.0.1', dataDir: path.join(dir, name, 'data'), workspaceDir: path.join(dir, 'runs'), log: () => {},
  limits: { maxWebSocketMessageBytes: 1 << 20 },
  jobs: { externalRunners: { 'paced-trainer': { argv: ['{node}', fixture, '--out', '{outputDir}', '--steps', args.steps!, '--delay-ms', args['delay-ms']!] } } },
});
let lastCpu = process.cpuUsage();
const serverCpu = () => {
  const now = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  return (now.user + now.system) / 1e6;
};

/** Rounds of: launch on `runs`, 200 subscribers on `serves`; the medians of p50 and p99. */
async function measure(label: string, runs: RunningServer, serves: RunningServer): Promise<string> {
  const p50s: number[] = [];
  const p99s: number[] = [];
  serverCpu();
  for (let round = 0; round < Number(args.rounds); round++) {
    const res = await fetch(runs.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { launchTraining(input: { name: "live", project: "bench", externalCommand: "paced-trainer" }) { id } }' }),
    });
    const id = ((await res.json()) as { data: { launchTraining: { id: string } } }).data.launchTraining.id;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'subscribers.ts'), serves.wsUrl, id, args.subscribers!], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { deliveries: number; p50: number; p99: number; max: number; cpuSeconds: number; wallSeconds: number };
    p50s.push(result.p50);
    p99s.push(result.p99);
    console.log(`${label} round ${round + 1}: ${args.subscribers} subscribers, ${result.deliveries} deliveries, p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms; subscriber process CPU ${result.cpuSeconds.toFixed(1)} s of ${result.wallSeconds.toFixed(1)} s wall, server process(es) CPU ${serverCpu().toFixed(1)} s`);
  }
  return `${label.padEnd(6)} trainer step -> ${args.subscribers} subscribers: median p50 ${median(p50s)} ms, median p99 ${median(p99s)} ms (p99 of rounds: ${p99s.join(', ')})`;
}

/** Publish -> receive between two RedisPubSub instances, one event in flight at a time. */
async function redisHop(url: string, channelPrefix: string): Promise<string> {
  const publisher = await RedisPubSub.connect({ url, channelPrefix });
  const receiver = await RedisPubSub.connect({ url, channelPrefix });
  const events = receiver.subscribe<{ sentAt: number }>('hop');
  await events.ready;
  const latencies: number[] = [];
  for (let i = 0; i < 1000; i++) {
    publisher.publish('hop', { sentAt: performance.now(), step: i, loss: 1.5, time: new Date() });
    const { value } = await events.next();
    latencies.push(performance.now() - value.sentAt);
    await new Promise((r) => setTimeout(r, 2));
  }
  await events.return!();
  await publisher.close();
  await receiver.close();
  latencies.sort((a, b) => a - b);
  return `redis hop alone (publish -> other instance's subscriber, 1,000 events): p50 ${latencies[500]!.toFixed(2)} ms, p99 ${latencies[990]!.toFixed(2)} ms`;
}

const summaries: string[] = [];
try {
  if (args.only !== 'redis') {
    const server = await createServer(serverOptions('memory'));
    try {
      summaries.push(await measure('memory', server, server));
    } finally {
      await server.stop();
    }
  }
  if (args.only !== 'memory') {
    const engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'redis', 'db'), port: 0, quiet: true });
    const pubsub = { kind: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', channelPrefix: `bench-live-${process.pid}:` };
    summaries.push(await redisHop(pubsub.url, pubsub.channelPrefix));
    const replicaA = await createServer({ ...serverOptions('a'), mongoUri: engine.uri, pubsub });
    const replicaB = await createServer({ ...serverOptions('b'), mongoUri: engine.uri, pubsub });
    try {
      summaries.push(await measure('redis', replicaA, replicaB));
    } finally {
      await replicaA.stop();
      await replicaB.stop();
      await engine.stop();
    }
  }
  for (const line of summaries) console.log(line);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
