// The shapes of the documents lora-registry keeps in MongoDB. This file is the storage
// contract shared by the store, the job layer and analytics: change it deliberately.
import type { ObjectId } from 'mongodb';

export const COLLECTIONS = {
  experiments: 'experiments',
  metrics: 'metrics',
  /** Second summary level of `metrics` (src/store/metric-rollups.ts). */
  metricRollups: 'metricRollups',
  checkpoints: 'checkpoints',
  artifacts: 'artifacts',
  datasets: 'datasets',
  projects: 'projects',
  apiKeys: 'apiKeys',
} as const;

export type ExperimentStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED';

export type ErrorType =
  | 'CUDA_OOM'
  | 'OOM'
  | 'NAN_LOSS'
  | 'DATA_ERROR'
  | 'CONFIG_ERROR'
  | 'CRASHED'
  | 'CANCELLED'
  | 'UNKNOWN';

/** The normalized LoRA config as stored (lora-scripts keys, snake_case as in the YAML). */
export interface LoraConfigDoc {
  base_model?: string;
  train_data_dir?: string;
  output_dir?: string;
  lora_rank?: number;
  lora_alpha?: number;
  lora_dropout?: number;
  target_modules?: string[];
  batch_size?: number;
  gradient_accumulation_steps?: number;
  epochs?: number;
  max_steps?: number;
  learning_rate?: number;
  lr_scheduler?: string;
  warmup_steps?: number;
  weight_decay?: number;
  max_grad_norm?: number;
  seq_len?: number;
  save_steps?: number;
  save_total_limit?: number;
  log_steps?: number;
  eval_steps?: number;
  seed?: number;
  device?: string;
  threads?: number;
  init_adapter?: string;
  tags?: string[];
  [key: string]: unknown;
}

export interface FileRef {
  path: string;
  sha256: string;
  bytes: number;
}

export interface RunSummaryDoc {
  finalLoss?: number | null;
  minLoss?: number | null;
  bestStep?: number | null;
  steps?: number | null;
  tokensPerSecond?: number | null;
  wallSeconds?: number | null;
  finalEvalLoss?: number | null;
}

export interface RunErrorDoc {
  type: ErrorType;
  message: string;
  exitCode?: number | null;
  signal?: string | null;
}

export interface EnvironmentDoc {
  node?: string;
  onnxruntime?: string;
  executionProvider?: string;
  cpu?: string;
  cpuCount?: number;
  gpuModel?: string | null;
  gpuMemoryBytes?: number | null;
  host?: string;
  platform?: string;
}

export interface ExperimentDoc {
  _id: ObjectId;
  name: string;
  project: string;
  tags: string[];
  notes?: string;
  status: ExperimentStatus;
  /** Normalized config (validated, defaults applied). */
  config: LoraConfigDoc;
  /** The config exactly as the user gave it (parsed YAML or typed input). */
  rawConfig?: Record<string, unknown>;
  configHash: string;
  baseModel?: { path: string; sha256?: string | null; name?: string | null };
  dataset?: { path: string; sha256?: string | null; files?: number | null; tokens?: number | null };
  /** 'builtin' for our trainer, 'external' for an allow-listed command, 'logged' for logMetrics-only runs. */
  runner?: 'builtin' | 'external' | 'logged';
  outputDir?: string;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date | null;
  endedAt?: Date | null;
  summary?: RunSummaryDoc;
  error?: RunErrorDoc | null;
  environment?: EnvironmentDoc;
  /** Sample prompts used for evaluation or description; searched by analytics. */
  samplePrompts?: string[];
  /** TTL: the experiment (and, by cascade, its records) is removed after this time. */
  expiresAt?: Date | null;
  /** Lower-cased, segmented words of name, tags, notes, dataset and prompts (analytics search). */
  searchTokens?: string[];
}

/**
 * One block of up to METRIC_BUCKET_SIZE consecutive steps of one metric key of one run.
 * `_id` is `${experimentId}:${key}:${block}` so appends are idempotent upserts.
 */
export interface MetricBucketDoc {
  _id: string;
  experimentId: ObjectId;
  key: string;
  block: number;
  steps: number[];
  values: number[];
  times: Date[];
  count: number;
  min: number;
  max: number;
  sum: number;
  firstStep: number;
  lastStep: number;
  last: number;
  /** Value at firstStep (optional: older buckets may lack it). */
  first?: number;
}

export const METRIC_BUCKET_SIZE = 1000;

export interface CheckpointDoc {
  _id: ObjectId;
  experimentId: ObjectId;
  project: string;
  step: number;
  epoch?: number | null;
  loss?: number | null;
  dir: string;
  files: FileRef[];
  createdAt: Date;
}

export type ArtifactKind = 'ADAPTER' | 'CHECKPOINT_ADAPTER' | 'MERGED_MODEL' | 'OPTIMIZER_STATE' | 'LOG' | 'OTHER';

export interface ArtifactDoc {
  _id: ObjectId;
  sha256: string;
  kind: ArtifactKind;
  /** File format, e.g. 'safetensors', 'json', 'tfevents'. */
  format: string;
  path: string;
  bytes: number;
  experimentId: ObjectId;
  checkpointId?: ObjectId | null;
  project: string;
  metadata?: Record<string, unknown>;
  createdAt: Date;
}

export interface DatasetDoc {
  _id: ObjectId;
  path: string;
  sha256: string;
  files: FileRef[];
  tokens?: number | null;
  createdAt: Date;
}
