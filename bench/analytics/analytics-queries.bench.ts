// Analytics queries on 100,000 seeded experiments in the embedded engine, through the
// official driver: the median of several timed runs of each (after one warm-up run).
// With MONGODB_URI set it runs the same queries on that MongoDB (a throw-away database).
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
/** Only the cases whose name contains this text (e.g. BENCH_ONLY=search), for quick reruns. */
const ONLY = process.env.BENCH_ONLY ?? '';

interface Timing {
  median: number;
  min: number;
  max: number;
  /** Median CPU time of this process (engine + driver run in it): less sensitive than wall
   *  time to other work on a shared machine. */
  cpuMedian: number;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeRuns(run: () => Promise<unknown>): Promise<Timing> {
  await run(); // warm-up: JIT, mingo operator compilation
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await run();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  return { median: medianOf(wall), min: Math.min(...wall), max: Math.max(...wall), cpuMedian: medianOf(cpu) };
}

/** The `page`-th page (1-based) of a search, following cursors from the first. */
async function searchPage(analytics: AnalyticsRepository, text: string, page: number): Promise<unknown> {
  let after: string | null = null;
  let result: Awaited<ReturnType<AnalyticsRepository['searchExperiments']>> | undefined;
  for (let i = 0; i < page; i++) {
    result = await analytics.searchExperiments(ALL_PROJECTS, { text, first: 20, after });
    after = result.hits.at(-1)?.cursor ?? null;
  }
  return result;
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
    // Broad words that never meet: 20% of runs each, none with both (the top score's tier is empty).
    { name: 'searchExperiments "neon frog" (40% match one word, none both) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: 'neon frog', first: 20 }) },
    // Two broad words and a rare one: runs with two of the three are rare (0.2%).
    { name: 'searchExperiments "neon frog motif17" (40% match one word, 0.2% two) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: 'neon frog motif17', first: 20 }) },
    // Eight words whose best runs hold six: the page fills from the top tiers (8, 7, 6 of 8).
    { name: 'searchExperiments "neon frog motif17 haiku cyberpunk city rainy alley" (8 words, best runs hold 6) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: 'neon frog motif17 haiku cyberpunk city rainy alley', first: 20 }) },
    // Nine words (best runs hold 6): every tier still fits in the subset filters.
    { name: 'searchExperiments "frog motif17 motif42 motif99 pond old jumps 古风 富士山" (9 words, best runs hold 6) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: 'frog motif17 motif42 motif99 pond old jumps 古风 富士山', first: 20 }) },
    // Twelve words whose best runs hold 5: the page needs middle tiers with too many word
    // subsets, so the scoring pipeline ranks every candidate (the slow case by design).
    { name: 'searchExperiments "frog motif17 motif42 motif99 pond old jumps 古风 富士山 neon rainy zeppelin" (12 words; scoring pipeline) first 20', target: 100, run: () => analytics.searchExperiments(ALL_PROJECTS, { text: 'frog motif17 motif42 motif99 pond old jumps 古风 富士山 neon rainy zeppelin', first: 20 }) },
    // Later pages: five searches, each from the previous page's cursor.
    { name: 'searchExperiments "haiku" pages 1 to 5 following cursors (5 searches, 20% match) first 20', target: null, run: () => searchPage(analytics, 'haiku', 5) },
    { name: 'bestExperiments FINAL_LOSS k=10', target: null, run: () => analytics.bestExperiments(ALL_PROJECTS, 'FINAL_LOSS', 10) },
  ];
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
  for (const c of cases.filter((c) => c.name.includes(ONLY))) {
    const t = await timeRuns(c.run);
    const verdict = c.target === null ? '' : t.median <= c.target ? ` (target <= ${c.target} ms: met)` : ` (target <= ${c.target} ms: NOT met)`;
    console.log(`${c.name}: median ${t.median.toFixed(1)} ms [min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)}], CPU median ${t.cpuMedian.toFixed(1)} ms, over ${RUNS} runs${verdict}`);
  }
} finally {
  await database.close();
}
