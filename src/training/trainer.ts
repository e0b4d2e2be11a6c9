// The training loop. `train(config)` is an async iterable of TrainerEvent: start, step
// (every optimizer step), eval, checkpoint, then done or failed. It never throws: every
// error ends the stream with a `failed` event whose type classifies it (NAN_LOSS, OOM,
// CUDA_OOM, DATA_ERROR, CONFIG_ERROR, CANCELLED, UNKNOWN).
//
// Reproducibility: one seeded RNG draws the LoRA init, each epoch's data order and every
// dropout mask, in that order. A checkpoint stores the RNG state, the data position, the
// optimizer moments and the log sizes, so a run resumed from checkpoint-N computes exactly
// what the uninterrupted run computed after step N.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FileRef } from '../store/documents.ts';
import type { TrainerEvent, StepEvent } from './events.ts';
import { configHash as hashConfig, type TrainConfig } from './config/trainConfig.ts';
import { loadBaseModel, type BaseModel } from './baseModel.ts';
import { loadPackedDataset, makeBatch, type PackedDataset } from './dataset.ts';
import { ForwardModel, initLoraTensors, loraTensorShapes, dropoutMaskShapes, TrainStep, type LoraSpec, type NamedShape } from './model/index.ts';
import { AdamW } from './optimizer/adamw.ts';
import { learningRateAt, type LrSchedule } from './optimizer/lrSchedule.ts';
import { clipGradNorm } from './optimizer/gradientClipping.ts';
import { GradientAccumulator } from './optimizer/gradientAccumulator.ts';
import { Rng } from './rng.ts';
import { drawDropoutMasks } from './dropoutMasks.ts';
import { heldOutLoss } from './heldOutLoss.ts';
import { chooseExecutionProvider } from './executionProvider.ts';
import { describeEnvironment } from './environment.ts';
import { findLatestCheckpoint, loadCheckpoint, pruneCheckpoints, saveCheckpoint, type TrainerState } from './checkpoint.ts';
import { checkAdapterShapes, readPeftAdapter, writeHfModel, writePeftAdapter, mergeLoraIntoBase } from './peft.ts';
import { fileRef } from './durableFiles.ts';
import { TrainLog } from './trainLog.ts';
import { TensorBoardWriter } from './tensorboard.ts';
import { ConfigError, DataError, TrainingError, classifyError } from './trainingError.ts';

export interface TrainOptions {
  /** Stops the run between optimizer steps with a CANCELLED failure. */
  signal?: AbortSignal;
}

const now = () => new Date().toISOString();

/** Everything prepared before the first step; released in `finally`. */
interface Session {
  config: TrainConfig;
  hash: string;
  base: BaseModel;
  data: PackedDataset;
  spec: LoraSpec;
  loraShapes: NamedShape[];
  maskShapes: NamedShape[];
  trainStep: TrainStep;
  evaluator: ForwardModel;
  log: TrainLog;
  tensorboard: TensorBoardWriter;
  rng: Rng;
  lora: Map<string, Float32Array>;
  optimizer: AdamW;
  state: TrainerState;
  totalSteps: number;
  resumedFrom: { step: number; dir: string } | null;
  notes: string[];
}

function loraSpecOf(config: TrainConfig): LoraSpec {
  return { rank: config.lora_rank, alpha: config.lora_alpha, dropout: config.lora_dropout, targetModules: [...config.target_modules] };
}

/** Optimizer steps in one pass over the training sequences. */
function stepsPerEpoch(config: TrainConfig, trainSequences: number): number {
  const microBatches = Math.floor(trainSequences / config.batch_size);
  return Math.floor(microBatches / config.gradient_accumulation_steps);
}

function openLogs(config: TrainConfig, state: TrainerState | null): { log: TrainLog; tensorboard: TensorBoardWriter } {
  const logDir = path.join(config.output_dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, 'train.log');
  if (state && existsSync(logFile) && state.tensorboardFile && existsSync(state.tensorboardFile)) {
    return { log: TrainLog.reopen(logFile, state.logBytes), tensorboard: TensorBoardWriter.reopen(state.tensorboardFile, state.tensorboardBytes) };
  }
  // A fresh run owns the log directory: stale event files would show as duplicate curves.
  for (const name of readdirSync(logDir)) if (name.startsWith('events.out.tfevents.')) rmSync(path.join(logDir, name));
  return { log: TrainLog.create(logFile), tensorboard: TensorBoardWriter.create(logDir) };
}

