// The analytics queries end to end: a real server on an ephemeral port, runs recorded with
// createExperiment over HTTP (so search tokens come from the real create/update path),
// then every analytics query and the retention mutation as a notebook would send them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId } from 'mongodb';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { gql, gqlData, startTestServer, type TestServer } from '../server/harness.ts';
import { curveOf, stepsEvery } from './synthetic-curves.ts';

let server: TestServer;
const ids: Record<string, string> = {};

const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`;

const RUNS = [
  { name: 'guofeng-r8-a', tags: ['古风'], notes: '古风人物肖像', rank: 8, lr: 1e-4, loss: 0.52 },
  { name: 'guofeng-r8-b', tags: ['古风'], notes: '水墨画', rank: 8, lr: 1e-4, loss: 0.48 },
  { name: 'guofeng-r8-c', tags: ['古风'], notes: '山水', rank: 8, lr: 1e-4, loss: 0.5 },
  { name: 'guofeng-r16-a', tags: ['古风'], notes: '人物', rank: 16, lr: 2e-4, loss: 0.61 },
  { name: 'cyber-r16-b', tags: ['cyberpunk'], notes: 'neon city at night', rank: 16, lr: 2e-4, loss: 0.65 },
  { name: 'ukiyoe-r16-c', tags: ['浮世絵'], notes: '和風の人物イラスト', rank: 16, lr: 2e-4, loss: 0.63 },
];

before(async () => {
  server = await startTestServer();
  for (const run of RUNS) {
    const data = await gqlData<{ createExperiment: { id: string } }>(server.url, CREATE, {
      input: {
        name: run.name, project: 'art', tags: run.tags, notes: run.notes, status: 'COMPLETED',
        config: { loraRank: run.rank, learningRate: run.lr, loraAlpha: 16, batchSize: 2, baseModel: 'gpt2', trainDataDir: '/data/art' },
        baseModel: { path: '/models/gpt2', name: 'gpt2' },
        summary: { finalLoss: run.loss, steps: 100 },
      },
    });
    ids[run.name] = data.createExperiment.id;
  }
});
after(async () => server?.close());

test('lossByRank over HTTP equals the hand-computed statistics (population stddev)', async () => {
  const data = await gqlData(server.url, `{ lossByRank { rank count avg min max stddev } }`);
  const r8 = [0.52, 0.48, 0.5];
  const mean8 = 0.5;
  const sd8 = Math.sqrt(r8.reduce((s, v) => s + (v - mean8) ** 2, 0) / 3);
  assert.equal(data.lossByRank.length, 2);
  assert.deepEqual([data.lossByRank[0].rank, data.lossByRank[0].count, data.lossByRank[0].min, data.lossByRank[0].max], [8, 3, 0.48, 0.52]);
  assert.ok(Math.abs(data.lossByRank[0].avg - mean8) < 1e-12 && Math.abs(data.lossByRank[0].stddev - sd8) < 1e-12);
  assert.deepEqual([data.lossByRank[1].rank, data.lossByRank[1].count], [16, 3]);
});

test('groupExperiments by TAG and LORA_RANK with MEDIAN returns typed keys', async () => {
  const data = await gqlData(server.url, `{
    groupExperiments(by: [LORA_RANK, TAG], metric: FINAL_LOSS, accumulators: [MEDIAN, COUNT]) {
      key { loraRank tag learningRate } count median avg
    } }`);
  assert.deepEqual(data.groupExperiments, [
    { key: { loraRank: 8, tag: '古风', learningRate: null }, count: 3, median: 0.5, avg: null },
    { key: { loraRank: 16, tag: 'cyberpunk', learningRate: null }, count: 1, median: 0.65, avg: null },
    { key: { loraRank: 16, tag: '古风', learningRate: null }, count: 1, median: 0.61, avg: null },
    { key: { loraRank: 16, tag: '浮世絵', learningRate: null }, count: 1, median: 0.63, avg: null },
  ]);
});

test('an enum value outside GroupField is refused by GraphQL validation before any work', async () => {
  const res = await gql(server.url, `{ groupExperiments(by: [NOT_A_FIELD]) { count } }`);
  assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
});

test('searchExperiments: 古风人物 ranks the run that has both words first; renaming a run updates its tokens', async () => {
  const query = `query($text: String!, $after: String) { searchExperiments(text: $text, first: 2, after: $after) {
    queryWords edges { cursor score matchedWords node { name } } pageInfo { hasNextPage endCursor } } }`;
  const first = await gqlData(server.url, query, { text: '古风人物' });
  assert.deepEqual(first.searchExperiments.queryWords, ['古风', '人物']);
  const names = first.searchExperiments.edges.map((e: any) => e.node.name);
  assert.deepEqual(names, ['guofeng-r16-a', 'guofeng-r8-a']); // both words; newest first
  assert.deepEqual(first.searchExperiments.edges[0].matchedWords, ['古风', '人物']);
  assert.equal(first.searchExperiments.edges[0].score, 1);
  const second = await gqlData(server.url, query, { text: '古风人物', after: first.searchExperiments.pageInfo.endCursor });
  const rest = second.searchExperiments.edges.map((e: any) => e.node.name);
  assert.deepEqual(rest, ['ukiyoe-r16-c', 'guofeng-r8-c']); // 人物 only (score 0.5), then 古风 only
  assert.ok(second.searchExperiments.edges.every((e: any) => e.score === 0.5));

  await gqlData(server.url, `mutation($id: ID!) { updateExperiment(id: $id, input: { notes: "steampunk airship" }) { id } }`, { id: ids['cyber-r16-b'] });
  const renamed = await gqlData(server.url, `{ searchExperiments(text: "steampunk") { edges { node { name } } } }`);
  assert.deepEqual(renamed.searchExperiments.edges.map((e: any) => e.node.name), ['cyber-r16-b']);
});

test('bestExperiments and recommendConfig answer from the same runs', async () => {
  const data = await gqlData(server.url, `{
    bestExperiments(metric: FINAL_LOSS, k: 2) { name }
    recommendConfig(baseModel: "gpt2", tags: ["古风"]) {
      enoughHistory statement similarRuns basedOn { baseModel tags }
      configs { config { loraRank learningRate } count avgFinalLoss stddevFinalLoss bestExperiment { name } }
    } }`);
  assert.deepEqual(data.bestExperiments.map((e: any) => e.name), ['guofeng-r8-b', 'guofeng-r8-c']);
  // Four 古风 runs have no config tried 3 times, so the answer drops the tag and says so.
  const rec = data.recommendConfig;
  assert.equal(rec.enoughHistory, true);
  assert.equal(rec.similarRuns, 6);
  assert.deepEqual(rec.basedOn, { baseModel: 'gpt2', tags: null });
  assert.match(rec.statement, /too few runs matched base model gpt2, tags 古风/);
  assert.equal(rec.configs.length, 2);
  assert.deepEqual(rec.configs[0].config, { loraRank: 8, learningRate: 1e-4 });
  assert.equal(rec.configs[0].count, 3);
  assert.ok(Math.abs(rec.configs[0].avgFinalLoss - 0.5) < 1e-12);
  assert.equal(rec.configs[0].bestExperiment.name, 'guofeng-r8-b');

  const thin = await gqlData(server.url, `{ recommendConfig(baseModel: "llama-3-70b") { enoughHistory statement similarRuns configs { count } } }`);
  assert.deepEqual([thin.recommendConfig.enoughHistory, thin.recommendConfig.similarRuns, thin.recommendConfig.configs], [false, 0, []]);
  assert.match(thin.recommendConfig.statement, /^History is too thin to recommend a config: 0 completed runs with base model llama-3-70b/);
});

test('Experiment.diagnosis and compareExperiments read the stored curves', async () => {
  const metrics = new MetricsRepository(server.store.db);
  const id = ids['cyber-r16-b']!;
  const oscillating = curveOf(stepsEvery(5, 200), (_, i) => 1.6 + 0.5 * Math.sin(i * 1.7));
  await metrics.appendMetrics(new ObjectId(id), oscillating.steps.map((step, i) => ({ key: 'loss', step, value: oscillating.values[i]! })));
  const data = await gqlData(server.url, `query($id: ID!, $ids: [ID!]!) {
    experiment(id: $id) { diagnosis { rule key summary advice evidence { key step value valueText label } } }
    compareExperiments(ids: $ids, key: "loss", points: 50) { steps series { experiment { name } values } }
  }`, { id, ids: [id, ids['guofeng-r8-a']] });
  const findings = data.experiment.diagnosis;
  assert.deepEqual(findings.map((f: any) => f.rule), ['OSCILLATION_WITHOUT_TREND']);
  assert.ok(findings[0].evidence.every((e: any) => e.key === 'loss' && typeof e.value === 'number' && e.valueText === String(e.value)));
  const cmp = data.compareExperiments;
  assert.equal(cmp.steps.length, 50);
  assert.deepEqual(cmp.series.map((s: any) => s.experiment.name), ['cyber-r16-b', 'guofeng-r8-a']);
  assert.ok(cmp.series[1].values.every((v: unknown) => v === null), 'a run without a loss curve has no values');
});

test('setExperimentRetention sets expiresAt; a bad ttlDays is BAD_USER_INPUT naming the argument', async () => {
  const id = ids['ukiyoe-r16-c'];
  const before = Date.now();
  const data = await gqlData(server.url, `mutation($id: ID!) { setExperimentRetention(id: $id, ttlDays: 2) { expiresAt } }`, { id });
  const expiresAt = Date.parse(data.setExperimentRetention.expiresAt);
  assert.ok(expiresAt >= before + 2 * 86_400_000 && expiresAt <= Date.now() + 2 * 86_400_000);
  const bad = await gql(server.url, `mutation($id: ID!) { setExperimentRetention(id: $id, ttlDays: -3) { expiresAt } }`, { id });
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.deepEqual(bad.errors?.[0]?.extensions?.argumentPath, ['ttlDays']);
  const cleared = await gqlData(server.url, `mutation($id: ID!) { setExperimentRetention(id: $id, ttlDays: null) { expiresAt } }`, { id });
  assert.equal(cleared.setExperimentRetention.expiresAt, null);
});

test('launchTraining with ttlDays records expiresAt; a bad ttlDays names input.ttlDays', async () => {
  const launch = `mutation($input: LaunchTrainingInput!) { launchTraining(input: $input) { id expiresAt } }`;
  const before = Date.now();
  const data = await gqlData(server.url, launch, { input: { name: 'logged-run', project: 'art', logOnly: true, ttlDays: 0.5 } });
  const expiresAt = Date.parse(data.launchTraining.expiresAt);
  assert.ok(expiresAt >= before + 43_200_000 && expiresAt <= Date.now() + 43_200_000);
  const stored = await gqlData(server.url, `query($id: ID!) { experiment(id: $id) { expiresAt } }`, { id: data.launchTraining.id });
  assert.equal(Date.parse(stored.experiment.expiresAt), expiresAt);
  const bad = await gql(server.url, launch, { input: { name: 'bad-ttl', project: 'art', logOnly: true, ttlDays: 0 } });
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  assert.deepEqual(bad.errors?.[0]?.extensions?.argumentPath, ['input', 'ttlDays']);
});
