// Every analytics query against the embedded engine through the driver, on 3,000 seeded
// runs, compared with the same answer computed in plain TypeScript over the same documents.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExperimentDoc } from '../../src/store/documents.ts';
import { AnalyticsRepository } from '../../src/store/analytics/analytics-repository.ts';
import { ALL_PROJECTS, projectsScope } from '../../src/store/scope.ts';
import { InvalidInputError } from '../../src/store/errors.ts';
import type { Accumulator, GroupField } from '../../src/store/analytics/analytics-fields.ts';
import { MIN_RUNS_PER_CONFIG } from '../../src/analytics/config-recommendation.ts';
import { searchQueryTokens } from '../../src/analytics/search-tokens.ts';
import { openTestDatabase, type TestDatabase } from './embedded-database.ts';
import { insertSeededExperiments, seededExperiments } from './seeded-experiments.ts';
import {
  isFiniteNumber, referenceBest, referenceGroups, referenceLossByRank, referenceSearch, statsOf,
} from './reference-analytics.ts';

const docs = seededExperiments({ count: 3000, seed: 7 });
let database: TestDatabase;
let analytics: AnalyticsRepository;

before(async () => {
  database = await openTestDatabase();
  await insertSeededExperiments(database.db, docs);
  analytics = new AnalyticsRepository(database.db);
});
after(async () => database.close());

/** Equal up to float summation order (relative 1e-9). */
function assertClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${where}: ${actual} != ${expected}`);
    return;
  }
  if (Array.isArray(expected) && expected.some((v) => typeof v === 'number' || (v && typeof v === 'object'))) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${where}: ${JSON.stringify(actual)} has not ${expected.length} entries`);
    expected.forEach((v, i) => assertClose((actual as unknown[])[i], v, `${where}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual && typeof actual === 'object', `${where}: expected an object, got ${JSON.stringify(actual)}`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const [k, v] of Object.entries(expected)) assertClose((actual as Record<string, unknown>)[k], v, `${where}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, where);
}

function assertNoNaN(rows: readonly object[]): void {
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) if (typeof v === 'number') assert.ok(Number.isFinite(v), `${k} is ${v}`);
  }
}

function assertSameGroups(actual: readonly Record<string, unknown>[], expected: readonly Record<string, unknown>[]): void {
  assert.equal(actual.length, expected.length, 'number of groups');
  const byKey = new Map(expected.map((row) => [JSON.stringify(row.key), row]));
  for (const row of actual) {
    // Missing key fields (e.g. no rank) come back as null, as GraphQL shows them.
    const key = JSON.stringify(row.key, (_k, v) => (v === undefined ? null : v));
    const reference = byKey.get(key);
    assert.ok(reference, `group ${key} is not in the reference`);
    assertClose(row, reference, key);
  }
  assertNoNaN(actual);
}

describe('lossByRank', () => {
  test('equals the plain TypeScript reference over all runs (NaN, infinite, null and missing losses left out)', async () => {
    const rows = await analytics.lossByRank(ALL_PROJECTS, null);
    assertClose(rows, referenceLossByRank(docs), 'lossByRank');
    assertNoNaN(rows);
    assert.equal(rows[0]!.rank, null, 'runs without a rank form the first (null) group');
    const counted = rows.reduce((n, r) => n + r.count, 0);
    assert.equal(counted, docs.filter((d) => isFiniteNumber(d.summary?.finalLoss)).length);
    assert.ok(counted < docs.length, 'the seed holds runs without a finite loss');
  });

  test('honours the typed filter (status, tags, learning-rate range)', async () => {
    const filter = { status: ['COMPLETED' as const], tags: { any: ['古风', 'anime'] }, learningRate: { gte: 2e-4, lte: 5e-4 } };
    const expected = referenceLossByRank(docs.filter((d) =>
      d.status === 'COMPLETED' && d.tags.some((t) => t === '古风' || t === 'anime') &&
      d.config.learning_rate! >= 2e-4 && d.config.learning_rate! <= 5e-4));
    assertClose(await analytics.lossByRank(ALL_PROJECTS, filter), expected, 'filtered lossByRank');
  });

  test('honours the project scope', async () => {
    const rows = await analytics.lossByRank(projectsScope(['speech']), null);
    assertClose(rows, referenceLossByRank(docs.filter((d) => d.project === 'speech')), 'scoped lossByRank');
  });

  test('a filter that matches nothing gives no rows, not a row of nulls', async () => {
    assert.deepEqual(await analytics.lossByRank(ALL_PROJECTS, { loraRankIn: [3] }), []);
    assert.deepEqual(await analytics.lossByRank(projectsScope([]), null), []);
  });

  test('a single run gives stddev 0 (population)', async () => {
    const one = docs.find((d) => isFiniteNumber(d.summary?.finalLoss))!;
    const rows = await analytics.lossByRank(ALL_PROJECTS, { nameContains: one.name });
    assert.deepEqual(rows.map((r) => [r.count, r.stddev, r.avg]), [[1, 0, one.summary!.finalLoss]]);
  });
});

