// LoRA exactly as PEFT applies it to GPT-2's Conv1D layers:
//   y = x W + b + (alpha / r) * dropout(x) A^T B^T,   A (r, in) Kaiming-uniform, B (out, r) zeros.
// Tensor names are PEFT's, so adapters load in PEFT unchanged.
import type { GPT2Config } from './config.ts';

export type TargetModule = 'c_attn' | 'attn.c_proj' | 'mlp.c_fc' | 'mlp.c_proj';

export const TARGET_MODULES: readonly TargetModule[] = ['c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'];

export interface LoraSpec {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: TargetModule[];
}

export interface NamedShape {
  name: string;
  shape: number[];
}

/** Scale used in the graph: alpha / rank (PEFT, without rsLoRA). */
export function loraScale(spec: LoraSpec): number {
  return spec.alpha / spec.rank;
}

/** The module's path inside a block, as in HF names (`c_attn` lives under `attn.`). */
export function modulePath(module: TargetModule): string {
  return module === 'c_attn' ? 'attn.c_attn' : module;
}

/** (in, out) features of a target module's Conv1D weight. */
export function moduleFeatures(config: GPT2Config, module: TargetModule): { inFeatures: number; outFeatures: number } {
  const C = config.nEmbd;
  switch (module) {
    case 'c_attn': return { inFeatures: C, outFeatures: 3 * C };
    case 'attn.c_proj': return { inFeatures: C, outFeatures: C };
    case 'mlp.c_fc': return { inFeatures: C, outFeatures: 4 * C };
    case 'mlp.c_proj': return { inFeatures: 4 * C, outFeatures: C };
  }
}

export function loraTensorName(layer: number, module: TargetModule, which: 'A' | 'B'): string {
  return `base_model.model.transformer.h.${layer}.${modulePath(module)}.lora_${which}.weight`;
}

export function dropoutMaskName(layer: number, module: TargetModule): string {
  return `h.${layer}.${modulePath(module)}.lora_dropout.mask`;
}

export function validateLoraSpec(spec: LoraSpec): void {
  if (!Array.isArray(spec.targetModules)) {
    throw new Error(`lora target modules is ${JSON.stringify(spec.targetModules)}; it must be a list of ${TARGET_MODULES.join(', ')}`);
  }
  // No adapted module (full-parameter training): rank, alpha and dropout are unused.
  if (spec.targetModules.length === 0) return;
  if (!Number.isInteger(spec.rank) || spec.rank <= 0) {
    throw new Error(`lora rank is ${JSON.stringify(spec.rank)}; it must be a positive integer`);
  }
  if (typeof spec.alpha !== 'number' || !Number.isFinite(spec.alpha) || spec.alpha <= 0) {
    throw new Error(`lora alpha is ${JSON.stringify(spec.alpha)}; it must be a positive number`);
  }
  if (typeof spec.dropout !== 'number' || !(spec.dropout >= 0 && spec.dropout < 1)) {
    throw new Error(`lora dropout is ${JSON.stringify(spec.dropout)}; it must be in [0, 1)`);
  }
  const seen = new Set<string>();
  for (const module of spec.targetModules) {
    if (!TARGET_MODULES.includes(module)) {
      throw new Error(`lora target module ${JSON.stringify(module)} is not supported; allowed: ${TARGET_MODULES.join(', ')}`);
    }
    if (seen.has(module)) throw new Error(`lora target module ${JSON.stringify(module)} is listed twice`);
    seen.add(module);
  }
}

/** Target modules in a fixed order (the graph's and the files' order), whatever order the spec lists them in. */
export function orderedTargets(spec: LoraSpec): TargetModule[] {
  return TARGET_MODULES.filter((m) => spec.targetModules.includes(m));
}

/** PEFT names and shapes: lora_A (r, in), lora_B (out, r), layer by layer, module by module. */
export function loraTensorShapes(config: GPT2Config, spec: LoraSpec): NamedShape[] {
  validateLoraSpec(spec);
  const shapes: NamedShape[] = [];
  for (let layer = 0; layer < config.nLayer; layer++) {
    for (const module of orderedTargets(spec)) {
      const { inFeatures, outFeatures } = moduleFeatures(config, module);
      shapes.push({ name: loraTensorName(layer, module, 'A'), shape: [spec.rank, inFeatures] });
      shapes.push({ name: loraTensorName(layer, module, 'B'), shape: [outFeatures, spec.rank] });
    }
  }
  return shapes;
}

/**
 * PEFT init: A ~ kaiming_uniform(a = sqrt(5)), whose bound is gain * sqrt(3 / fan_in) with
 * gain = sqrt(2 / (1 + a^2)) = sqrt(1/3), i.e. U(-1/sqrt(in), 1/sqrt(in)); B = 0 so the
 * adapted model starts equal to the base model. `random()` gives uniform [0, 1).
 */
export function initLoraTensors(config: GPT2Config, spec: LoraSpec, random: () => number): Map<string, Float32Array> {
  const tensors = new Map<string, Float32Array>();
  for (const { name, shape } of loraTensorShapes(config, spec)) {
    const values = new Float32Array(shape[0] * shape[1]);
    if (name.endsWith('.lora_A.weight')) {
      const bound = 1 / Math.sqrt(shape[1]);
      for (let i = 0; i < values.length; i++) values[i] = (2 * random() - 1) * bound;
    }
    tensors.set(name, values);
  }
  return tensors;
}

/**
 * Dropout masks are drawn on the host (reproducible runs): one per adapted layer, applied
 * to the LoRA branch's input x before lora_A, values 0 or 1/(1-p). Empty when dropout = 0.
 */
export function dropoutMaskShapes(config: GPT2Config, spec: LoraSpec, batchSize: number, seqLen: number): NamedShape[] {
  validateLoraSpec(spec);
  if (spec.dropout === 0) return [];
  const shapes: NamedShape[] = [];
  for (let layer = 0; layer < config.nLayer; layer++) {
    for (const module of orderedTargets(spec)) {
      shapes.push({ name: dropoutMaskName(layer, module), shape: [batchSize, seqLen, moduleFeatures(config, module).inFeatures] });
    }
  }
  return shapes;
}
