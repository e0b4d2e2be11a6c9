// bench:live — latency from a trainer's step event to 200 graphql-ws subscribers of its
// trainingProgress: the trainer (the protocol fixture, one step every 50 ms: faster than the tiny config trains on this machine) writes its event log,
// the runner's follower reads it, pub/sub fans it out over WebSocket to a separate
// subscriber process. Target p99 <= 50 ms. Prints p50/p99 per round and their medians.
//
//   npm run bench:live [-- --subscribers 200 --rounds 3 --steps 300 --delay-ms 50]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from '../../src/server/create-server.ts';

const { values: args } = parseArgs({ options: { subscribers: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' }, steps: { type: 'string', default: '300' }, 'delay-ms': { type: 'string', default: '50' } } });
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const fixture = path.join(repoRoot, 'test', 'fixtures', 'protocol-trainer.mjs');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-live-'));
const server = await createServer({
  port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'data'), workspaceDir: path.join(dir, 'runs'), log: () => {},
  limits: { maxWebSocketMessageBytes: 1 << 20 },
  jobs: { externalRunners: { 'paced-trainer': { argv: ['{node}', fixture, '--out', '{outputDir}', '--steps', args.steps!, '--delay-ms', args['delay-ms']!] } } },
});
let lastCpu = process.cpuUsage();
const serverCpu = () => {
  const now = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  return (now.user + now.system) / 1e6;
};
const p50s: number[] = [];
const p99s: number[] = [];
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { launchTraining(input: { name: "live", project: "bench", externalCommand: "paced-trainer" }) { id } }' }),
    });
    const id = ((await res.json()) as { data: { launchTraining: { id: string } } }).data.launchTraining.id;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'subscribers.ts'), server.wsUrl, id, args.subscribers!], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { deliveries: number; p50: number; p99: number; max: number; cpuSeconds: number; wallSeconds: number };
    p50s.push(result.p50);
    p99s.push(result.p99);
    console.log(`round ${round + 1}: ${args.subscribers} subscribers, ${result.deliveries} deliveries, p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms; subscriber process CPU ${result.cpuSeconds.toFixed(1)} s of ${result.wallSeconds.toFixed(1)} s wall, server process CPU ${serverCpu().toFixed(1)} s`);
  }
  console.log(`trainer step -> ${args.subscribers} subscribers: median p50 ${median(p50s)} ms, median p99 ${median(p99s)} ms`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