describe('groupExperiments', () => {
  const cases: { by: GroupField[]; metric: 'FINAL_LOSS' | 'TOKENS_PER_SECOND' | 'STEPS' | 'WALL_SECONDS' | 'MIN_LOSS'; accumulators: Accumulator[] }[] = [
    { by: ['LORA_RANK', 'LEARNING_RATE'], metric: 'FINAL_LOSS', accumulators: ['AVG', 'MIN', 'MAX', 'STDDEV', 'COUNT', 'MEDIAN'] },
    { by: ['TAG'], metric: 'TOKENS_PER_SECOND', accumulators: ['AVG', 'MEDIAN'] },
    { by: ['TARGET_MODULES', 'BATCH_SIZE'], metric: 'STEPS', accumulators: ['MIN', 'MAX', 'MEDIAN'] },
    { by: ['BASE_MODEL', 'DATASET', 'STATUS'], metric: 'WALL_SECONDS', accumulators: ['STDDEV'] },
    { by: ['PROJECT', 'LORA_ALPHA'], metric: 'MIN_LOSS', accumulators: ['COUNT'] },
  ];
  for (const c of cases) {
    test(`by ${c.by.join('+')} of ${c.metric} with ${c.accumulators.join(' ')} equals the reference`, async () => {
      const rows = await analytics.groupExperiments(ALL_PROJECTS, { ...c, filter: null });
      assertSameGroups(rows as unknown as Record<string, unknown>[], referenceGroups(docs, c.by, c.metric, c.accumulators));
    });
  }

  test('TARGET_MODULES groups the same set listed in any order together', async () => {
    const rows = await analytics.groupExperiments(ALL_PROJECTS, { by: ['TARGET_MODULES'], metric: 'FINAL_LOSS', accumulators: ['COUNT'] });
    assert.deepEqual(rows.map((r) => r.key.targetModules), [['c_attn'], ['c_attn', 'c_proj']]);
  });

  test('BASE_MODEL falls back to config.base_model when the run recorded no base model', async () => {
    const rows = await analytics.groupExperiments(ALL_PROJECTS, { by: ['BASE_MODEL'], metric: 'FINAL_LOSS', accumulators: ['COUNT'] });
    assert.deepEqual(rows.map((r) => r.key.baseModel), ['distilgpt2', 'gpt2', 'gpt2-medium']);
  });

  test('MEDIAN of an even-sized group is the mean of the two middle values', async () => {
    const losses = [0.5, 0.1, 0.4, 0.2];
    const picked = docs.filter((d) => isFiniteNumber(d.summary?.finalLoss)).slice(0, 4);
    const names = picked.map((d) => d.name);
    for (const [i, d] of picked.entries()) {
      await database.db.collection('experiments').updateOne({ _id: d._id }, { $set: { project: 'median-check', 'summary.finalLoss': losses[i] } });
    }
    const rows = await analytics.groupExperiments(projectsScope(['median-check']), { by: ['PROJECT'], metric: 'FINAL_LOSS', accumulators: ['MEDIAN'] });
    assert.deepEqual(rows.map((r) => [r.count, r.median]), [[4, statsOf(losses).median]]);
    assert.equal(statsOf(losses).median, 0.30000000000000004);
    for (const d of picked) {
      await database.db.collection('experiments').replaceOne({ _id: d._id }, d);
    }
    assert.equal(names.length, 4);
  });

  test('filter and scope narrow the groups; an empty match gives no groups', async () => {
    const rows = await analytics.groupExperiments(projectsScope(['vision']), {
      by: ['LORA_RANK'], metric: 'FINAL_LOSS', accumulators: ['AVG'], filter: { loraRankIn: [8, 16] },
    });
    assertSameGroups(rows as unknown as Record<string, unknown>[], referenceGroups(
      docs.filter((d) => d.project === 'vision' && [8, 16].includes(d.config.lora_rank as number)), ['LORA_RANK'], 'FINAL_LOSS', ['AVG']));
    assert.deepEqual(await analytics.groupExperiments(ALL_PROJECTS, { by: ['TAG'], metric: 'FINAL_LOSS', accumulators: ['AVG'], filter: { nameContains: 'no such run' } }), []);
  });

  test('bad arguments are refused naming the argument and what is allowed', async () => {
    await assert.rejects(analytics.groupExperiments(ALL_PROJECTS, { by: [], metric: 'FINAL_LOSS', accumulators: [] }),
      (err: unknown) => err instanceof InvalidInputError && err.field[0] === 'by');
    await assert.rejects(analytics.groupExperiments(ALL_PROJECTS, { by: ['TAG', 'TAG'], metric: 'FINAL_LOSS', accumulators: [] }), /twice/);
    await assert.rejects(analytics.groupExperiments(ALL_PROJECTS, { by: ['$where' as GroupField], metric: 'FINAL_LOSS', accumulators: [] }),
      /by\[0\] is "\$where"; allowed: LORA_RANK/);
  });
});

