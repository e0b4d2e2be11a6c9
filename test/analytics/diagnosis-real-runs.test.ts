// Diagnosis of real runs: the shipped tiny GPT-2 fine-tuned for 60 steps (about a second
// each) with a sane learning rate, one far too high and one of practically zero. Their
// step and eval losses go into metric buckets as ingest stores them, and the diagnosis is
// read back through the analytics repository.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectId } from 'mongodb';
import { parseConfigText } from '../../src/training/config/loadConfig.ts';
import { train } from '../../src/training/trainer.ts';
import { COLLECTIONS, type ExperimentDoc } from '../../src/store/documents.ts';
import { MetricsRepository, type MetricPointInput } from '../../src/store/metrics.ts';
import { AnalyticsRepository } from '../../src/store/analytics/analytics-repository.ts';
import { openTestDatabase, type TestDatabase } from './embedded-database.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'diagnosis-real-'));
let database: TestDatabase;

before(async () => {
  database = await openTestDatabase();
});
after(async () => {
  await database.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Trains 60 steps, stores its loss and eval_loss like ingest, and returns the diagnosis. */
async function trainAndDiagnose(name: string, overrides: Record<string, unknown>) {
  const keys: Record<string, unknown> = {
    base_model: path.join(repo, 'models/tiny-gpt2'), train_data_dir: path.join(repo, 'data-samples/style'),
    output_dir: path.join(tmp, name), lora_rank: 8, lora_alpha: 16, target_modules: ['c_attn', 'mlp.c_fc'],
    seq_len: 32, batch_size: 4, max_steps: 60, learning_rate: 0.01, lr_scheduler: 'cosine', warmup_steps: 5,
    log_steps: 1, eval_steps: 10, save_steps: 1000, seed: 1, device: 'cpu', threads: 1, eval_fraction: 0.1,
    ...overrides,
  };
  const yaml = Object.entries(keys).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n');
  const { config } = parseConfigText(yaml, path.join(tmp, `${name}.yaml`));
  const points: MetricPointInput[] = [];
  for await (const event of train(config)) {
    if (event.type === 'step') points.push({ key: 'loss', step: event.step, value: event.loss });
    if (event.type === 'eval') points.push({ key: 'eval_loss', step: event.step, value: event.evalLoss });
  }
  const now = new Date();
  const doc: ExperimentDoc = {
    _id: new ObjectId(), name, project: 'p', tags: [], status: 'COMPLETED', config: {}, configHash: name, createdAt: now, updatedAt: now,
  };
  await database.db.collection<ExperimentDoc>(COLLECTIONS.experiments).insertOne(doc);
  await new MetricsRepository(database.db).appendMetrics(doc._id, points);
  return new AnalyticsRepository(database.db).diagnose(doc);
}

test('a real run with a sane learning rate (loss 10 -> 4) gets no finding', async () => {
  assert.deepEqual(await trainAndDiagnose('sane', {}), []);
});

test('a real run with a learning rate far too high is read as OSCILLATION_WITHOUT_TREND', async () => {
  const findings = await trainAndDiagnose('hot', { learning_rate: 50, warmup_steps: 0, lr_scheduler: 'constant', max_grad_norm: 0 });
  assert.deepEqual(findings.map((f) => f.rule), ['OSCILLATION_WITHOUT_TREND']);
  assert.match(findings[0]!.advice, /learning rate is likely too high/);
});

test('a real run that learns nothing (learning rate ~0) is FLAT_NEAR_START, with the unmoved eval loss as evidence', async () => {
  const findings = await trainAndDiagnose('frozen', { learning_rate: 1e-9, warmup_steps: 0, lr_scheduler: 'constant' });
  assert.deepEqual(findings.map((f) => f.rule), ['FLAT_NEAR_START']);
  assert.ok(findings[0]!.evidence.some((e) => e.key === 'eval_loss'));
});
