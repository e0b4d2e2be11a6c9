// A seeded population of experiment documents with known configs and losses, for the
// analytics tests (a few thousand) and benchmarks (100,000). Deterministic: the same seed
// gives the same documents, ids included. Some runs deliberately carry a NaN, infinite,
// null or missing final loss, a missing rank, no tags, or target modules in another order.
import { ObjectId, type Db } from 'mongodb';
import { COLLECTIONS, type ExperimentDoc, type ExperimentStatus } from '../../src/store/documents.ts';
import { experimentSearchTokens } from '../../src/analytics/search-tokens.ts';
import { seededRandom } from './synthetic-curves.ts';

export const SEED_PROJECTS = ['vision', 'speech', 'poetry'] as const;
export const SEED_RANKS = [4, 8, 16, 32, 64] as const;
export const SEED_ALPHAS = [8, 16, 32] as const;
export const SEED_LEARNING_RATES = [1e-4, 2e-4, 5e-4, 1e-3] as const;
export const SEED_BATCH_SIZES = [1, 2, 4, 8] as const;
export const SEED_BASE_MODELS = ['gpt2', 'gpt2-medium', 'distilgpt2'] as const;
export const SEED_DATASETS = ['/data/guofeng', '/data/cyberpunk', '/data/ukiyoe', '/data/haiku'] as const;
const STATUSES: ExperimentStatus[] = ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'RUNNING', 'CANCELLED'];
const TAGS = ['anime', 'portrait', 'landscape', '古风', '赛博朋克', '浮世絵', 'baseline', 'ablation'];

/** Themed texts: each seeded run gets one, so search has known answers in three languages. */
export const SEED_THEMES = [
  { name: 'guofeng portrait', notes: '古风人物肖像，水墨画风格', prompt: '一位穿汉服的女子站在竹林里' },
  { name: 'cyberpunk city', notes: 'neon cyberpunk city streets at night', prompt: 'a rainy cyberpunk alley with neon signs' },
  { name: 'ukiyo-e cats', notes: '浮世絵スタイルの猫のイラスト', prompt: '和風の人物と富士山' },
  { name: 'haiku poems', notes: 'short poems in the haiku form about seasons', prompt: 'an old pond, a frog jumps in' },
  { name: 'landscape painting', notes: '山水画，古风山水与云雾', prompt: 'misty mountains over a river' },
] as const;

export interface SeedOptions {
  count: number;
  seed?: number;
  /** Base time for createdAt; each run is one minute after the previous. */
  start?: Date;
}

export function seededExperiments(options: SeedOptions): ExperimentDoc[] {
  const random = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const start = options.start ?? new Date('2026-01-01T00:00:00Z');
  const docs: ExperimentDoc[] = [];
  for (let i = 0; i < options.count; i++) {
    const rank = pick(SEED_RANKS);
    const learningRate = pick(SEED_LEARNING_RATES);
    const theme = SEED_THEMES[i % SEED_THEMES.length]!;
    const status = pick(STATUSES);
    // Final loss depends on rank and learning rate, plus noise: groups have distinct means.
    const finalLoss = 0.3 + 0.6 / Math.log2(rank) + Math.abs(Math.log10(learningRate) + 3.5) * 0.1 + random() * 0.2;
    const oddity = random();
    const baseModel = pick(SEED_BASE_MODELS);
    const datasetPath = pick(SEED_DATASETS);
    const tags = oddity < 0.05 ? [] : [...new Set([pick(TAGS), pick(TAGS)])];
    const createdAt = new Date(start.getTime() + i * 60_000);
    const doc: ExperimentDoc = {
      _id: ObjectId.createFromTime(Math.floor(createdAt.getTime() / 1000)),
      name: `${theme.name} #${i}`,
      project: pick(SEED_PROJECTS),
      tags,
      // One of 200 motif words per run: a selective search term (0.5% of runs each).
      notes: `${theme.notes} motif${(i * 7919) % 200}`,
      status,
      config: {
        lora_rank: oddity > 0.97 ? undefined : rank,
        lora_alpha: pick(SEED_ALPHAS),
        learning_rate: learningRate,
        batch_size: pick(SEED_BATCH_SIZES),
        target_modules: random() < 0.5 ? ['c_attn', 'c_proj'] : random() < 0.5 ? ['c_proj', 'c_attn'] : ['c_attn'],
        base_model: baseModel,
        train_data_dir: datasetPath,
      },
      configHash: `hash${i}`,
      // Most runs record the base model by name; the rest only in config.base_model.
      baseModel: random() < 0.9 ? { path: `/models/${baseModel}`, name: baseModel } : undefined,
      dataset: { path: datasetPath, sha256: null },
      createdAt,
      updatedAt: createdAt,
      summary: {
        finalLoss: oddity < 0.01 ? Number.NaN : oddity < 0.015 ? Number.POSITIVE_INFINITY : oddity < 0.03 ? null : finalLoss,
        minLoss: finalLoss * 0.95,
        steps: 100 + Math.floor(random() * 1000),
        tokensPerSecond: 1000 + random() * 9000,
        wallSeconds: 60 + random() * 3600,
      },
      samplePrompts: [theme.prompt],
    };
    if (oddity > 0.99) delete doc.summary;
    doc.searchTokens = experimentSearchTokens(doc);
    docs.push(stripUndefinedDeep(doc));
  }
  return docs;
}

/** Inserts through the driver in batches. */
export async function insertSeededExperiments(db: Db, docs: readonly ExperimentDoc[]): Promise<void> {
  const collection = db.collection<ExperimentDoc>(COLLECTIONS.experiments);
  for (let i = 0; i < docs.length; i += 5000) await collection.insertMany(docs.slice(i, i + 5000));
}

function stripUndefinedDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripUndefinedDeep) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = stripUndefinedDeep(v);
    return out as T;
  }
  return value;
}
