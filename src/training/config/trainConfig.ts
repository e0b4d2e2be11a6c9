// The trainer's configuration: lora-scripts-style snake_case keys, each with its rule and
// default. `validateTrainConfig` turns a parsed YAML object into a TrainConfig or throws a
// ConfigError listing every problem with the key, the value and what is allowed.
import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../trainingError.ts';
import { LR_SCHEDULERS, type LrSchedulerName } from '../optimizer/lrSchedule.ts';
import { nearestKey } from './nearestKey.ts';
import { hashConfig } from '../../store/config-hash.ts';

export const TARGET_MODULES = ['c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export type TargetModuleName = (typeof TARGET_MODULES)[number];
export const DEVICES = ['auto', 'cpu', 'cuda'] as const;
export type DeviceName = (typeof DEVICES)[number];

export interface TrainConfig {
  train_data_dir: string;
  base_model: string;
  output_dir: string;
  lora_rank: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: TargetModuleName[];
  batch_size: number;
  gradient_accumulation_steps: number;
  epochs: number;
  max_steps: number | null;
  learning_rate: number;
  lr_scheduler: LrSchedulerName;
  warmup_steps: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  max_grad_norm: number;
  seq_len: number;
  eval_fraction: number;
  save_steps: number;
  save_total_limit: number | null;
  log_steps: number;
  eval_steps: number;
  seed: number;
  device: DeviceName;
  threads: number | null;
  init_adapter: string | null;
  save_merged: boolean;
  tags: string[];
}

interface KeyRule {
  /** What is allowed, phrased to follow "expected". */
  allowed: string;
  check(value: unknown): boolean;
  default?: unknown;
  /** Relative paths are resolved against the config file's directory. */
  isPath?: boolean;
  description: string;
}

const isInt = (min: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= min;
const isNumber = (min: number, max = Infinity, minExclusive = false, maxExclusive = false) => (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && (minExclusive ? v > min : v >= min) && (maxExclusive ? v < max : v <= max);
const isNonEmptyString = (v: unknown) => typeof v === 'string' && v.trim().length > 0;
const oneOf = (values: readonly string[]) => (v: unknown) => typeof v === 'string' && values.includes(v);

export const CONFIG_KEYS: Record<keyof TrainConfig, KeyRule> = {
  train_data_dir: { allowed: 'a directory of .txt/.jsonl files (path)', check: isNonEmptyString, isPath: true, description: 'Training text: a directory of `.txt` and `.jsonl` (field `text`) files, searched recursively.' },
  base_model: { allowed: 'a directory in Hugging Face GPT-2 layout (path)', check: isNonEmptyString, isPath: true, description: 'Base model directory: `config.json`, `model.safetensors`, `tokenizer.json`.' },
  output_dir: { allowed: 'a directory path', check: isNonEmptyString, isPath: true, description: 'Where checkpoints, logs and the final adapter go; rerunning with the same directory resumes.' },
  lora_rank: { allowed: 'an integer >= 1', check: isInt(1), default: 8, description: 'LoRA rank `r`.' },
  lora_alpha: { allowed: 'a number > 0', check: isNumber(0, Infinity, true), default: 16, description: 'LoRA alpha; the update is scaled by `lora_alpha / lora_rank` (as PEFT).' },
  lora_dropout: { allowed: 'a number in [0, 1)', check: isNumber(0, 1, false, true), default: 0, description: 'Dropout on the LoRA input (masks drawn from the seeded RNG).' },
  target_modules: {
    allowed: `a non-empty list of distinct names among ${TARGET_MODULES.join(', ')}`,
    check: (v) => Array.isArray(v) && v.length > 0 && v.every(oneOf(TARGET_MODULES)) && new Set(v).size === v.length,
    default: ['c_attn'],
    description: 'GPT-2 Conv1D layers that get a LoRA adapter.',
  },
  batch_size: { allowed: 'an integer >= 1', check: isInt(1), default: 8, description: 'Sequences per micro-batch.' },
  gradient_accumulation_steps: { allowed: 'an integer >= 1', check: isInt(1), default: 1, description: 'Micro-batches averaged per optimizer step.' },
  epochs: { allowed: 'an integer >= 1', check: isInt(1), default: 1, description: 'Passes over the training sequences (ignored when `max_steps` is set).' },
  max_steps: { allowed: 'an integer >= 1 or null', check: (v) => v === null || isInt(1)(v), default: null, description: 'Total optimizer steps; overrides `epochs`.' },
  learning_rate: { allowed: 'a number > 0', check: isNumber(0, Infinity, true), default: 2e-4, description: 'Peak learning rate.' },
  lr_scheduler: { allowed: `one of ${LR_SCHEDULERS.join(', ')}`, check: oneOf(LR_SCHEDULERS), default: 'linear', description: 'Learning-rate schedule after warmup (as HF transformers).' },
  warmup_steps: { allowed: 'an integer >= 0', check: isInt(0), default: 0, description: 'Linear warmup steps from 0 to `learning_rate`.' },
  weight_decay: { allowed: 'a number >= 0', check: isNumber(0), default: 0, description: 'AdamW decoupled weight decay.' },
  adam_beta1: { allowed: 'a number in [0, 1)', check: isNumber(0, 1, false, true), default: 0.9, description: 'AdamW beta1.' },
  adam_beta2: { allowed: 'a number in [0, 1)', check: isNumber(0, 1, false, true), default: 0.999, description: 'AdamW beta2.' },
  adam_epsilon: { allowed: 'a number > 0', check: isNumber(0, Infinity, true), default: 1e-8, description: 'AdamW epsilon.' },
  max_grad_norm: { allowed: 'a number >= 0 (0 disables clipping)', check: isNumber(0), default: 1, description: 'Clip gradients to this global L2 norm.' },
  seq_len: { allowed: 'an integer >= 2', check: isInt(2), default: 128, description: 'Tokens per training sequence (at most the model\'s `n_positions`).' },
  eval_fraction: { allowed: 'a number in (0, 0.5]', check: isNumber(0, 0.5, true), default: 0.1, description: 'Share of packed sequences held out for evaluation.' },
  save_steps: { allowed: 'an integer >= 0 (0: only the final adapter)', check: isInt(0), default: 500, description: 'Write `checkpoint-{step}/` every this many steps.' },
  save_total_limit: { allowed: 'an integer >= 1 or null (keep all)', check: (v) => v === null || isInt(1)(v), default: null, description: 'Keep only the newest this many checkpoints.' },
  log_steps: { allowed: 'an integer >= 1', check: isInt(1), default: 10, description: 'Write loss, learning rate, gradient norm and tokens/s to train.log and TensorBoard every this many steps.' },
  eval_steps: { allowed: 'an integer >= 0 (0: evaluate only at the start and end)', check: isInt(0), default: 0, description: 'Evaluate held-out loss every this many steps.' },
  seed: { allowed: 'an integer >= 0', check: isInt(0), default: 42, description: 'Seed for LoRA init, dropout masks and data order.' },
  device: { allowed: `one of ${DEVICES.join(', ')}`, check: oneOf(DEVICES), default: 'auto', description: '`cuda` needs onnxruntime-node\'s CUDA binaries; `auto` falls back to CPU.' },
  threads: { allowed: 'an integer >= 1 or null (all cores)', check: (v) => v === null || isInt(1)(v), default: null, description: 'onnxruntime intra-op threads.' },
  init_adapter: { allowed: 'a PEFT adapter directory (path) or null', check: (v) => v === null || isNonEmptyString(v), default: null, isPath: true, description: 'Start from an existing adapter instead of a fresh LoRA init.' },
  save_merged: { allowed: 'true or false', check: (v) => typeof v === 'boolean', default: false, description: 'Also write the base model with the adapter merged, in HF layout, to `output_dir/merged/`.' },
  tags: { allowed: 'a list of strings', check: (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'), default: [], description: 'Free labels carried into the registry.' },
};

export const KNOWN_KEYS = Object.keys(CONFIG_KEYS) as (keyof TrainConfig)[];

/**
 * Validates a parsed config object, applies defaults and resolves relative paths against
 * `baseDir` (the config file's directory). Throws a ConfigError naming every problem.
 */
export function validateTrainConfig(raw: unknown, baseDir: string, source = 'config'): TrainConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ key: '(root)', value: raw, allowed: 'expected a mapping of config keys to values' }], source);
  }
  const issues: ConfigIssue[] = [];
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(key in CONFIG_KEYS)) {
      issues.push({ key, value: input[key], allowed: `unknown key; did you mean "${nearestKey(key, KNOWN_KEYS)}"?` });
    }
  }
  const config: Record<string, unknown> = {};
  for (const key of KNOWN_KEYS) {
    const rule = CONFIG_KEYS[key];
    let value = input[key];
    if (value === undefined) {
      if (!('default' in rule)) {
        issues.push({ key, value, allowed: `this key is required; expected ${rule.allowed}` });
        continue;
      }
      value = rule.default;
    } else if (!rule.check(value)) {
      issues.push({ key, value, allowed: `expected ${rule.allowed}` });
      continue;
    }
    if (rule.isPath && typeof value === 'string') value = path.resolve(baseDir, value);
    config[key] = Array.isArray(value) ? [...value] : value;
  }
  if (issues.length === 0 && (config.warmup_steps as number) > 0 && config.max_steps !== null && (config.warmup_steps as number) > (config.max_steps as number)) {
    issues.push({ key: 'warmup_steps', value: config.warmup_steps, allowed: `expected at most max_steps (${config.max_steps})` });
  }
  if (issues.length > 0) throw new ConfigError(issues, source);
  return config as unknown as TrainConfig;
}

/**
 * The registry's config hash (src/store/config-hash.ts) over the known keys: keys that don't
 * change the result (tags, threads, device, output_dir, ...) are left out, so changing them
 * still lets a run resume, and the experiment record and its checkpoints agree.
 */
export function configHash(config: TrainConfig): string {
  const known: Record<string, unknown> = {};
  for (const key of KNOWN_KEYS) known[key] = config[key];
  return hashConfig(known);
}