describe('bestExperiments', () => {
  test('lowest final loss first, ties by id, only finite values', async () => {
    const best = await analytics.bestExperiments(ALL_PROJECTS, 'FINAL_LOSS', 25, null);
    assert.deepEqual(best.map((d) => d._id.toHexString()), referenceBest(docs, 'FINAL_LOSS', 25, 1));
  });

  test('highest tokens/s first, inside a filter', async () => {
    const best = await analytics.bestExperiments(ALL_PROJECTS, 'TOKENS_PER_SECOND', 5, { status: ['FAILED'] });
    assert.deepEqual(best.map((d) => d._id.toHexString()), referenceBest(docs.filter((d) => d.status === 'FAILED'), 'TOKENS_PER_SECOND', 5, -1));
  });

  test('k outside 1..100 is refused', async () => {
    await assert.rejects(analytics.bestExperiments(ALL_PROJECTS, 'FINAL_LOSS', 0, null), /k must be an integer from 1 to 100, got 0/);
  });
});

describe('searchExperiments', () => {
  async function allPages(text: string, pageSize: number, filter: object | null = null): Promise<{ id: string; score: number }[]> {
    const seen: { id: string; score: number }[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await analytics.searchExperiments(ALL_PROJECTS, { text, filter, first: pageSize, after });
      seen.push(...page.hits.map((h) => ({ id: h.doc._id.toHexString(), score: h.score })));
      if (!page.hasNextPage) return seen;
      after = page.hits.at(-1)!.cursor;
    }
  }

  test('Chinese: "古风人物" finds runs described as 古风, ranked by words matched, then newest', async () => {
    const page = await analytics.searchExperiments(ALL_PROJECTS, { text: '古风人物', first: 10 });
    assert.deepEqual(page.queryWords, ['古风', '人物']);
    const reference = referenceSearch(docs, '古风人物');
    assert.deepEqual(page.hits.map((h) => h.doc._id.toHexString()), reference.slice(0, 10).map((r) => r.id));
    assert.ok(page.hits.every((h) => h.matchedWords.length > 0 && h.score > 0 && h.score <= 1));
    // A landscape run matches only 古风 (its notes say 古风山水), never 人物: it is found, ranked lower.
    const landscape = reference.find((r) => docs.find((d) => d._id.toHexString() === r.id)!.name.startsWith('landscape'));
    assert.ok(landscape && landscape.matched === 1);
    assert.equal(page.hits[0]!.doc.searchTokens, undefined, 'tokens are not sent back');
  });

  test('Japanese: "和風の人物" finds the ukiyo-e runs by their prompts', async () => {
    const page = await analytics.searchExperiments(ALL_PROJECTS, { text: '和風の人物', first: 5 });
    assert.deepEqual(page.queryWords, ['和風', '人物']);
    assert.deepEqual(page.hits.map((h) => h.doc._id.toHexString()), referenceSearch(docs, '和風の人物').slice(0, 5).map((r) => r.id));
    assert.ok(page.hits.every((h) => h.doc.name.startsWith('ukiyo-e') && h.score === 1));
  });

  test('English: "Neon Cyberpunk" finds the cyberpunk runs, case-insensitively', async () => {
    const page = await analytics.searchExperiments(ALL_PROJECTS, { text: 'Neon Cyberpunk', first: 3 });
    assert.ok(page.hits.length === 3 && page.hits.every((h) => h.doc.name.startsWith('cyberpunk city')));
  });

  test('paging with cursors walks the whole ranking once, without gaps or repeats (page sizes 7 and 30)', async () => {
    const filter = { project: 'poetry', status: ['FAILED' as const] };
    const expected = referenceSearch(docs.filter((d) => d.project === 'poetry' && d.status === 'FAILED'), '古风人物 haiku');
    assert.ok(expected.length > 30 && expected.some((r) => r.matched === 2) && expected.some((r) => r.matched === 1));
    for (const size of [7, 30]) {
      const pages = await allPages('古风人物 haiku', size, filter);
      assert.deepEqual(pages.map((p) => p.id), expected.map((r) => r.id), `page size ${size}`);
    }
  });

  test('paging across the all-words head of the ranking into partial matches (page sizes 5 and 12)', async () => {
    const filter = { project: 'vision', status: ['COMPLETED' as const], loraRankIn: [8] };
    const expected = referenceSearch(docs.filter((d) => d.project === 'vision' && d.status === 'COMPLETED' && d.config.lora_rank === 8), '古风人物');
    const full = expected.filter((r) => r.matched === 2).length;
    assert.ok(full > 12 && expected.length > full, `both words on ${full} of ${expected.length} runs`);
    for (const size of [5, 12]) {
      const pages = await allPages('古风人物', size, filter);
      assert.deepEqual(pages.map((p) => p.id), expected.map((r) => r.id), `page size ${size}`);
      assert.deepEqual(pages.map((p) => p.score), expected.map((r) => r.matched / 2));
    }
  });

  test('every way a page is found ranks as the reference: tiers of broad, rare and disjoint words, and the scoring pipeline for many words', async () => {
    // "neon frog": no run holds both, so the top tier is empty; "neon frog motif17": runs with
    // two of the words are rare; "haiku": one word; "motif17 motif42": rare words; with ten
    // words the middle tiers (4 to 6 of 10) are too many subsets, so the scoring pipeline ranks
    // the pages that reach them.
    for (const text of ['neon frog', 'neon frog motif17', 'haiku', 'motif17 motif42', 'neon frog motif17 haiku cyberpunk city rainy alley pond jumps']) {
      const expected = referenceSearch(docs, text);
      assert.ok(expected.length > 20, `${text}: ${expected.length} matches`);
      const pages = await allPages(text, expected.length > 200 ? 100 : 20); // several pages each
      assert.deepEqual(pages.map((p) => p.id), expected.map((r) => r.id), text);
      assert.deepEqual(pages.map((p) => p.score), expected.map((r) => r.matched / searchQueryTokens(text).length), text);
    }
  });

  test('a cursor from a search with fewer words is refused, naming after', async () => {
    const page = await analytics.searchExperiments(ALL_PROJECTS, { text: 'neon frog motif17', first: 2 });
    assert.equal(page.hits[0]!.matchedWords.length, 2);
    await assert.rejects(analytics.searchExperiments(ALL_PROJECTS, { text: 'haiku', first: 2, after: page.hits[0]!.cursor }),
      (err: unknown) => err instanceof InvalidInputError && err.field[0] === 'after' && /other words/.test(err.message));
  });

  test('edges: first 0, text without words, unknown words, a bad cursor', async () => {
    const zero = await analytics.searchExperiments(ALL_PROJECTS, { text: 'haiku', first: 0 });
    assert.deepEqual([zero.hits.length, zero.hasNextPage], [0, true]);
    const punctuation = await analytics.searchExperiments(ALL_PROJECTS, { text: ' ,。!', first: 5 });
    assert.deepEqual([punctuation.queryWords, punctuation.hits], [[], []]);
    const none = await analytics.searchExperiments(ALL_PROJECTS, { text: 'zeppelin', first: 5 });
    assert.deepEqual([none.hits.length, none.hasNextPage], [0, false]);
    await assert.rejects(analytics.searchExperiments(ALL_PROJECTS, { text: 'haiku', after: 'bm90LWEtY3Vyc29y' }),
      (err: unknown) => err instanceof InvalidInputError && err.field[0] === 'after');
  });
});

