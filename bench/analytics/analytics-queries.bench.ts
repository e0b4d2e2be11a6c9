// Analytics queries on 100,000 seeded experiments in the embedded engine, through the
// official driver: the median of several timed runs of each (after one warm-up run).
// Targets (DESIGN.md, issue 6): lossByRank <= 250 ms, groupExperiments by two fields
// <= 400 ms, searchExperiments <= 100 ms.
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { openTestDatabase } from '../../test/analytics/embedded-database.ts';
import { insertSeededExperiments, seededExperiments } from '../../test/analytics/seeded-experiments.ts';
import { AnalyticsRepository } from '../../src/store/analytics/analytics-repository.ts';
import { ALL_PROJECTS } from '../../src/store/scope.ts';

const COUNT = Number(process.env.BENCH_EXPERIMENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

async function medianMs(run: () => Promise<unknown>): Promise<{ median: number; min: number; max: number }> {
  await run(); // warm-up: JIT, mingo operator compilation
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, max: times[times.length - 1]! };
}

const database = await openTestDatabase();
try {
  const seedStart = performance.now();
  await insertSeededExperiments(database.db, seededExperiments({ count: COUNT }));
  console.log(`seeded ${COUNT} experiments in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  const analytics = new AnalyticsRepository(database.db);

  const cases: { name: string; target: number | null; run: () => Promise<unknown> }[] = [
    { name: 'lossByRank (no filter)', target: 250, run: () => analytics.lossByRank(ALL_PROJECTS, null) },
    {
      name: 'groupExperiments by LORA_RANK+LEARNING_RATE, FINAL_LOSS, AVG MIN MAX STDDEV COUNT',
      target: 400,
      run: () => analytics.groupExperiments(ALL_PROJECTS, {
        by: ['LORA_RANK', 'LEARNING_RATE'], metric: 'FINAL_LOSS', accumulators: ['AVG', 'MIN', 'MAX', 'STDDEV', 'COUNT'],
      }),
    },
    {
      name: 'groupExperiments by LORA_RANK+TAG with MEDIAN',
      target: null,
      run: () => analytics.groupExperiments(ALL_PROJECTS, {
        by: ['LORA_RANK', 'TAG'], metric: 'FINAL_LOSS', accumulators: ['AVG', 'MEDIAN'],
      }),
    },
    // Selective: two motif words, each on 0.5% of runs (about 1,000 candidates at 100,000).
    { name: 'searchExperiments "motif17 motif42" (1% of runs match) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: 'motif17 motif42', first: 20 }) },
    // Broad: each of these words is on 20-40% of the seeded runs (tens of thousands of candidates).
    { name: 'searchExperiments "古风人物" (about 45% of runs match) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: '古风人物', first: 20 }) },
    { name: 'searchExperiments "富士山 ukiyo" (about 20% of runs match) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: '富士山 ukiyo', first: 20 }) },
    { name: 'bestExperiments FINAL_LOSS k=10', target: null, run: () => analytics.bestExperiments(ALL_PROJECTS, 'FINAL_LOSS', 10) },
  ];
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}, ${new Date().toISOString()}`);
  for (const c of cases) {
    const t = await medianMs(c.run);
    const verdict = c.target === null ? '' : t.median <= c.target ? ` (target <= ${c.target} ms: met)` : ` (target <= ${c.target} ms: NOT met)`;
    console.log(`${c.name}: median ${t.median.toFixed(1)} ms [min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)}] over ${RUNS} runs${verdict}`);
  }
} finally {
  await database.close();
}
