// bench:curve — time to read a 500-point loss curve (Experiment.metrics) from a 10,000-step
// and from a 1,000,000-step run. Target: <= 20 ms, and the long run at most 2x the short.
// Measured at the repository (readCurve) and through GraphQL over HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import { createServer } from '../../src/server/create-server.ts';
import { METRIC_BUCKET_SIZE } from '../../src/store/documents.ts';
import { MetricsRepository, type MetricPointInput } from '../../src/store/metrics.ts';
import { ALL_PROJECTS } from '../../src/store/scope.ts';

const POINTS = 500;
const REPEATS = 40;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function seed(metrics: MetricsRepository, id: ObjectId, steps: number): Promise<void> {
  const batch = 50 * METRIC_BUCKET_SIZE;
  for (let from = 1; from <= steps; from += batch) {
    const points: MetricPointInput[] = [];
    for (let s = from; s < Math.min(from + batch, steps + 1); s++) points.push({ key: 'loss', step: s, value: 3 / Math.sqrt(s) + 0.05 * Math.sin(s / 7) });
    await metrics.appendMetrics(id, points);
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-curve-'));
const server = await createServer({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'data'), workspaceDir: path.join(dir, 'runs'), log: () => {} });
try {
  const metrics = new MetricsRepository(server.store.db);
  const runs: { label: string; steps: number; id: ObjectId }[] = [];
  for (const steps of [10_000, 1_000_000]) {
    const doc = await server.store.experiments.create(ALL_PROJECTS, {
      name: `curve-${steps}`, project: 'bench', tags: [], status: 'COMPLETED', config: {}, checkpoints: [], artifacts: [],
    });
    const t0 = performance.now();
    await seed(metrics, doc._id, steps);
    console.log(`seeded ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    runs.push({ label: `${steps.toLocaleString('en')} steps`, steps, id: doc._id });
  }
  const query = `query ($id: ID!) { experiment(id: $id) { metrics(key: "loss", points: ${POINTS}) { step value min max } } }`;
  const results: Record<string, { repo: number; graphql: number }> = {};
  for (const run of runs) {
    for (let i = 0; i < 5; i++) await metrics.readCurve(run.id, 'loss', POINTS); // warm-up
    const repo: number[] = [];
    const gql: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      let t = performance.now();
      const curve = await metrics.readCurve(run.id, 'loss', POINTS);
      repo.push(performance.now() - t);
      if (curve.length === 0 || curve.at(-1)!.step !== run.steps) throw new Error('curve does not reach the last step');
      t = performance.now();
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { id: run.id.toHexString() } }) });
      const body = (await res.json()) as { data: { experiment: { metrics: unknown[] } } };
      gql.push(performance.now() - t);
      if (body.data.experiment.metrics.length === 0) throw new Error('empty curve over GraphQL');
    }
    results[run.label] = { repo: median(repo), graphql: median(gql) };
    console.log(`${run.label}: readCurve(${POINTS}) median ${median(repo).toFixed(2)} ms, GraphQL over HTTP median ${median(gql).toFixed(2)} ms (${REPEATS} reads)`);
  }
  const [short, long] = Object.values(results);
  console.log(`ratio long/short: readCurve ${(long!.repo / short!.repo).toFixed(2)}x, GraphQL ${(long!.graphql / short!.graphql).toFixed(2)}x`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
