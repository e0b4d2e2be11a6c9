// bench:ingest — (1) metric points per second stored from one run's event log through the
// real ingest path (parse JSON lines, batch, idempotent bucket upserts, summary), and through
// appendMetrics alone; target >= 100,000 points/s. (2) the built-in trainer's step time
// standalone vs. launched through the job runner with the registry ingesting its events;
// target <= 3% overhead. Prints medians of several rounds.
//
//   npm run bench:ingest [-- --rounds 3 --steps 250000 --trainer-steps 100 --skip-trainer]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { ObjectId } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';
import { connectDatabase } from '../../src/store/connection.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { createStore } from '../../src/store/store.ts';
import { ALL_PROJECTS } from '../../src/store/scope.ts';
import { EventLogTail } from '../../src/jobs/event-log-tail.ts';
import { builtinTrainCommand, JobRunner } from '../../src/jobs/job-runner.ts';
import { launchTraining } from '../../src/jobs/launch-training.ts';
import { InMemoryPubSub } from '../../src/jobs/pubsub.ts';
import { RunFollower } from '../../src/jobs/run-follower.ts';
import { RunIngest } from '../../src/jobs/run-ingest.ts';
import { RunRecords } from '../../src/jobs/run-records.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '250000' },
    'trainer-steps': { type: 'string', default: '100' },
    'skip-trainer': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const STEPS = Number(args.steps);
