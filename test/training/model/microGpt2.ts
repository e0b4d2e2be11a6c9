// Test fixtures: a micro GPT-2 with random weights from a seeded RNG, and a plain-TypeScript
// float64 reference forward (loops, no ONNX) to check the graphs against.
import { baseWeightShapes, type BaseWeights, type GPT2Config, type LoraSpec } from '../../../src/training/model/index.ts';
import { Rng } from '../../../src/training/rng.ts';
import { loraScale, loraTensorName, modulePath, TARGET_MODULES, type TargetModule } from '../../../src/training/model/lora.ts';

export const MICRO_CONFIG: GPT2Config = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

/** Uniform [0, 1) from the trainer's seeded RNG. */
export function seededRandom(seed: number): () => number {
  const rng = Rng.fromSeed(seed);
  return () => rng.nextFloat();
}

export function randomBaseWeights(config: GPT2Config, random: () => number, std = 0.3): BaseWeights {
  const weights: BaseWeights = new Map();
  for (const { name, shape } of baseWeightShapes(config)) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isGain = /ln_\w+\.weight$/.test(name);
    for (let i = 0; i < values.length; i++) values[i] = (isGain ? 1 : 0) + (2 * random() - 1) * std;
    weights.set(name, values);
  }
  return weights;
}

export function randomTokens(n: number, vocab: number, random: () => number): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(random() * vocab));
}

// ---- reference forward, float64, row-major loops ----

type Matrix = { rows: number; cols: number; data: Float64Array };
const matrix = (rows: number, cols: number, data = new Float64Array(rows * cols)): Matrix => ({ rows, cols, data });

function matmul(a: Matrix, b: Matrix): Matrix {
  const out = matrix(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) for (let k = 0; k < a.cols; k++) {
    const aik = a.data[i * a.cols + k];
    for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += aik * b.data[k * b.cols + j];
  }
  return out;
}
function transpose(a: Matrix): Matrix {
  const out = matrix(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}
function layerNorm(x: Matrix, gain: ArrayLike<number>, bias: ArrayLike<number>, eps: number): Matrix {
  const out = matrix(x.rows, x.cols);
  for (let i = 0; i < x.rows; i++) {
    let mean = 0, variance = 0;
    for (let j = 0; j < x.cols; j++) mean += x.data[i * x.cols + j] / x.cols;
    for (let j = 0; j < x.cols; j++) variance += (x.data[i * x.cols + j] - mean) ** 2 / x.cols;
    for (let j = 0; j < x.cols; j++) out.data[i * x.cols + j] = (x.data[i * x.cols + j] - mean) / Math.sqrt(variance + eps) * gain[j] + bias[j];
  }
  return out;
}
const geluNew = (h: number) => 0.5 * h * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (h + 0.044715 * h ** 3)));

export interface ReferenceInputs {
  config: GPT2Config;
  weights: Map<string, ArrayLike<number>>;
  lora: LoraSpec;
  loraTensors: Map<string, ArrayLike<number>>;
  dropoutMasks?: Map<string, ArrayLike<number>>;
  inputIds: Int32Array;
  batchSize: number;
  seqLen: number;
}