async function prepare(config: TrainConfig): Promise<Session> {
  const hash = hashConfig(config);
  const notes: string[] = [];
  const base = loadBaseModel(config.base_model);
  if (config.seq_len > base.config.nPositions) {
    throw new ConfigError([{ key: 'seq_len', value: config.seq_len, allowed: `expected at most the base model's n_positions (${base.config.nPositions})` }]);
  }
  const data = loadPackedDataset({ dir: config.train_data_dir, seqLen: config.seq_len, evalFraction: config.eval_fraction, tokenizer: base.tokenizer });
  const perEpoch = stepsPerEpoch(config, data.train.length);
  if (perEpoch === 0) {
    throw new DataError(
      `train_data_dir: ${config.train_data_dir} gives ${data.train.length} training sequence(s) of seq_len ${config.seq_len}; ` +
        `one optimizer step needs batch_size x gradient_accumulation_steps = ${config.batch_size * config.gradient_accumulation_steps}. Add text or lower them.`,
    );
  }
  const totalSteps = config.max_steps ?? config.epochs * perEpoch;
  const spec = loraSpecOf(config);
  const loraShapes = loraTensorShapes(base.config, spec);
  const maskShapes = dropoutMaskShapes(base.config, spec, config.batch_size, config.seq_len);

  const latest = findLatestCheckpoint(config.output_dir);
  let rng: Rng;
  let lora: Map<string, Float32Array>;
  const optimizer = new AdamW({ beta1: config.adam_beta1, beta2: config.adam_beta2, eps: config.adam_epsilon, weightDecay: config.weight_decay });
  let state: TrainerState;
  if (latest) {
    const saved = loadCheckpoint(latest.dir);
    if (saved.state.configHash !== hash) {
      throw new TrainingError(
        'CONFIG_ERROR',
        `output_dir: ${config.output_dir} holds ${path.basename(latest.dir)} of a run with another config (hash ${saved.state.configHash.slice(0, 12)}, this config ${hash.slice(0, 12)}); ` +
          'rerun with the same config to resume, or choose a new output_dir',
      );
    }
    checkAdapterShapes(saved.lora, loraShapes, latest.dir);
    rng = Rng.fromState(saved.state.rngState);
    lora = saved.lora;
    optimizer.step = saved.optimizerStep;
    for (const [name, moments] of saved.moments) optimizer.moments.set(name, moments);
    state = saved.state;
  } else {
    rng = Rng.fromSeed(config.seed);
    // Always draw the init so the data order and masks that follow don't depend on init_adapter.
    lora = initLoraTensors(base.config, spec, () => rng.nextFloat());
    if (config.init_adapter) {
      const adapter = readPeftAdapter(config.init_adapter);
      checkAdapterShapes(adapter.tensors, loraShapes, `init_adapter ${config.init_adapter}`);
      lora = new Map(loraShapes.map(({ name }) => [name, Float32Array.from(adapter.tensors.get(name)!)]));
      if (adapter.spec.alpha !== spec.alpha) notes.push(`init_adapter: its lora_alpha ${adapter.spec.alpha} differs from this config's ${spec.alpha}; training uses ${spec.alpha}`);
    }
    state = {
      step: 0, epoch: 0, dataPosition: 0, dataOrder: rng.permutation(data.train.length), rngState: rng.state(),
      configHash: hash, loss: null, logBytes: 0, tensorboardFile: null, tensorboardBytes: 0, tokensSeen: 0,
    };
  }

  const { provider, note } = chooseExecutionProvider(config.device);
  if (note) notes.push(note);
  const modelOptions = { config: base.config, weights: base.weights, lora: spec, batchSize: config.batch_size, seqLen: config.seq_len, threads: config.threads ?? undefined };
  let trainStep: TrainStep;
  let evaluator: ForwardModel;
  try {
    trainStep = await TrainStep.create({ ...modelOptions, executionProvider: provider });
    evaluator = await ForwardModel.create({ ...modelOptions, executionProvider: provider });
  } catch (err) {
    if (config.device !== 'auto' || provider === 'cpu') throw err;
    notes.push(`device auto: CUDA session failed (${(err as Error).message}); using CPU`);
    trainStep = await TrainStep.create({ ...modelOptions, executionProvider: 'cpu' });
    evaluator = await ForwardModel.create({ ...modelOptions, executionProvider: 'cpu' });
  }
  const { log, tensorboard } = openLogs(config, latest ? state : null);
  return { config, hash, base, data, spec, loraShapes, maskShapes, trainStep, evaluator, log, tensorboard, rng, lora, optimizer, state, totalSteps, resumedFrom: latest, notes };
}

