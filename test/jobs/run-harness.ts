// A job runner over a fresh embedded engine, with the protocol fixture allow-listed as
// external commands, for the job-layer tests.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectId } from 'mongodb';
import { createStore, type Store } from '../../src/store/store.ts';
import { ALL_PROJECTS } from '../../src/store/scope.ts';
import type { ExperimentStatus } from '../../src/store/documents.ts';
import { parseExternalRunners } from '../../src/jobs/external-runners.ts';
import { JobRunner, type JobRunnerOptions } from '../../src/jobs/job-runner.ts';
import { launchTraining, type LaunchRequest } from '../../src/jobs/launch-training.ts';
import { InMemoryPubSub } from '../../src/jobs/pubsub.ts';
import type { JobExperimentDoc } from '../../src/jobs/run-records.ts';
import { startTestDatabase, type TestDatabase } from './database-fixture.ts';

export const PROTOCOL_TRAINER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'protocol-trainer.mjs');

/** Allow-list entries running the fixture with various behaviours (all write into {outputDir}). */
export const FIXTURE_RUNNERS = {
  'fixture-20': { argv: ['{node}', PROTOCOL_TRAINER, '--out', '{outputDir}', '--steps', '20', '--checkpoint-every', '5'] },
  'fixture-slow': { argv: ['{node}', PROTOCOL_TRAINER, '--out', '{outputDir}', '--steps', '60', '--delay-ms', '25', '--checkpoint-every', '10'] },
  'fixture-cuda-oom': { argv: ['{node}', PROTOCOL_TRAINER, '--out', '{outputDir}', '--steps', '20', '--fail-at', '7', '--fail-message', 'CUDA out of memory. Tried to allocate 2.00 GiB'] },
  'fixture-exit-3': { argv: ['{node}', PROTOCOL_TRAINER, '--out', '{outputDir}', '--steps', '20', '--exit-code-at', '4:3'] },
  'fixture-no-done': { argv: ['{node}', PROTOCOL_TRAINER, '--out', '{outputDir}', '--steps', '5', '--no-done'] },
  'missing-program': { argv: ['/nonexistent/trainer-binary', '--steps', '3'] },
};

export interface RunHarness {
  database: TestDatabase;
  store: Store;
  runner: JobRunner;
  pubsub: InMemoryPubSub;
  runsDir: string;
  launch(req: Partial<LaunchRequest>): Promise<JobExperimentDoc>;
  waitForStatus(id: ObjectId, statuses: ExperimentStatus[], timeoutMs?: number): Promise<JobExperimentDoc>;
  close(): Promise<void>;
}

export async function startRunHarness(options: Partial<JobRunnerOptions> = {}): Promise<RunHarness> {
  const database = await startTestDatabase();
  const runsDir = mkdtempSync(path.join(os.tmpdir(), 'lora-runs-'));
  const store = createStore(database.db, { workspaceDir: runsDir });
  const pubsub = new InMemoryPubSub();
  const runner = new JobRunner({
    db: database.db,
    pubsub,
    runsDir,
    maxConcurrentRuns: 2,
    externalRunners: parseExternalRunners(FIXTURE_RUNNERS),
    stopGraceMs: 5000,
    ...options,
  });
  await runner.start();
  return {
    database,
    store,
    runner,
    pubsub,
    runsDir,
    launch: (req) =>
      launchTraining({ store, runner, baseDir: process.cwd() }, ALL_PROJECTS, { name: 'run', project: 'jobs-test', tags: [], ...req }),
    async waitForStatus(id, statuses, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const doc = await runner.records.find(id);
        if (doc && statuses.includes(doc.status)) return doc;
        if (Date.now() > deadline) throw new Error(`experiment ${id} is ${doc?.status}, still not ${statuses.join('/')} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await runner.dispose();
      await database.close();
      rmSync(runsDir, { recursive: true, force: true });
    },
  };
}
