// bench:ingest — (1) metric points per second stored from one run's event log through the
// real ingest path (parse JSON lines, batch, idempotent bucket upserts, summary), and through
// appendMetrics alone; target >= 100,000 points/s. (2) the built-in trainer's step time
// standalone vs. launched through the job runner with the registry ingesting its events;
// target <= 3% overhead. Rounds alternate which goes first; the registry's CPU is measured
// over the training window (first to last step event it publishes) apart from the launch and
// finish around it, and the comparison repeats for each trainer thread count given (at 1
// thread a core is free for the registry). Prints medians of the rounds.
//
//   npm run bench:ingest [-- --rounds 3 --steps 250000 --skip-ingest
//                           --trainer-rounds 5 --trainer-steps 600 --threads 2,1 --skip-trainer
//                           --profile-dir DIR]   (DIR gets a .cpuprofile of each training window)
import { Session } from 'node:inspector';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import yaml from 'js-yaml';
import { ObjectId, type Db } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';
import { connectDatabase } from '../../src/store/connection.ts';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { createStore } from '../../src/store/store.ts';
import { ALL_PROJECTS } from '../../src/store/scope.ts';
import { EventLogTail } from '../../src/jobs/event-log-tail.ts';
import { builtinTrainCommand, JobRunner } from '../../src/jobs/job-runner.ts';
import { launchTraining } from '../../src/jobs/launch-training.ts';
import type { TrainingProgressPayload } from '../../src/jobs/progress-events.ts';
import { InMemoryPubSub } from '../../src/jobs/pubsub.ts';
import { RunFollower } from '../../src/jobs/run-follower.ts';
import { RunIngest } from '../../src/jobs/run-ingest.ts';
import { RunRecords } from '../../src/jobs/run-records.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '250000' },
    'skip-ingest': { type: 'boolean', default: false },
    'trainer-rounds': { type: 'string', default: '5' },
    'trainer-steps': { type: 'string', default: '600' },
    threads: { type: 'string', default: '2,1' },
    'profile-dir': { type: 'string' },
    'skip-trainer': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const STEPS = Number(args.steps);
const TRAINER_ROUNDS = Number(args['trainer-rounds']);
const TRAINER_STEPS = Number(args['trainer-steps']);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** Runs `use` against an embedded engine of its own, in this process (as `npm start` runs it), with durable acks. */
async function withDatabase(name: string, use: (db: Db) => Promise<void>): Promise<void> {
  const engine = await startEmbeddedMongo({ dataDir: path.join(dir, name), port: 0, quiet: true });
  const connection = await connectDatabase({ uri: engine.uri });
  try {
    await use(connection.db);
  } finally {
    await connection.close();
    await engine.stop();
  }
}

async function measureIngest(db: Db): Promise<void> {
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
}

/** CPU time of this process (the registry: runner, follower, ingest, embedded engine) in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Pub/sub that notes, without subscribing, this process's CPU when the run's first step and
 * its step `finalStep` are published (the training window), and when the run ends.
 */
class TrainingWindowPubSub extends InMemoryPubSub {
  first: { step: number; cpuMs: number } | null = null;
  last: { step: number; cpuMs: number } | null = null;
  private ended: ((status: string) => void) | null = null;

  /** `onWindow` is called at the window's first step and at the run's end. */
  constructor(
    private readonly finalStep: number,
    private readonly onWindow: { start(): void; end(): void } | null,
  ) {
    super();
  }

  /** Resolves with the run's terminal status; resets the window. */
  nextEnd(): Promise<string> {
    this.first = this.last = null;
    return new Promise((resolve) => (this.ended = resolve));
  }

  override publish(topic: string, payload: unknown): void {
    const p = payload as TrainingProgressPayload;
    if (topic.startsWith('trainingProgress:')) {
      if (p.kind === 'STEP' && p.step !== null && (!this.first || p.step === this.finalStep)) {
        this.last = { step: p.step, cpuMs: cpuMs() };
        if (!this.first) {
          this.first = this.last;
          this.onWindow?.start();
        }
      } else if (p.kind === 'STATUS' && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(p.status)) {
        if (this.first) this.onWindow?.end();
        const ended = this.ended;
        this.ended = null;
        ended?.(p.status);
      }
    }
    super.publish(topic, payload);
  }
}

/** Writes a CPU profile of this process per training window into `dir` (read it with Chrome DevTools or speedscope). */
function windowProfiler(outDir: string, label: string): { start(): void; end(): void } {
  mkdirSync(outDir, { recursive: true });
  const session = new Session();
  session.connect();
  let n = 0;
  return {
    start: () => {
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    },
    end: () => {
      session.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(path.join(outDir, `${label}-${++n}.cpuprofile`), JSON.stringify(res.profile));
      });
    },
  };
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const signedPercent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