/** The next micro-batch of sequence indices, starting a new epoch (and drawing its order) when needed. */
function nextMicroBatch(s: Session): number[] {
  const { state } = s;
  const batchSize = s.config.batch_size;
  if (state.dataPosition + batchSize > state.dataOrder.length) {
    state.epoch += 1;
    state.dataOrder = s.rng.permutation(s.data.train.length);
    state.dataPosition = 0;
  }
  const indices = state.dataOrder.slice(state.dataPosition, state.dataPosition + batchSize);
  state.dataPosition += batchSize;
  return indices;
}

function fractionalEpoch(s: Session): number {
  return s.state.epoch + s.state.dataPosition / s.data.train.length;
}

export async function* train(config: TrainConfig, options: TrainOptions = {}): AsyncGenerator<TrainerEvent> {
  const startedAt = Date.now();
  let s: Session | null = null;
  // Events go to the caller and, once the log is open, to logs/train.log.
  const record = (event: TrainerEvent): TrainerEvent => {
    s?.log.write(event as unknown as Record<string, unknown>);
    return event;
  };
  try {
    s = await prepare(config);
    const { data, base, state, totalSteps } = s;
    yield record({
      type: 'start',
      time: now(),
      totalSteps,
      configHash: s.hash,
      resumedFromStep: s.resumedFrom?.step ?? null,
      environment: describeEnvironment(s.trainStep.executionProvider),
      dataset: { path: data.manifest.dir, sha256: data.manifest.sha256, files: data.manifest.files.length, tokens: data.tokens },
      baseModel: { path: base.dir, sha256: base.sha256 },
      outputDir: config.output_dir,
      notes: s.notes,
      trainSequences: data.train.length,
      evalSequences: data.eval.length,
    });
    if (s.resumedFrom) {
      s.log.write({ type: 'resume', time: now(), step: s.resumedFrom.step, dir: s.resumedFrom.dir, files: readdirSync(s.resumedFrom.dir).sort().map((f) => fileRef(path.join(s!.resumedFrom!.dir, f))) });
    } else {
      const evalLoss = await heldOutLoss(s.evaluator, data.eval, config.batch_size, config.seq_len, s.lora);
      s.tensorboard.addScalars(0, { 'eval/loss': evalLoss });
      yield record({ type: 'eval', time: now(), step: 0, evalLoss });
    }

    const schedule: LrSchedule = { name: config.lr_scheduler, baseLr: config.learning_rate, warmupSteps: config.warmup_steps, totalSteps };
    const accumulator = new GradientAccumulator();
    let trainingMs = 0;
    let tokensThisProcess = 0;
    let lastLoss: number | null = state.loss;
    let lastEval: number | null = null;
    let savedStep = s.resumedFrom?.step ?? -1;

    while (state.step < totalSteps) {
      if (options.signal?.aborted) {
        // A cancelled run (cancelTraining, Ctrl-C) keeps its progress: resume continues from here.
        if (state.step > 0 && savedStep !== state.step) yield record(checkpoint(s));
        throw new TrainingError('CANCELLED', `cancelled before step ${state.step + 1}`);
      }
      const stepStart = performance.now();
      const step = state.step + 1;
      for (let micro = 0; micro < config.gradient_accumulation_steps; micro++) {
        const batch = makeBatch(nextMicroBatch(s).map((i) => data.train[i]), config.seq_len);
        const dropoutMasks = drawDropoutMasks(s.maskShapes, config.lora_dropout, s.rng);
        const result = await s.trainStep.run({ ...batch, lora: s.lora, dropoutMasks });
        if (!Number.isFinite(result.loss)) {
          throw new TrainingError('NAN_LOSS', `loss is ${result.loss} at step ${step} (micro-batch ${micro + 1}); lower learning_rate, raise warmup_steps or check the data`);
        }
        accumulator.add(result.grads, result.loss, result.tokens);
      }
      const { grads, loss, tokens } = accumulator.take();
      const gradNorm = clipGradNorm(grads.values(), config.max_grad_norm);
      if (!Number.isFinite(gradNorm)) throw new TrainingError('NAN_LOSS', `gradient norm is ${gradNorm} at step ${step} (loss ${loss}); lower learning_rate or max_grad_norm`);
      const learningRate = learningRateAt(schedule, step - 1);
      s.optimizer.update(s.lora, grads, learningRate);
      state.step = step;
      state.loss = loss;
      state.tokensSeen += tokens;
      lastLoss = loss;
      trainingMs += performance.now() - stepStart;
      tokensThisProcess += tokens;

      const stepsDoneHere = step - (s.resumedFrom?.step ?? 0);
      const stepEvent: StepEvent = {
        type: 'step',
        time: now(),
        step,
        epoch: fractionalEpoch(s),
        loss,
        learningRate,
        gradNorm,
        tokensPerSecond: tokensThisProcess / (trainingMs / 1000),
        etaSeconds: ((totalSteps - step) * trainingMs) / stepsDoneHere / 1000,
      };
      if (step % config.log_steps === 0 || step === totalSteps) {
        s.tensorboard.addScalars(step, { 'train/loss': loss, 'train/learning_rate': learningRate, 'train/grad_norm': gradNorm, 'train/tokens_per_second': stepEvent.tokensPerSecond, 'train/epoch': stepEvent.epoch });
        yield record(stepEvent);
      } else yield stepEvent;

      if (config.eval_steps > 0 && step % config.eval_steps === 0 && step !== totalSteps) {
        lastEval = await heldOutLoss(s.evaluator, data.eval, config.batch_size, config.seq_len, s.lora);
        s.tensorboard.addScalars(step, { 'eval/loss': lastEval });
        yield record({ type: 'eval', time: now(), step, evalLoss: lastEval });
      }
      if (config.save_steps > 0 && (step % config.save_steps === 0 || step === totalSteps)) {
        yield record(checkpoint(s));
        savedStep = step;
      }
    }

    const finalEval = await heldOutLoss(s.evaluator, data.eval, config.batch_size, config.seq_len, s.lora);
    s.tensorboard.addScalars(state.step, { 'eval/loss': finalEval });
    yield record({ type: 'eval', time: now(), step: state.step, evalLoss: finalEval });
    lastEval = finalEval;
    if (config.save_steps > 0 && savedStep !== state.step) yield record(checkpoint(s));

    const files: FileRef[] = writePeftAdapter(config.output_dir, s.spec, base.dir, s.lora, s.loraShapes);
    if (config.save_merged) {
      const merged = mergeLoraIntoBase(base.config, base.weights, s.spec, s.lora);
      files.push(...writeHfModel(path.join(config.output_dir, 'merged'), base.hfConfig, base.config, merged, base.tokenizer));
    }
    const wallSeconds = (Date.now() - startedAt) / 1000;
    yield record({
      type: 'done',
      time: now(),
      step: state.step,
      finalLoss: lastLoss,
      finalEvalLoss: lastEval,
      adapterDir: config.output_dir,
      files,
      wallSeconds,
      tokensPerSecond: trainingMs > 0 ? tokensThisProcess / (trainingMs / 1000) : 0,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    yield record({ type: 'failed', time: now(), step: s?.state.step ?? null, error: { type: classifyError(err), message } });
  } finally {
    if (s) {
      s.log.close();
      s.tensorboard.close();
      await s.trainStep.release();
      await s.evaluator.release();
    }
  }
}

/** Saves checkpoint-{step} with the log sizes as of now, then prunes old ones. */
function checkpoint(s: Session): TrainerEvent {
  s.log.flush();
  s.tensorboard.flush();
  s.state.rngState = s.rng.state();
  s.state.logBytes = s.log.size;
  s.state.tensorboardFile = s.tensorboard.file;
  s.state.tensorboardBytes = s.tensorboard.size;
  const { dir, files } = saveCheckpoint(s.config.output_dir, {
    state: s.state, spec: s.spec, baseModelNameOrPath: s.base.dir, lora: s.lora, loraShapes: s.loraShapes, optimizer: s.optimizer,
  });
  pruneCheckpoints(s.config.output_dir, s.config.save_total_limit);
  return { type: 'checkpoint', time: now(), step: s.state.step, epoch: fractionalEpoch(s), loss: s.state.loss, dir, files };
}