const TRAINER_STEPS = Number(args['trainer-steps']);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
const engine = await startEmbeddedMongo({ dataDir: path.join(dir, 'db'), port: 0, quiet: true });
const connection = await connectDatabase({ uri: engine.uri });
const db = connection.db;
try {
  const metrics = new MetricsRepository(db);
  const records = new RunRecords(db);
  await metrics.ensureIndexes();

  // (1) An event log of STEPS step events (4 metric points each), as the trainer writes it.
  const logFile = path.join(dir, 'events.jsonl');
  const lines: string[] = [];
  const t0 = Date.now();
  for (let step = 1; step <= STEPS; step++) {
    lines.push(JSON.stringify({ type: 'step', time: new Date(t0 + step).toISOString(), step, epoch: step / 1000, loss: 3 / Math.sqrt(step), learningRate: 2e-4, gradNorm: 1 / step, tokensPerSecond: 5000, etaSeconds: STEPS - step }));
  }
  writeFileSync(logFile, `${lines.join('\n')}\n`);
  const pointsPerRun = STEPS * 4;

  const logRates: number[] = [];
  const appendRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const experimentId = new ObjectId();
    await db.collection('experiments').insertOne({ _id: experimentId, project: 'bench', status: 'RUNNING' });
    const ingest = new RunIngest({ experimentId, project: 'bench', records, metrics, pubsub: new InMemoryPubSub(), status: () => 'RUNNING' });
    const follower = new RunFollower({ tail: new EventLogTail(logFile, 0), ingest, committedOffset: 0 });
    follower.processHasExited();
    let t = performance.now();
    await follower.run();
    const logSeconds = (performance.now() - t) / 1000;
    const stored = await metrics.buckets.countDocuments({ experimentId });
    if (stored !== Math.ceil((STEPS + 1) / 1000) * 4) throw new Error(`expected every bucket stored, found ${stored}`);
    logRates.push(pointsPerRun / logSeconds);

    const direct = new ObjectId();
    t = performance.now();
    for (let from = 1; from <= STEPS; from += 5000) {
      const batch = [];
      for (let step = from; step < Math.min(from + 5000, STEPS + 1); step++) {
        const time = new Date(t0 + step);
        batch.push({ key: 'loss', step, value: 3 / Math.sqrt(step), time }, { key: 'learningRate', step, value: 2e-4, time }, { key: 'gradNorm', step, value: 1 / step, time }, { key: 'tokensPerSecond', step, value: 5000, time });
      }
      await metrics.appendMetrics(direct, batch);
    }
    appendRates.push(pointsPerRun / ((performance.now() - t) / 1000));
    console.log(`round ${round + 1}: event log -> store ${Math.round(logRates.at(-1)!).toLocaleString('en')} points/s; appendMetrics (20,000-point batches) ${Math.round(appendRates.at(-1)!).toLocaleString('en')} points/s`);
  }
  console.log(`ingest, ${pointsPerRun.toLocaleString('en')} points per run: median ${Math.round(median(logRates)).toLocaleString('en')} points/s through the event log, ${Math.round(median(appendRates)).toLocaleString('en')} points/s through appendMetrics`);

  if (!args['skip-trainer']) {
    // (2) The tiny config, standalone vs. through the job runner; step time from the trainer's own clock.
    const base = yaml.load(readFileSync(path.join(repoRoot, 'configs', 'tiny-style.yaml'), 'utf8')) as Record<string, unknown>;
    const config: Record<string, unknown> = {
      ...base,
      base_model: path.join(repoRoot, 'models', 'tiny-gpt2'),
      train_data_dir: path.join(repoRoot, 'data-samples', 'style'),
      max_steps: TRAINER_STEPS, eval_steps: 0, save_steps: 0, warmup_steps: 5,
    };
    const tokensPerStep = (config.batch_size as number) * (config.seq_len as number);
    const stepMs = (doneLine: { tokensPerSecond: number }) => (tokensPerStep / doneLine.tokensPerSecond) * 1000;
    const readDone = (file: string) => JSON.parse(readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.includes('"type":"done"')).at(-1)!) as { tokensPerSecond: number };

    const store = createStore(db, { workspaceDir: path.join(dir, 'runs') });
    const runner = new JobRunner({ db, pubsub: new InMemoryPubSub(), runsDir: path.join(dir, 'runs'), maxConcurrentRuns: 1 });
    await runner.start();
    const standalone: number[] = [];
    const logged: number[] = [];
    const registryCpuPerStep: number[] = [];
    const runStandalone = (round: number) => {
      const file = path.join(dir, `standalone-${round}.yaml`);
      writeFileSync(file, yaml.dump({ ...config, output_dir: path.join(dir, `standalone-${round}`) }));
      const argv = builtinTrainCommand(file);
      const events = path.join(dir, `standalone-${round}.jsonl`);
      const res = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
      writeFileSync(events, res.stdout);
      standalone.push(stepMs(readDone(events)));
    };
    const runLogged = async (round: number) => {
      const cpuBefore = process.cpuUsage();
      const doc = await launchTraining({ store, runner, baseDir: repoRoot }, ALL_PROJECTS, { name: `bench-${round}`, project: 'bench', tags: [], configYaml: yaml.dump(config) });
      for (;;) {
        const d = await runner.records.find(doc._id);
        if (d?.status === 'COMPLETED') break;
        if (d?.status === 'FAILED') throw new Error(`trainer failed: ${JSON.stringify(d.error)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const cpu = process.cpuUsage(cpuBefore);
      registryCpuPerStep.push((cpu.user + cpu.system) / 1000 / TRAINER_STEPS);
      logged.push(stepMs(readDone(runner.pathsOf(doc._id.toHexString()).eventLog)));
    };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so drift in the machine's load does not favour one side.
      if (round % 2 === 0) {
        runStandalone(round);
        await runLogged(round);
      } else {
        await runLogged(round);
        runStandalone(round);
      }
      console.log(`round ${round + 1}: step time standalone ${standalone.at(-1)!.toFixed(2)} ms, with registry logging ${logged.at(-1)!.toFixed(2)} ms; registry process CPU ${registryCpuPerStep.at(-1)!.toFixed(3)} ms per step (launch, follow, store, status polling included)`);
    }
    await runner.dispose();
    const overhead = (median(logged) / median(standalone) - 1) * 100;
    console.log(`trainer step (tiny config, ${TRAINER_STEPS} steps): median ${median(standalone).toFixed(2)} ms standalone, ${median(logged).toFixed(2)} ms with registry logging (${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)}%); registry CPU per step ${median(registryCpuPerStep).toFixed(3)} ms = ${((median(registryCpuPerStep) / median(standalone)) * 100).toFixed(2)}% of a standalone step`);
  }
} finally {
  await connection.close();
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
}
