// Loads a base model from a directory in Hugging Face GPT-2 layout: config.json (sizes),
// model.safetensors (Conv1D-oriented weights, names with or without the `transformer.`
// prefix), tokenizer.json (byte-level BPE). Every tensor is checked against the shape
// config.json implies, so a mismatched model fails before training with a precise error.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BaseWeights, GPT2Config } from './model/index.ts';
import { floatTensor, readSafetensors, type TensorToWrite } from './safetensors.ts';
import { ByteLevelBpe } from './tokenizer/byteLevelBpe.ts';
import { sha256Hex } from './durableFiles.ts';
import { TrainingError } from './trainingError.ts';

export interface BaseModel {
  dir: string;
  config: GPT2Config;
  /** config.json as read, kept for writing a merged model. */
  hfConfig: Record<string, unknown>;
  weights: BaseWeights;
  tokenizer: ByteLevelBpe;
  /** sha256 of model.safetensors. */
  sha256: string;
}

function modelError(message: string): TrainingError {
  return new TrainingError('CONFIG_ERROR', `base_model: ${message}`);
}

/** Reads the GPT-2 sizes from config.json, naming the key and value on any problem. */
export function gpt2ConfigFromJson(json: Record<string, unknown>, source: string): GPT2Config {
  const positiveInt = (key: string, fallback?: string): number => {
    const value = json[key] ?? (fallback ? json[fallback] : undefined);
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw modelError(`${source}: "${key}" is ${JSON.stringify(value)}; expected a positive integer`);
    }
    return value as number;
  };
  const config: GPT2Config = {
    vocabSize: positiveInt('vocab_size'),
    nPositions: positiveInt('n_positions', 'n_ctx'),
    nEmbd: positiveInt('n_embd'),
    nLayer: positiveInt('n_layer'),
    nHead: positiveInt('n_head'),
    layerNormEpsilon: typeof json.layer_norm_epsilon === 'number' ? json.layer_norm_epsilon : 1e-5,
  };
  if (config.nEmbd % config.nHead !== 0) throw modelError(`${source}: "n_embd" ${config.nEmbd} is not divisible by "n_head" ${config.nHead}`);
  if (json.n_inner !== undefined && json.n_inner !== null && json.n_inner !== 4 * config.nEmbd) {
    throw modelError(`${source}: "n_inner" ${JSON.stringify(json.n_inner)} is not supported; only null or 4 * n_embd (${4 * config.nEmbd})`);
  }
  return config;
}

/** Every base tensor GPT-2 has, by HF name without prefix, with its Conv1D shape. */
export function gpt2WeightShapes(c: GPT2Config): Map<string, number[]> {
  const E = c.nEmbd;
  const shapes = new Map<string, number[]>([
    ['wte.weight', [c.vocabSize, E]],
    ['wpe.weight', [c.nPositions, E]],
  ]);
  for (let i = 0; i < c.nLayer; i++) {
    const h = `h.${i}`;
    shapes.set(`${h}.ln_1.weight`, [E]).set(`${h}.ln_1.bias`, [E]);
    shapes.set(`${h}.attn.c_attn.weight`, [E, 3 * E]).set(`${h}.attn.c_attn.bias`, [3 * E]);
    shapes.set(`${h}.attn.c_proj.weight`, [E, E]).set(`${h}.attn.c_proj.bias`, [E]);
    shapes.set(`${h}.ln_2.weight`, [E]).set(`${h}.ln_2.bias`, [E]);
    shapes.set(`${h}.mlp.c_fc.weight`, [E, 4 * E]).set(`${h}.mlp.c_fc.bias`, [4 * E]);
    shapes.set(`${h}.mlp.c_proj.weight`, [4 * E, E]).set(`${h}.mlp.c_proj.bias`, [E]);
  }
  shapes.set('ln_f.weight', [E]).set('ln_f.bias', [E]);
  return shapes;
}

// Buffers and the tied head that some GPT-2 checkpoints carry; not weights we train on.
const IGNORED_TENSOR = /(^|\.)attn\.(bias|masked_bias)$|^lm_head\.weight$/;

export function loadBaseModel(dir: string): BaseModel {
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json']) {
    if (!existsSync(path.join(dir, file))) throw modelError(`${dir} has no ${file}; expected a Hugging Face GPT-2 directory (config.json, model.safetensors, tokenizer.json)`);
  }
  const configFile = path.join(dir, 'config.json');
  let hfConfig: Record<string, unknown>;
  try {
    hfConfig = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw modelError(`${configFile} is not valid JSON (${(err as Error).message})`);
  }
  if (hfConfig.model_type !== undefined && hfConfig.model_type !== 'gpt2') {
    throw modelError(`${configFile}: "model_type" is ${JSON.stringify(hfConfig.model_type)}; only "gpt2" is supported`);
  }
  const config = gpt2ConfigFromJson(hfConfig, configFile);

  const weightsFile = path.join(dir, 'model.safetensors');
  const bytes = readFileSync(weightsFile);
  const file = readSafetensors(weightsFile);
  const weights: BaseWeights = new Map();
  const expected = gpt2WeightShapes(config);
  for (const [fullName, tensor] of file.tensors) {
    const name = fullName.startsWith('transformer.') ? fullName.slice('transformer.'.length) : fullName;
    if (IGNORED_TENSOR.test(name)) continue;
    const shape = expected.get(name);
    if (!shape) throw modelError(`${weightsFile}: tensor "${fullName}" is not part of a GPT-2 model with n_layer ${config.nLayer}`);
    if (JSON.stringify(tensor.shape) !== JSON.stringify(shape)) {
      throw modelError(`${weightsFile}: tensor "${fullName}" has shape ${JSON.stringify(tensor.shape)}, but config.json implies ${JSON.stringify(shape)}`);
    }
    weights.set(name, floatTensor(file, fullName, weightsFile));
  }
  const missing = [...expected.keys()].filter((n) => !weights.has(n));
  if (missing.length > 0) throw modelError(`${weightsFile} lacks ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);

  const tokenizerFile = path.join(dir, 'tokenizer.json');
  const tokenizer = ByteLevelBpe.fromFile(tokenizerFile);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw modelError(`${tokenizerFile} has ${tokenizer.vocabSize} tokens but config.json "vocab_size" is ${config.vocabSize}`);
  }
  return { dir, config, hfConfig, weights, tokenizer, sha256: sha256Hex(bytes) };
}

/** Base weights as safetensors entries named the way GPT2LMHeadModel.save_pretrained names them. */
export function hfWeightTensors(config: GPT2Config, weights: BaseWeights): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, shape] of gpt2WeightShapes(config)) {
    const data = weights.get(name);
    if (!data) throw new Error(`weights: "${name}" is missing`);
    out.set(`transformer.${name}`, { shape, data });
  }
  return out;
}