/** Logits (B*T, V) of GPT-2 (+ LoRA) computed with loops in float64. */
export function referenceLogits(r: ReferenceInputs): Float64Array {
  const { config, weights, batchSize: B, seqLen: T } = r;
  const { nEmbd: C, nHead: nh, vocabSize: V, layerNormEpsilon: eps } = config;
  const hs = C / nh;
  const w = (name: string) => weights.get(name)!;
  const all: Float64Array[] = [];
  for (let b = 0; b < B; b++) {
    let x = matrix(T, C);
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) {
      x.data[t * C + c] = w('wte.weight')[r.inputIds[b * T + t] * C + c] + w('wpe.weight')[t * C + c];
    }
    const linear = (layer: number, module: TargetModule, input: Matrix, outF: number): Matrix => {
      const prefix = `h.${layer}.${modulePath(module)}`;
      const y = matmul(input, matrix(input.cols, outF, Float64Array.from(w(`${prefix}.weight`))));
      for (let i = 0; i < y.rows; i++) for (let j = 0; j < outF; j++) y.data[i * outF + j] += w(`${prefix}.bias`)[j];
      if (r.lora.targetModules.includes(module)) {
        const rank = r.lora.rank;
        let xd = input;
        const mask = r.dropoutMasks?.get(`h.${layer}.${modulePath(module)}.lora_dropout.mask`);
        if (mask) {
          xd = matrix(input.rows, input.cols);
          for (let i = 0; i < xd.data.length; i++) xd.data[i] = input.data[i] * mask[b * T * input.cols + i];
        }
        const A = matrix(rank, input.cols, Float64Array.from(r.loraTensors.get(loraTensorName(layer, module, 'A'))!));
        const Bm = matrix(outF, rank, Float64Array.from(r.loraTensors.get(loraTensorName(layer, module, 'B'))!));
        const delta = matmul(matmul(xd, transpose(A)), transpose(Bm));
        for (let i = 0; i < y.data.length; i++) y.data[i] += loraScale(r.lora) * delta.data[i];
      }
      return y;
    };
    for (let layer = 0; layer < config.nLayer; layer++) {
      const h = `h.${layer}`;
      const qkv = linear(layer, 'c_attn', layerNorm(x, w(`${h}.ln_1.weight`), w(`${h}.ln_1.bias`), eps), 3 * C);
      const att = matrix(T, C);
      for (let head = 0; head < nh; head++) {
        for (let t = 0; t < T; t++) {
          const scores: number[] = [];
          for (let s = 0; s <= t; s++) {
            let dot = 0;
            for (let d = 0; d < hs; d++) dot += qkv.data[t * 3 * C + head * hs + d] * qkv.data[s * 3 * C + C + head * hs + d];
            scores.push(dot / Math.sqrt(hs));
          }
          const max = Math.max(...scores);
          const e = scores.map((v) => Math.exp(v - max));
          const sum = e.reduce((a, v) => a + v, 0);
          for (let s = 0; s <= t; s++) for (let d = 0; d < hs; d++) {
            att.data[t * C + head * hs + d] += (e[s] / sum) * qkv.data[s * 3 * C + 2 * C + head * hs + d];
          }
        }
      }
      const proj = linear(layer, 'attn.c_proj', att, C);
      x = matrix(T, C, x.data.map((v, i) => v + proj.data[i]));
      const fc = linear(layer, 'mlp.c_fc', layerNorm(x, w(`${h}.ln_2.weight`), w(`${h}.ln_2.bias`), eps), 4 * C);
      const mlp = linear(layer, 'mlp.c_proj', matrix(T, 4 * C, fc.data.map(geluNew)), C);
      x = matrix(T, C, x.data.map((v, i) => v + mlp.data[i]));
    }
    const xf = layerNorm(x, w('ln_f.weight'), w('ln_f.bias'), eps);
    all.push(matmul(xf, transpose(matrix(V, C, Float64Array.from(w('wte.weight'))))).data);
  }
  const out = new Float64Array(B * T * V);
  all.forEach((logits, b) => out.set(logits, b * T * V));
  return out;
}

/** Mean cross-entropy over targets other than -100, in float64. */
export function referenceLoss(r: ReferenceInputs, targets: Int32Array): number {
  const logits = referenceLogits(r);
  const V = r.config.vocabSize;
  let total = 0, count = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === -100) continue;
    const row = logits.subarray(i * V, (i + 1) * V);
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    total += Math.log(sum) + max - row[targets[i]];
    count++;
  }
  return total / Math.max(count, 1);
}

export const ALL_TARGETS: TargetModule[] = [...TARGET_MODULES];
