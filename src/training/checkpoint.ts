// Checkpoints: output_dir/checkpoint-{step}/ holding the adapter (PEFT layout), the
// optimizer state and trainer_state.json. A checkpoint is built in a temporary directory,
// every file fsynced, the directory fsynced, then renamed into place, so after a crash a
// `checkpoint-N` directory is always complete. trainer_state.json is written last and
// its presence is what "complete" means to `findLatestCheckpoint`.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FileRef } from '../store/documents.ts';
import type { LoraSpec, NamedShape } from './model/index.ts';
import { fileRef, fsyncPath, writeFileSynced } from './durableFiles.ts';
import { readPeftAdapter, writePeftAdapter } from './peft.ts';
import { floatTensor, readSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.ts';
import type { AdamW } from './optimizer/adamw.ts';
import type { RngState } from './rng.ts';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
const CHECKPOINT_NAME = /^checkpoint-(\d+)$/;

export interface TrainerState {
  /** Optimizer steps done. */
  step: number;
  /** Epoch the next step belongs to (0-based). */
  epoch: number;
  /** Where the next micro-batch starts in `dataOrder` (a sequence index, not a batch). */
  dataPosition: number;
  /** This epoch's order of training sequences, drawn from the RNG when the epoch began. */
  dataOrder: number[];
  rngState: RngState;
  configHash: string;
  /** Mean loss of the last optimizer step, if any. */
  loss: number | null;
  /** Byte sizes of logs/train.log and the TensorBoard file at this step: a resume truncates to them. */
  logBytes: number;
  tensorboardFile: string | null;
  tensorboardBytes: number;
  /** Accumulated counters so a resumed run reports whole-run figures. */
  tokensSeen: number;
}

export interface CheckpointContents {
  state: TrainerState;
  spec: LoraSpec;
  baseModelNameOrPath: string;
  lora: Map<string, Float32Array>;
  loraShapes: NamedShape[];
  optimizer: AdamW;
}

export function checkpointDir(outputDir: string, step: number): string {
  return path.join(outputDir, `checkpoint-${step}`);
}

function serializeOptimizer(optimizer: AdamW, shapes: NamedShape[]): Buffer {
  const entries = new Map<string, TensorToWrite>();
  for (const { name, shape } of shapes) {
    const moments = optimizer.moments.get(name);
    if (!moments) continue;
    entries.set(`${name}.exp_avg`, { shape, data: moments.m });
    entries.set(`${name}.exp_avg_sq`, { shape, data: moments.v });
  }
  return serializeSafetensors(entries, { step: String(optimizer.step), optimizer: 'AdamW' });
}

/** Writes checkpoint-{step}/ atomically; returns its directory and file references. */
export function saveCheckpoint(outputDir: string, c: CheckpointContents): { dir: string; files: FileRef[] } {
  mkdirSync(outputDir, { recursive: true });
  const finalDir = checkpointDir(outputDir, c.state.step);
  const tempDir = path.join(outputDir, `.checkpoint-${c.state.step}.tmp-${process.pid}`);
  rmSync(tempDir, { recursive: true, force: true });
  mkdirSync(tempDir);
  writePeftAdapter(tempDir, c.spec, c.baseModelNameOrPath, c.lora, c.loraShapes, 'directory');
  writeFileSynced(path.join(tempDir, OPTIMIZER_FILE), serializeOptimizer(c.optimizer, c.loraShapes));
  writeFileSynced(path.join(tempDir, TRAINER_STATE_FILE), `${JSON.stringify(c.state, null, 2)}\n`);
  fsyncPath(tempDir);
  // A checkpoint of the same step can exist when a run resumed from an earlier one re-saves it.
  if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
  renameSync(tempDir, finalDir);
  fsyncPath(outputDir);
  const files = readdirSync(finalDir).sort().map((name) => fileRef(path.join(finalDir, name)));
  return { dir: finalDir, files };
}

/** Complete checkpoints (renamed into place, with a readable trainer_state.json), oldest first. */
export function listCheckpoints(outputDir: string): { step: number; dir: string }[] {
  if (!existsSync(outputDir)) return [];
  const found: { step: number; dir: string }[] = [];
  for (const entry of readdirSync(outputDir, { withFileTypes: true })) {
    const match = CHECKPOINT_NAME.exec(entry.name);
    if (!entry.isDirectory() || !match) continue;
    const dir = path.join(outputDir, entry.name);
    try {
      JSON.parse(readFileSync(path.join(dir, TRAINER_STATE_FILE), 'utf8'));
    } catch {
      continue;
    }
    found.push({ step: Number(match[1]), dir });
  }
  return found.sort((a, b) => a.step - b.step);
}

export function findLatestCheckpoint(outputDir: string): { step: number; dir: string } | null {
  return listCheckpoints(outputDir).at(-1) ?? null;
}

/** Keeps the newest `limit` checkpoints and removes leftover temporary directories. */
export function pruneCheckpoints(outputDir: string, limit: number | null): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(outputDir)) {
    if (entry.startsWith('.checkpoint-') && entry.includes('.tmp-')) {
      rmSync(path.join(outputDir, entry), { recursive: true, force: true });
      removed.push(path.join(outputDir, entry));
    }
  }
  if (limit === null) return removed;
  const all = listCheckpoints(outputDir);
  for (const { dir } of all.slice(0, Math.max(0, all.length - limit))) {
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

export interface LoadedCheckpoint {
  state: TrainerState;
  lora: Map<string, Float32Array>;
  /** Moments by parameter name and the optimizer's step count. */
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
  optimizerStep: number;
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const state = JSON.parse(readFileSync(path.join(dir, TRAINER_STATE_FILE), 'utf8')) as TrainerState;
  const { tensors: lora } = readPeftAdapter(dir);
  const optimizerFile = path.join(dir, OPTIMIZER_FILE);
  const file = readSafetensors(optimizerFile);
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const name of file.tensors.keys()) {
    if (!name.endsWith('.exp_avg')) continue;
    const param = name.slice(0, -'.exp_avg'.length);
    moments.set(param, { m: floatTensor(file, name, optimizerFile), v: floatTensor(file, `${param}.exp_avg_sq`, optimizerFile) });
  }
  return { state, lora, moments, optimizerStep: Number(file.metadata.step ?? 0) };
}
