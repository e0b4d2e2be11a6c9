// The GraphQL LoraConfig (camelCase) <-> the stored config (lora-scripts snake_case keys).
// The table is checked against the generated types: a field added to the schema fails to
// compile here until it is mapped.
import type { LoraConfigDoc } from '../store/documents.ts';
import type { LoraConfig, LoraConfigInput, LoraConfigResolvers } from './generated/resolvers-types.ts';

type LoraConfigField = Exclude<keyof LoraConfig, '__typename'>;

const STORED_KEY = {
  baseModel: 'base_model',
  trainDataDir: 'train_data_dir',
  outputDir: 'output_dir',
  loraRank: 'lora_rank',
  loraAlpha: 'lora_alpha',
  loraDropout: 'lora_dropout',
  targetModules: 'target_modules',
  batchSize: 'batch_size',
  gradientAccumulationSteps: 'gradient_accumulation_steps',
  epochs: 'epochs',
  maxSteps: 'max_steps',
  learningRate: 'learning_rate',
  lrScheduler: 'lr_scheduler',
  warmupSteps: 'warmup_steps',
  weightDecay: 'weight_decay',
  maxGradNorm: 'max_grad_norm',
  seqLen: 'seq_len',
  saveSteps: 'save_steps',
  saveTotalLimit: 'save_total_limit',
  logSteps: 'log_steps',
  evalSteps: 'eval_steps',
  seed: 'seed',
  device: 'device',
  threads: 'threads',
  initAdapter: 'init_adapter',
} as const satisfies Record<LoraConfigField, keyof LoraConfigDoc> & Record<keyof LoraConfigInput, keyof LoraConfigDoc>;

export const loraConfigResolvers = Object.fromEntries(
  Object.entries(STORED_KEY).map(([field, key]) => [field, (config: LoraConfigDoc) => config[key] ?? null]),
) as LoraConfigResolvers;

/** The stored form of a typed config input; unset fields are left out. */
export function loraConfigFromInput(input: LoraConfigInput): LoraConfigDoc {
  const config: LoraConfigDoc = {};
  for (const [field, key] of Object.entries(STORED_KEY) as [keyof LoraConfigInput, keyof LoraConfigDoc][]) {
    const value = input[field];
    if (value != null) config[key] = value;
  }
  return config;
}
