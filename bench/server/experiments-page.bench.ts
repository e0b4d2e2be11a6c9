// The cost of the API's main read path over real HTTP: a page of 50 experiments with their
// checkpoints and artifacts (and the edges back), out of 2,000 stored runs, a filtered
// page, and a page of 50 with the diagnosis of each run's loss curves (every run has the
// curves of the diagnosis tests: short, long and missing ones). Reports the median and p90
// latency of several runs and the database round trips of one request (driver command
// monitoring).
// Run: npm run bench:api
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ObjectId, type CommandStartedEvent } from 'mongodb';
import { createServer } from '../../src/server/create-server.ts';
import type { ArtifactDoc, CheckpointDoc, ExperimentDoc } from '../../src/store/documents.ts';
import { COLLECTIONS } from '../../src/store/documents.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { mixedRunCurves } from '../../test/analytics/synthetic-curves.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const REPEATS = 30;
/** Only the cases whose label contains this text (e.g. BENCH_ONLY=diagnosis). */
const ONLY = process.env.BENCH_ONLY ?? '';

const PAGE = `query($first: Int!, $filter: ExperimentFilter) {
  experiments(first: $first, filter: $filter, sort: { field: FINAL_LOSS, direction: ASC }) {
    totalCount
    edges { node { id name summary { finalLoss } config { loraRank learningRate }
      checkpoints { step loss artifacts { sha256 } experiment { name } }
      artifacts { sha256 kind bytes checkpoint { step } } } }
  }
}`;

const PAGE_WITH_DIAGNOSIS = `query($first: Int!) {
  experiments(first: $first, sort: { field: FINAL_LOSS, direction: ASC }) {
    edges { node { id name diagnosis { rule key summary advice evidence { key step value label } } } }
  }
}`;

function hex(n: number, salt: string): string {
  return (salt + n.toString(16)).padStart(64, '0').slice(-64);
}

async function seed(db: import('mongodb').Db): Promise<void> {
  const now = Date.now();
  const experiments: ExperimentDoc[] = [];
  const checkpoints: CheckpointDoc[] = [];
  const artifacts: ArtifactDoc[] = [];
  for (let i = 0; i < RUNS; i++) {
    const _id = new ObjectId();
    const failed = i % 10 === 0;
    experiments.push({
      _id, name: `run-${i}`, project: `p${i % 4}`, tags: i % 3 === 0 ? ['cyberpunk'] : ['painting'],
      status: failed ? 'FAILED' : 'COMPLETED', config: { lora_rank: [4, 8, 16, 32][i % 4], learning_rate: 1e-4 * (1 + (i % 5)) },
      configHash: hex(i, 'c'), createdAt: new Date(now - i * 1000), updatedAt: new Date(now),
      summary: failed ? {} : { finalLoss: 0.2 + (i % 97) / 100, minLoss: 0.2, steps: 1000 },
      error: failed ? { type: 'CUDA_OOM', message: 'CUDA out of memory' } : null,
    });
    for (let c = 0; c < 3; c++) {
      const cid = new ObjectId();
      checkpoints.push({ _id: cid, experimentId: _id, project: `p${i % 4}`, step: (c + 1) * 100, loss: 1 / (c + 2), dir: `runs/run-${i}/checkpoint-${c}`, files: [], createdAt: new Date() });
      artifacts.push({ _id: new ObjectId(), sha256: hex(i * 10 + c, 'a'), kind: 'CHECKPOINT_ADAPTER', format: 'safetensors', path: `runs/run-${i}/checkpoint-${c}/adapter_model.safetensors`, bytes: 1 << 20, experimentId: _id, checkpointId: cid, project: `p${i % 4}`, createdAt: new Date() });
    }
  }
  await db.collection(COLLECTIONS.experiments).insertMany(experiments);
  await db.collection(COLLECTIONS.checkpoints).insertMany(checkpoints);
  await db.collection(COLLECTIONS.artifacts).insertMany(artifacts);
  const metrics = new MetricsRepository(db);
  for (const [i, experiment] of experiments.entries()) {
    const points = Object.entries(mixedRunCurves(i)).flatMap(([key, c]) => c.steps.map((step, k) => ({ key, step, value: c.values[k]! })));
    if (points.length > 0) await metrics.appendMetrics(experiment._id, points);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-api-'));
  const server = await createServer({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'data'), workspaceDir: dir, monitorCommands: true, log: () => {} });
  try {
    await seed(server.store.db);
    const cases: [string, string, Record<string, unknown>][] = [
      ['50 experiments + 150 checkpoints + 150 artifacts', PAGE, { first: 50 }],
      ['filtered: cyberpunk, COMPLETED, finalLoss < 0.4 (first 50)', PAGE, { first: 50, filter: { tags: { all: ['cyberpunk'] }, status: ['COMPLETED'], finalLoss: { lt: 0.4 } } }],
      ['50 experiments with diagnosis', PAGE_WITH_DIAGNOSIS, { first: 50 }],
    ];
    for (const [label, query, variables] of cases.filter(([label]) => label.includes(ONLY))) {
      const commands: string[] = [];
      const record = (e: CommandStartedEvent) => commands.push(e.commandName);
      const durations: string[] = [];
      const recordDone = (e: import('mongodb').CommandSucceededEvent) => durations.push(`${e.commandName} ${e.duration.toFixed(0)}ms`);
      const times: number[] = [];
      const cpuTimes: number[] = [];
      for (let i = 0; i < REPEATS + 3; i++) {
        if (i === 3) { server.mongoClient.on('commandStarted', record); server.mongoClient.on('commandSucceeded', recordDone); }
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
        const body = (await res.json()) as { errors?: unknown };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        if (i === 3) { server.mongoClient.off('commandStarted', record); server.mongoClient.off('commandSucceeded', recordDone); }
        if (i >= 3) { // 3 warm-up requests
          times.push(performance.now() - start);
          const cpu = process.cpuUsage(cpuStart);
          cpuTimes.push((cpu.user + cpu.system) / 1000);
        }
      }
      times.sort((a, b) => a - b);
      cpuTimes.sort((a, b) => a - b);
      console.log(`${label}: median ${percentile(times, 0.5).toFixed(1)} ms, p90 ${percentile(times, 0.9).toFixed(1)} ms, CPU median ${percentile(cpuTimes, 0.5).toFixed(1)} ms (server, engine and client in this process) over ${REPEATS} requests; ${commands.length} database round trips per request (${durations.join(', ')}); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