describe('recommendConfig', () => {
  test('ranks configs of similar completed runs by mean final loss, with counts and spread', async () => {
    const answer = await analytics.recommendConfig(ALL_PROJECTS, { baseModel: 'gpt2', dataset: null, tags: null });
    assert.equal(answer.enoughHistory, true);
    const similar = docs.filter((d) => d.status === 'COMPLETED' && isFiniteNumber(d.summary?.finalLoss) &&
      (d.baseModel?.name === 'gpt2' || d.baseModel?.path === 'gpt2' || d.config.base_model === 'gpt2'));
    assert.equal(answer.similarRuns, similar.length);
    const groups = new Map<string, ExperimentDoc[]>();
    for (const d of similar) {
      const key = JSON.stringify([d.config.lora_rank ?? null, d.config.lora_alpha, d.config.learning_rate, d.config.batch_size, [...d.config.target_modules!].sort()]);
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    const ranked = [...groups.values()]
      .filter((g) => g.length >= MIN_RUNS_PER_CONFIG)
      .map((g) => ({ g, s: statsOf(g.map((d) => d.summary!.finalLoss!)) }))
      .sort((a, b) => a.s.avg - b.s.avg || b.s.count - a.s.count);
    const top = ranked[0]!;
    const first = answer.configs[0]!;
    assertClose([first.count, first.avg, first.min, first.max, first.stddev], [top.s.count, top.s.avg, top.s.min, top.s.max, top.s.stddev], 'best config');
    const bestRun = [...top.g].sort((a, b) => a.summary!.finalLoss! - b.summary!.finalLoss!)[0]!;
    assert.equal(first.bestExperimentId.toHexString(), bestRun._id.toHexString());
    assert.match(answer.statement, new RegExp(`From ${similar.length} completed runs with base model gpt2: rank ${top.g[0]!.config.lora_rank}`));
  });

  test('says plainly when history is too thin', async () => {
    const answer = await analytics.recommendConfig(ALL_PROJECTS, { baseModel: 'llama-70b', dataset: null, tags: null });
    assert.equal(answer.enoughHistory, false);
    assert.deepEqual([answer.similarRuns, answer.configs], [0, []]);
    assert.match(answer.statement, /^History is too thin to recommend a config: 0 completed runs with base model llama-70b/);
  });

  test('relaxes the criteria when they leave too little history, and says so', async () => {
    const answer = await analytics.recommendConfig(projectsScope(['poetry']), { baseModel: 'gpt2', dataset: '/data/haiku', tags: ['浮世絵'] });
    assert.equal(answer.enoughHistory, true);
    assert.deepEqual(answer.basedOn, { baseModel: 'gpt2', dataset: null, tags: null });
    assert.match(answer.statement, /too few runs matched base model gpt2, dataset \/data\/haiku, tags 浮世絵, so this looks at base model gpt2\)/);
    const strict = docs.filter((d) => d.project === 'poetry' && d.status === 'COMPLETED' && isFiniteNumber(d.summary?.finalLoss) &&
      d.config.base_model === 'gpt2' && d.config.train_data_dir === '/data/haiku');
    assert.ok(strict.length >= 5, 'the strict tier had runs, but no config tried 3 times');
  });
});