/** (2) The tiny config at `threads` trainer threads, standalone vs. through the job runner; step time from the trainer's own clock. */
async function compareStepTimes(db: Db, threads: number): Promise<void> {
  const base = yaml.load(readFileSync(path.join(repoRoot, 'configs', 'tiny-style.yaml'), 'utf8')) as Record<string, unknown>;
  const config: Record<string, unknown> = {
    ...base,
    base_model: path.join(repoRoot, 'models', 'tiny-gpt2'),
    train_data_dir: path.join(repoRoot, 'data-samples', 'style'),
    max_steps: TRAINER_STEPS, eval_steps: 0, save_steps: 0, warmup_steps: 5, threads,
  };
  const tokensPerStep = (config.batch_size as number) * (config.seq_len as number);
  const stepMs = (eventLog: string) => {
    const done = JSON.parse(readFileSync(eventLog, 'utf8').trim().split('\n').filter((l) => l.includes('"type":"done"')).at(-1)!) as { tokensPerSecond: number };
    return (tokensPerStep / done.tokensPerSecond) * 1000;
  };

  const pubsub = new TrainingWindowPubSub(TRAINER_STEPS, args['profile-dir'] ? windowProfiler(args['profile-dir'], `threads-${threads}`) : null);
  const store = createStore(db, { workspaceDir: path.join(dir, 'runs') });
  const runner = new JobRunner({ db, pubsub, runsDir: path.join(dir, 'runs'), maxConcurrentRuns: 1 });
  await runner.start();
  const standalone: number[] = [];
  const logged: number[] = [];
  const windowCpuPerStep: number[] = [];
  const launchAndFinishCpu: number[] = [];
  const runStandalone = (round: number) => {
    const file = path.join(dir, `standalone-${threads}-${round}.yaml`);
    writeFileSync(file, yaml.dump({ ...config, output_dir: path.join(dir, `standalone-${threads}-${round}`) }));
    const argv = builtinTrainCommand(file);
    // Events to a file nobody reads, as the runner's child writes them; this process sleeps meanwhile.
    const events = path.join(dir, `standalone-${threads}-${round}.jsonl`);
    const out = openSync(events, 'w');
    try {
      const res = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', out, 'inherit'] });
      if (res.status !== 0) throw new Error(`standalone trainer exited with ${res.status ?? res.signal}`);
    } finally {
      closeSync(out);
    }
    standalone.push(stepMs(events));
  };
  const runLogged = async (round: number) => {
    const ended = pubsub.nextEnd();
    const before = cpuMs();
    const doc = await launchTraining({ store, runner, baseDir: repoRoot }, ALL_PROJECTS, { name: `bench-${threads}-${round}`, project: 'bench', tags: [], configYaml: yaml.dump(config) });
    const status = await ended;
    const total = cpuMs() - before;
    if (status !== 'COMPLETED') throw new Error(`trainer ended ${status}: ${JSON.stringify((await runner.records.find(doc._id))?.error)}`);
    const { first, last } = pubsub;
    if (!first || !last || last.step <= first.step) throw new Error('the run published fewer than two steps');
    const window = last.cpuMs - first.cpuMs;
    windowCpuPerStep.push(window / (last.step - first.step));
    launchAndFinishCpu.push(total - window);
    logged.push(stepMs(runner.pathsOf(doc._id.toHexString()).eventLog));
  };
  for (let round = 0; round < TRAINER_ROUNDS; round++) {
    const loadBefore = loadAverage();
    // Alternate which goes first, so drift in the machine's load does not favour one side.
    if (round % 2 === 0) {
      runStandalone(round);
      await runLogged(round);
    } else {
      await runLogged(round);
      runStandalone(round);
    }
    console.log(
      `threads ${threads}, round ${round + 1} (load ${loadBefore} -> ${loadAverage()}): step time standalone ${standalone.at(-1)!.toFixed(2)} ms, with registry logging ${logged.at(-1)!.toFixed(2)} ms; ` +
        `registry CPU ${windowCpuPerStep.at(-1)!.toFixed(3)} ms per step while training, ${launchAndFinishCpu.at(-1)!.toFixed(0)} ms for launch and finish`,
    );
  }
  await runner.dispose();
  const perRound = logged.map((l, i) => signedPercent(l / standalone[i]!)).join(', ');
  console.log(
    `trainer step (tiny config, ${threads} thread${threads === 1 ? '' : 's'}, ${TRAINER_STEPS} steps, ${TRAINER_ROUNDS} rounds): median ${median(standalone).toFixed(2)} ms standalone, ${median(logged).toFixed(2)} ms with registry logging ` +
      `(${signedPercent(median(logged) / median(standalone))}; rounds ${perRound}); registry CPU while training ${median(windowCpuPerStep).toFixed(3)} ms per step = ` +
      `${((median(windowCpuPerStep) / median(standalone)) * 100).toFixed(2)}% of a standalone step; launch and finish ${median(launchAndFinishCpu).toFixed(0)} ms per run`,
  );
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
try {
  if (!args['skip-ingest']) await withDatabase('ingest', measureIngest);
  // A fresh engine: the million points of (1) would otherwise sit in this process's heap, and
  // every major garbage collection during the trainer runs would charge them to the registry.
  if (!args['skip-trainer']) {
    await withDatabase('trainer', async (db) => {
      for (const threads of args.threads!.split(',').map(Number)) await compareStepTimes(db, threads);
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
