// The adapter in PEFT's on-disk layout, so `PeftModel.from_pretrained(base, dir)` loads
// what we train: adapter_config.json with PEFT's LoraConfig keys and
// adapter_model.safetensors with names like
// base_model.model.transformer.h.0.attn.c_attn.lora_A.weight ([r, in]) / lora_B ([out, r]).
// Also merges an adapter into the base weights for a plain HF model.
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { FileRef } from '../store/documents.ts';
import type { BaseWeights, GPT2Config, LoraSpec, NamedShape } from './model/index.ts';
import { floatTensor, readSafetensors, serializeSafetensors, type TensorToWrite } from './safetensors.ts';
import { fileRef, writeFileAtomic, writeFileSynced } from './durableFiles.ts';
import { hfWeightTensors } from './baseModel.ts';
import type { ByteLevelBpe } from './tokenizer/byteLevelBpe.ts';
import { TrainingError } from './trainingError.ts';

export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

export function peftAdapterConfig(spec: LoraSpec, baseModelNameOrPath: string): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModelNameOrPath,
    r: spec.rank,
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    target_modules: [...spec.targetModules],
    // GPT-2's Conv1D stores weights as [in, out], the transpose of nn.Linear.
    fan_in_fan_out: true,
    bias: 'none',
    modules_to_save: null,
    init_lora_weights: true,
    inference_mode: true,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    use_rslora: false,
    use_dora: false,
    revision: null,
  };
}

/** Writes (or, with `durable: 'directory'`, writes unrenamed for a directory renamed later) both adapter files. */
export function writePeftAdapter(
  dir: string,
  spec: LoraSpec,
  baseModelNameOrPath: string,
  tensors: Map<string, Float32Array>,
  shapes: NamedShape[],
  durable: 'file' | 'directory' = 'file',
): FileRef[] {
  mkdirSync(dir, { recursive: true });
  const entries = new Map<string, TensorToWrite>();
  for (const { name, shape } of shapes) {
    const data = tensors.get(name);
    if (!data) throw new Error(`adapter: tensor "${name}" is missing`);
    entries.set(name, { shape, data });
  }
  const write = durable === 'file' ? writeFileAtomic : writeFileSynced;
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const configFile = path.join(dir, ADAPTER_CONFIG_FILE);
  write(weightsFile, serializeSafetensors(entries, { format: 'pt' }));
  write(configFile, `${JSON.stringify(peftAdapterConfig(spec, baseModelNameOrPath), null, 2)}\n`);
  return [fileRef(weightsFile), fileRef(configFile)];
}

export interface PeftAdapter {
  spec: LoraSpec;
  baseModelNameOrPath: string | null;
  tensors: Map<string, Float32Array>;
}

/** Reads a PEFT LoRA adapter directory (ours or PEFT's), checking it is one we can apply. */
export function readPeftAdapter(dir: string): PeftAdapter {
  const configFile = path.join(dir, ADAPTER_CONFIG_FILE);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(configFile) || !existsSync(weightsFile)) {
    throw new TrainingError('CONFIG_ERROR', `adapter: ${dir} needs ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE} (PEFT layout)`);
  }
  const json = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  if (json.peft_type !== 'LORA') throw new TrainingError('CONFIG_ERROR', `adapter: ${configFile} "peft_type" is ${JSON.stringify(json.peft_type)}; only "LORA" is supported`);
  if (json.bias !== undefined && json.bias !== 'none') throw new TrainingError('CONFIG_ERROR', `adapter: ${configFile} "bias" is ${JSON.stringify(json.bias)}; only "none" is supported`);
  const targets = json.target_modules;
  if (!Array.isArray(targets)) throw new TrainingError('CONFIG_ERROR', `adapter: ${configFile} "target_modules" must be a list`);
  const spec: LoraSpec = {
    rank: json.r as number,
    alpha: json.lora_alpha as number,
    dropout: (json.lora_dropout as number) ?? 0,
    targetModules: targets as LoraSpec['targetModules'],
  };
  const file = readSafetensors(weightsFile);
  const tensors = new Map<string, Float32Array>();
  // PEFT saves without the adapter name; some tools keep ".default" in the name.
  for (const name of file.tensors.keys()) tensors.set(name.replace('.default.weight', '.weight'), floatTensor(file, name, weightsFile));
  return { spec, baseModelNameOrPath: (json.base_model_name_or_path as string) ?? null, tensors };
}

/** Checks adapter tensors against the shapes the model needs; precise error on the first mismatch. */
export function checkAdapterShapes(tensors: Map<string, Float32Array>, shapes: NamedShape[], source: string): void {
  for (const { name, shape } of shapes) {
    const t = tensors.get(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!t) throw new TrainingError('CONFIG_ERROR', `${source}: tensor "${name}" is missing`);
    if (t.length !== n) throw new TrainingError('CONFIG_ERROR', `${source}: tensor "${name}" has ${t.length} values; the model needs shape ${JSON.stringify(shape)}`);
  }
}

/**
 * W' = W + scale * (B A)^T for each adapted Conv1D weight W [in, out], with A [r, in] and
 * B [out, r] — what PEFT's merge_and_unload does with fan_in_fan_out.
 */
export function mergeLoraIntoBase(config: GPT2Config, base: BaseWeights, spec: LoraSpec, lora: Map<string, Float32Array>): BaseWeights {
  const merged: BaseWeights = new Map([...base].map(([k, v]) => [k, Float32Array.from(v)]));
  const scale = spec.alpha / spec.rank;
  const r = spec.rank;
  for (let layer = 0; layer < config.nLayer; layer++) {
    for (const target of spec.targetModules) {
      const module = target === 'c_attn' ? 'attn.c_attn' : target;
      const prefix = `base_model.model.transformer.h.${layer}.${module}`;
      const A = lora.get(`${prefix}.lora_A.weight`);
      const B = lora.get(`${prefix}.lora_B.weight`);
      const W = merged.get(`h.${layer}.${module}.weight`);
      if (!A || !B || !W) throw new Error(`merge: missing tensors for h.${layer}.${module}`);
      const inDim = A.length / r;
      const outDim = B.length / r;
      for (let i = 0; i < inDim; i++) {
        for (let o = 0; o < outDim; o++) {
          let sum = 0;
          for (let k = 0; k < r; k++) sum += B[o * r + k] * A[k * inDim + i];
          W[i * outDim + o] += scale * sum;
        }
      }
    }
  }
  return merged;
}

/** Writes a model directory in HF layout (config.json, model.safetensors, tokenizer.json). */
export function writeHfModel(dir: string, hfConfig: Record<string, unknown>, config: GPT2Config, weights: BaseWeights, tokenizer: ByteLevelBpe): FileRef[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'config.json': `${JSON.stringify(hfConfig, null, 2)}\n`,
    'model.safetensors': serializeSafetensors(hfWeightTensors(config, weights), { format: 'pt' }),
    'tokenizer.json': `${JSON.stringify(tokenizer.toTokenizerJson())}\n`,
  };
  return Object.entries(files).map(([name, data]) => {
    writeFileAtomic(path.join(dir, name), data);
    return fileRef(path.join(dir, name));
  });
}
