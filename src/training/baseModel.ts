// Loads a base model from a directory in Hugging Face GPT-2 layout: config.json (sizes),
// model.safetensors (Conv1D-oriented weights, names with or without the `transformer.`
// prefix), tokenizer.json (byte-level BPE). Every tensor is checked against the shape
// config.json implies, so a mismatched model fails before training with a precise error.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { baseWeightShapes, gpt2ConfigFromHF, type BaseWeights, type GPT2Config } from './model/index.ts';
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

/** The GPT-2 sizes from config.json, errors prefixed with the file so the user knows where to look. */
function readGpt2Config(json: Record<string, unknown>, source: string): GPT2Config {
  let config: GPT2Config;
  try {
    config = gpt2ConfigFromHF(json);
  } catch (err) {
    throw modelError(`${source}: ${(err as Error).message.replace(/^config\.json: /, '')}`);
  }
  if (json.n_inner !== undefined && json.n_inner !== null && json.n_inner !== 4 * config.nEmbd) {
    throw modelError(`${source}: "n_inner" ${JSON.stringify(json.n_inner)} is not supported; only null or 4 * n_embd (${4 * config.nEmbd})`);
  }
  return config;
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
  const config = readGpt2Config(hfConfig, configFile);

  const weightsFile = path.join(dir, 'model.safetensors');
  const bytes = readFileSync(weightsFile);
  const file = readSafetensors(weightsFile);
  const weights: BaseWeights = new Map();
  const expected = new Map(baseWeightShapes(config).map(({ name, shape }) => [name, shape]));
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
  for (const { name, shape } of baseWeightShapes(config)) {
    const data = weights.get(name);
    if (!data) throw new Error(`weights: "${name}" is missing`);
    out.set(`transformer.${name}`, { shape, data });
  }
  return out;
}
