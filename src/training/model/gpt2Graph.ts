// GPT-2 with LoRA as one ONNX graph: forward, loss, and the backward written beside it.
//
// Reads like nanoGPT's model.py (https://github.com/karpathy/nanoGPT): small components first
// (LayerNorm, LoRA linear, causal self-attention, GELU), then the Block, then the model. Each
// component has its forward and, right under it, its backward. Follows HF GPT-2 (Conv1D
// weights (in, out), gelu_new, tied LM head) and PEFT LoRA (y += alpha/r * drop(x) A^T B^T).
//
// Shapes: B batch, T sequence, N = B*T rows, C width, nh heads, hs = C/nh, V vocabulary,
// r LoRA rank. The residual stream is kept as (N, C) so every linear layer is one Gemm.
//
// Only the gradients the trainable tensors need are built: frozen base weights get no weight
// gradient, and the activation gradient stops below the earliest trainable tensor.
import { baseWeightShapes, checkBaseWeights, type BaseWeights } from './baseWeights.ts';
import type { GPT2Config } from './config.ts';
import {
  dropoutMaskName, dropoutMaskShapes, loraScale, loraTensorName, loraTensorShapes, moduleFeatures, modulePath,
  orderedTargets, validateLoraSpec, type LoraSpec, type NamedShape, type TargetModule,
} from './lora.ts';
import { DataType, OnnxGraph, type FloatType } from './onnxGraph.ts';

export const IGNORE_INDEX = -100;

export interface Gpt2GraphOptions {
  config: GPT2Config;
  lora: LoraSpec;
  batchSize: number;
  seqLen: number;
  floatType: FloatType;
  /** 'lora': base weights are initializers, LoRA tensors are trained. 'full': base weights (and LoRA tensors, if any) are inputs and trained. */
  trainable: 'lora' | 'full';
  /** Required when trainable = 'lora'. */
  weights?: BaseWeights;
  /** 'train': loss + gradients; 'loss': loss only; 'logits': logits (B, T, V) only. */
  outputs: 'train' | 'loss' | 'logits';
}

export interface Gpt2Graph {
  /** The built graph; hand it to createSession. */
  onnx: OnnxGraph;
  name: string;
  /** Trainable tensor name -> graph output holding its gradient ('train' graphs). */
  gradOutputs: Map<string, string>;
  /** Graph inputs fed from the caller's tensor maps, with shapes. */
  loraInputs: NamedShape[];
  baseInputs: NamedShape[];
  dropoutInputs: NamedShape[];
}

// Position of each stage inside a block; an activation gradient is only needed below the
// earliest trainable stage (see needsInputGrad).
const STAGE = { ln_1: 0, c_attn: 1, 'attn.c_proj': 2, ln_2: 3, 'mlp.c_fc': 4, 'mlp.c_proj': 5 } as const;
const STAGES_PER_BLOCK = 6;

/** Where weights come from and where gradients go. */
class ModelContext {
  readonly g: OnnxGraph;
  readonly o: Gpt2GraphOptions;
  readonly N: number;
  readonly train: boolean;
  readonly full: boolean;
  readonly targets: Set<TargetModule>;
  readonly grads = new Map<string, string>();
  private readonly baseTensors = new Map<string, string>();
  /** Stage index of the earliest trainable tensor (-1: embeddings; Infinity: none). */
  private readonly firstTrainable: number;

  constructor(g: OnnxGraph, o: Gpt2GraphOptions) {
    this.g = g;
    this.o = o;
    this.N = o.batchSize * o.seqLen;
    this.train = o.outputs === 'train';
    this.full = o.trainable === 'full';
    this.targets = new Set(orderedTargets(o.lora));
    const firstModule = orderedTargets(o.lora)[0];
    this.firstTrainable = this.full ? -1 : firstModule ? STAGE[firstModule] : Infinity;
    for (const { name, shape } of baseWeightShapes(o.config)) {
      if (this.full) {
        this.baseTensors.set(name, g.input(name, shape));
      } else {
        this.baseTensors.set(name, g.floatInitializer(name, o.weights!.get(name)!, shape));
      }
    }
  }

  base(name: string): string {
    const tensor = this.baseTensors.get(name);
    if (!tensor) throw new Error(`internal: no base tensor ${name}`);
    return tensor;
  }

  /** Does the gradient need to flow into the input of the stage at (layer, stage)? */
  needsInputGrad(layer: number, stage: number): boolean {
    return this.train && this.firstTrainable < layer * STAGES_PER_BLOCK + stage;
  }

  addGrad(name: string, tensor: string): void {
    this.grads.set(name, tensor);
  }
}

// ---------------------------------------------------------------------------------------
// LayerNorm: y = (x - mean) / sqrt(var + eps) * gamma + beta, over the last axis.

interface LayerNormSaved { x: string; mean: string; invStd: string; weight: string; bias: string; name: string }

function layerNormForward(m: ModelContext, name: string, x: string): { y: string; saved: LayerNormSaved } {
  const { g } = m;
  const weight = m.base(`${name}.weight`), bias = m.base(`${name}.bias`);
  if (g.floatType === 'float32') {
    const [y, mean, invStd] = g.node('LayerNormalization', [x, weight, bias], [`${name}.y`, `${name}.mean`, `${name}.inv_std`], {
      axis: -1, epsilon: { float: m.o.config.layerNormEpsilon },
    }); // (N, C), (N, 1), (N, 1)
    return { y, saved: { x, mean, invStd, weight, bias, name } };
  }
  // onnxruntime's CPU LayerNormalization has no double kernel: the same math, op by op.
  const mean = g.reduceMean(x, [-1], true, `${name}.mean`); // (N, 1)
  const centered = g.sub(x, mean, `${name}.centered`); // (N, C)
  const variance = g.reduceMean(g.mul(centered, centered, `${name}.centered2`), [-1], true, `${name}.var`); // (N, 1)
  const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.add(variance, g.scalar(m.o.config.layerNormEpsilon), `${name}.var_eps`)], [`${name}.std`])[0]], [`${name}.inv_std`])[0]; // (N, 1)
  const y = g.add(g.mul(g.mul(centered, invStd, `${name}.xhat_fwd`), weight, `${name}.scaled`), bias, `${name}.y`); // (N, C)
  return { y, saved: { x, mean, invStd, weight, bias, name } };
}

function layerNormBackward(m: ModelContext, s: LayerNormSaved, dy: string, needDx: boolean): string | null {
  const { g } = m;
  const n = s.name;
  const xhat = g.mul(g.sub(s.x, s.mean, `${n}.x_centered`), s.invStd, `${n}.xhat`); // (N, C)
  if (m.full) {
    m.addGrad(`${n}.weight`, g.reduceSum(g.mul(dy, xhat, `${n}.dy_xhat`), [0], false, `${n}.weight.grad`)); // (C)
    m.addGrad(`${n}.bias`, g.reduceSum(dy, [0], false, `${n}.bias.grad`)); // (C)
  }
  if (!needDx) return null;
  // dx = invStd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = dy * gamma
  const dxhat = g.mul(dy, s.weight, `${n}.dxhat`); // (N, C)
  const meanDxhat = g.reduceMean(dxhat, [-1], true, `${n}.mean_dxhat`); // (N, 1)
  const meanDxhatXhat = g.reduceMean(g.mul(dxhat, xhat, `${n}.dxhat_xhat`), [-1], true, `${n}.mean_dxhat_xhat`); // (N, 1)
  const centered = g.sub(g.sub(dxhat, meanDxhat, `${n}.dxhat_c`), g.mul(xhat, meanDxhatXhat, `${n}.xhat_m`), `${n}.dxhat_cc`); // (N, C)
  return g.mul(centered, s.invStd, `${n}.dx`); // (N, C)
}

// ---------------------------------------------------------------------------------------
// Conv1D linear with an optional LoRA branch (PEFT):
//   y = x W + b + scale * (drop(x) A^T) B^T       W (in, out), A (r, in), B (out, r)

interface LinearSaved { name: string; layer: number; module: TargetModule; x: string; weight: string; lora?: { xd: string; mask?: string; u: string; a: string; b: string; aName: string; bName: string } }

function linearForward(m: ModelContext, layer: number, module: TargetModule, x: string): { y: string; saved: LinearSaved } {
  const { g } = m;
  const name = `h.${layer}.${modulePath(module)}`;
  const weight = m.base(`${name}.weight`), bias = m.base(`${name}.bias`);
  const base = g.gemm(x, weight, `${name}.base`, { c: bias }); // (N, out)
  if (!m.targets.has(module)) return { y: base, saved: { name, layer, module, x, weight } };
  const { inFeatures, outFeatures } = moduleFeatures(m.o.config, module);
  const r = m.o.lora.rank;
  const aName = loraTensorName(layer, module, 'A'), bName = loraTensorName(layer, module, 'B');
  const a = m.g.input(aName, [r, inFeatures]); // (r, in)
  const b = m.g.input(bName, [outFeatures, r]); // (out, r)
  let xd = x, mask: string | undefined;
  if (m.o.outputs === 'train' && m.o.lora.dropout > 0) {
    const maskName = dropoutMaskName(layer, module);
    mask = g.reshape(g.input(maskName, [m.o.batchSize, m.o.seqLen, inFeatures]), [m.N, inFeatures], `${name}.lora_dropout.mask_2d`); // (N, in)
    xd = g.mul(x, mask, `${name}.lora_dropout.x`); // (N, in)
  }
  const u = g.gemm(xd, a, `${name}.lora_u`, { transB: true }); // (N, r)
  const y = g.gemm(u, b, `${name}.y`, { transB: true, alpha: loraScale(m.o.lora), c: base }); // (N, out)
  return { y, saved: { name, layer, module, x, weight, lora: { xd, mask, u, a, b, aName, bName } } };
}

function linearBackward(m: ModelContext, s: LinearSaved, dy: string, needDx: boolean): string | null {
  const { g } = m;
  const n = s.name;
  if (m.full) {
    m.addGrad(`${n}.weight`, g.gemm(s.x, dy, `${n}.weight.grad`, { transA: true })); // (in, out)
    m.addGrad(`${n}.bias`, g.reduceSum(dy, [0], false, `${n}.bias.grad`)); // (out)
  }
  let dxLora: string | undefined;
  if (s.lora) {
    const scale = loraScale(m.o.lora);
    const { xd, mask, u, a, b, aName, bName } = s.lora;
    m.addGrad(bName, g.gemm(dy, u, `${n}.lora_B.grad`, { transA: true, alpha: scale })); // (out, r)
    const du = g.gemm(dy, b, `${n}.lora_du`, { alpha: scale }); // (N, r)
    m.addGrad(aName, g.gemm(du, xd, `${n}.lora_A.grad`, { transA: true })); // (r, in)
    if (needDx) {
      const dxd = g.matmul(du, a, `${n}.lora_dxd`); // (N, in)
      dxLora = mask ? g.mul(dxd, mask, `${n}.lora_dx`) : dxd; // (N, in)
    }
  }
  if (!needDx) return null;
  return g.gemm(dy, s.weight, `${n}.dx`, { transB: true, c: dxLora }); // (N, in)
}

// ---------------------------------------------------------------------------------------
// Causal self-attention on the (N, 3C) output of c_attn.

interface AttentionSaved { name: string; q: string; k: string; v: string; p: string }

function attentionForward(m: ModelContext, layer: number, qkv: string, causalMask: string): { y: string; saved: AttentionSaved } {
  const { g } = m;
  const { nEmbd: C, nHead: nh } = m.o.config;
  const B = m.o.batchSize, T = m.o.seqLen, hs = C / nh;
  const n = `h.${layer}.attn`;
  const [q2, k2, v2] = g.split(qkv, [C, C, C], 1, [`${n}.q_2d`, `${n}.k_2d`, `${n}.v_2d`]); // (N, C) each
  const heads = (t: string, what: string) => g.transpose(g.reshape(t, [B, T, nh, hs], `${n}.${what}_bthd`), [0, 2, 1, 3], `${n}.${what}`); // (B, nh, T, hs)
  const q = g.mul(heads(q2, 'q_unscaled'), g.scalar(1 / Math.sqrt(hs)), `${n}.q`); // (B, nh, T, hs), 1/sqrt(hs) folded into q
  const k = heads(k2, 'k'); // (B, nh, T, hs)
  const v = heads(v2, 'v'); // (B, nh, T, hs)
  const att = g.add(g.matmul(q, g.transpose(k, [0, 1, 3, 2], `${n}.kT`), `${n}.scores`), causalMask, `${n}.scores_masked`); // (B, nh, T, T)
  const p = g.softmax(att, -1, `${n}.p`); // (B, nh, T, T)
  const y4 = g.matmul(p, v, `${n}.y_heads`); // (B, nh, T, hs)
  const y = g.reshape(g.transpose(y4, [0, 2, 1, 3], `${n}.y_bthd`), [B * T, C], `${n}.y`); // (N, C)
  return { y, saved: { name: n, q, k, v, p } };
}

function attentionBackward(m: ModelContext, s: AttentionSaved, dy: string): string {
  const { g } = m;
  const { nEmbd: C, nHead: nh } = m.o.config;
  const B = m.o.batchSize, T = m.o.seqLen, hs = C / nh;
  const n = s.name;
  const dy4 = g.transpose(g.reshape(dy, [B, T, nh, hs], `${n}.dy_bthd`), [0, 2, 1, 3], `${n}.dy_heads`); // (B, nh, T, hs)
  const dp = g.matmul(dy4, g.transpose(s.v, [0, 1, 3, 2], `${n}.vT`), `${n}.dp`); // (B, nh, T, T)
  const dv = g.matmul(g.transpose(s.p, [0, 1, 3, 2], `${n}.pT`), dy4, `${n}.dv`); // (B, nh, T, hs)
  // softmax backward: datt = p * (dp - sum(dp * p))
  const rowDot = g.reduceSum(g.mul(dp, s.p, `${n}.dp_p`), [-1], true, `${n}.dp_p_sum`); // (B, nh, T, 1)
  const datt = g.mul(s.p, g.sub(dp, rowDot, `${n}.dp_centered`), `${n}.datt`); // (B, nh, T, T)
  const dq = g.mul(g.matmul(datt, s.k, `${n}.dq_scaled`), g.scalar(1 / Math.sqrt(hs)), `${n}.dq`); // (B, nh, T, hs)
  const dk = g.matmul(g.transpose(datt, [0, 1, 3, 2], `${n}.dattT`), s.q, `${n}.dk`); // (B, nh, T, hs)
  const rows = (t: string, what: string) => g.reshape(g.transpose(t, [0, 2, 1, 3], `${n}.${what}_bthd`), [B * T, C], `${n}.${what}_2d`); // (N, C)
  return g.concat([rows(dq, 'dq'), rows(dk, 'dk'), rows(dv, 'dv')], 1, `${n}.dqkv`); // (N, 3C)
}

// ---------------------------------------------------------------------------------------
// GELU, tanh approximation (HF gelu_new): y = 0.5 h (1 + tanh(sqrt(2/pi) (h + 0.044715 h^3)))

const GELU_K0 = Math.sqrt(2 / Math.PI);
const GELU_K1 = 0.044715;

interface GeluSaved { name: string; h: string; t: string }

function geluForward(m: ModelContext, layer: number, h: string): { y: string; saved: GeluSaved } {
  const { g } = m;
  const n = `h.${layer}.mlp.gelu`;
  const h2 = g.mul(h, h, `${n}.h2`); // (N, 4C)
  const inner = g.mul(g.add(g.mul(g.mul(h2, h, `${n}.h3`), g.scalar(GELU_K1), `${n}.k1h3`), h, `${n}.poly`), g.scalar(GELU_K0), `${n}.inner`); // (N, 4C)
  const t = g.tanh(inner, `${n}.t`); // (N, 4C)
  const y = g.mul(g.mul(h, g.scalar(0.5), `${n}.half_h`), g.add(t, g.scalar(1), `${n}.one_plus_t`), `${n}.y`); // (N, 4C)
  return { y, saved: { name: n, h, t } };
}

function geluBackward(m: ModelContext, s: GeluSaved, dy: string): string {
  const { g } = m;
  const n = s.name;
  // dy/dh = 0.5 (1 + t) + 0.5 h (1 - t^2) k0 (1 + 3 k1 h^2)
  const onePlusT = g.add(s.t, g.scalar(1), `${n}.b_one_plus_t`); // (N, 4C)
  const oneMinusT2 = g.sub(g.scalar(1), g.mul(s.t, s.t, `${n}.t2`), `${n}.one_minus_t2`); // (N, 4C)
  const dInner = g.add(g.mul(g.mul(s.h, s.h, `${n}.b_h2`), g.scalar(3 * GELU_K1 * GELU_K0), `${n}.b_3k1k0h2`), g.scalar(GELU_K0), `${n}.dinner_dh`); // (N, 4C)
  const slope = g.add(onePlusT, g.mul(g.mul(s.h, oneMinusT2, `${n}.h_sech2`), dInner, `${n}.h_sech2_dinner`), `${n}.twice_slope`); // (N, 4C)
  return g.mul(g.mul(dy, slope, `${n}.dh_twice`), g.scalar(0.5), `${n}.dh`); // (N, 4C)
}

// ---------------------------------------------------------------------------------------
// Block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))

interface BlockSaved { layer: number; ln1: LayerNormSaved; cAttn: LinearSaved; attn: AttentionSaved; attnProj: LinearSaved; ln2: LayerNormSaved; cFc: LinearSaved; gelu: GeluSaved; mlpProj: LinearSaved }

function blockForward(m: ModelContext, layer: number, x: string, causalMask: string): { y: string; saved: BlockSaved } {
  const h = `h.${layer}`;
  const ln1 = layerNormForward(m, `${h}.ln_1`, x); // (N, C)
  const cAttn = linearForward(m, layer, 'c_attn', ln1.y); // (N, 3C)
  const attn = attentionForward(m, layer, cAttn.y, causalMask); // (N, C)
  const attnProj = linearForward(m, layer, 'attn.c_proj', attn.y); // (N, C)
  const xMid = m.g.add(x, attnProj.y, `${h}.x_mid`); // (N, C)
  const ln2 = layerNormForward(m, `${h}.ln_2`, xMid); // (N, C)
  const cFc = linearForward(m, layer, 'mlp.c_fc', ln2.y); // (N, 4C)
  const gelu = geluForward(m, layer, cFc.y); // (N, 4C)
  const mlpProj = linearForward(m, layer, 'mlp.c_proj', gelu.y); // (N, C)
  const y = m.g.add(xMid, mlpProj.y, `${h}.out`); // (N, C)
  return { y, saved: { layer, ln1: ln1.saved, cAttn: cAttn.saved, attn: attn.saved, attnProj: attnProj.saved, ln2: ln2.saved, cFc: cFc.saved, gelu: gelu.saved, mlpProj: mlpProj.saved } };
}

/** dy: gradient of the block output (N, C); returns the gradient of its input, or null when nothing below needs it. */
function blockBackward(m: ModelContext, s: BlockSaved, dy: string): string | null {
  const { g } = m;
  const { layer } = s;
  const h = `h.${layer}`;
  const below = (stage: number) => m.needsInputGrad(layer, stage);
  // x = x_mid + mlp(ln_2(x_mid))
  const dGelu = linearBackward(m, s.mlpProj, dy, below(STAGE['mlp.c_proj'])); // (N, 4C)
  if (!dGelu) return null;
  const dFc = geluBackward(m, s.gelu, dGelu); // (N, 4C)
  const dLn2 = linearBackward(m, s.cFc, dFc, below(STAGE['mlp.c_fc'])); // (N, C)
  const dLn2x = dLn2 && layerNormBackward(m, s.ln2, dLn2, below(STAGE.ln_2)); // (N, C)
  if (!dLn2x) return null;
  const dxMid = g.add(dy, dLn2x, `${h}.dx_mid`); // (N, C)
  // x_mid = x + attn(ln_1(x))
  const dAttn = linearBackward(m, s.attnProj, dxMid, below(STAGE['attn.c_proj'])); // (N, C)
  if (!dAttn) return null;
  const dQkv = attentionBackward(m, s.attn, dAttn); // (N, 3C)
  const dLn1 = linearBackward(m, s.cAttn, dQkv, below(STAGE.c_attn)); // (N, C)
  const dLn1x = dLn1 && layerNormBackward(m, s.ln1, dLn1, below(STAGE.ln_1)); // (N, C)
  if (!dLn1x) return null;
  return g.add(dxMid, dLn1x, `${h}.dx`); // (N, C)
}

// ---------------------------------------------------------------------------------------
// The model: embeddings -> blocks -> ln_f -> tied LM head -> mean cross-entropy.

export function buildGpt2Graph(o: Gpt2GraphOptions): Gpt2Graph {
  checkGraphOptions(o);
  const { config } = o;
  const { vocabSize: V, nPositions: P, nEmbd: C, nLayer } = config;
  const B = o.batchSize, T = o.seqLen, N = B * T;
  const g = new OnnxGraph(o.floatType);
  const m = new ModelContext(g, o);

  const idsBT = g.input('input_ids', [B, T], DataType.INT32); // (B, T)
  const ids = g.reshape(idsBT, [N], 'ids'); // (N)
  const positions = g.int32Initializer('positions', Array.from({ length: N }, (_, i) => i % T), [N]); // (N)
  const causalMask = g.floatInitializer('causal_mask', causalMaskValues(T), [T, T]); // (T, T): 0 on and below the diagonal, -1e9 above
  const wte = m.base('wte.weight'), wpe = m.base('wpe.weight');

  const tokEmb = g.gather(wte, ids, 0, 'tok_emb'); // (N, C)
  const posEmb = g.gather(wpe, positions, 0, 'pos_emb'); // (N, C)
  let x = g.add(tokEmb, posEmb, 'x0'); // (N, C)
  const blocks: BlockSaved[] = [];
  for (let layer = 0; layer < nLayer; layer++) {
    const block = blockForward(m, layer, x, causalMask); // (N, C)
    blocks.push(block.saved);
    x = block.y;
  }
  const lnF = layerNormForward(m, 'ln_f', x); // (N, C)
  const logits = g.gemm(lnF.y, wte, 'logits_2d', { transB: true }); // (N, V)

  if (o.outputs === 'logits') {
    g.output(g.reshape(logits, [B, T, V], 'logits_btv'), 'logits', [B, T, V]); // (B, T, V)
    return finish(g, m, o);
  }

  // loss = -sum_valid log p(target) / max(#valid, 1); targets = -100 are ignored (PyTorch's ignore_index).
  const targets = g.reshape(g.input('targets', [B, T], DataType.INT32), [N, 1], 'targets_2d'); // (N, 1)
  const ignored = g.node('Equal', [targets, g.int32Initializer('ignore_index', [IGNORE_INDEX], [])], ['ignored'])[0]; // (N, 1) bool
  const valid = g.node('Cast', [g.node('Not', [ignored], ['valid_bool'])[0]], ['valid'], { to: g.elemType })[0]; // (N, 1)
  const safeTargets = g.node('Where', [ignored, g.int32Initializer('zero_index', [0], []), targets], ['safe_targets'])[0]; // (N, 1)
  const count = g.node('Max', [g.reduceSum(valid, [0, 1], false, 'valid_count'), g.scalar(1)], ['valid_count_min1'])[0]; // ()
  const rowWeight = g.div(valid, count, 'row_weight'); // (N, 1): 1/count on valid rows, 0 on ignored ones
  const logp = g.logSoftmax(logits, 1, 'logp'); // (N, V)
  const targetLogp = g.node('GatherElements', [logp, safeTargets], ['target_logp'], { axis: 1 })[0]; // (N, 1)
  const loss = g.neg(g.reduceSum(g.mul(targetLogp, rowWeight, 'weighted_logp'), [0, 1], false, 'neg_loss'), 'loss_value'); // ()
  g.output(loss, 'loss', []);
  if (o.outputs === 'loss') return finish(g, m, o);

  // ---- backward ----
  // dlogits = (softmax - onehot(target)) * rowWeight; the onehot part is a scatter into the target column.
  const probsW = g.mul(g.exp(logp, 'probs'), rowWeight, 'probs_w'); // (N, V)
  const targetProbW = g.node('GatherElements', [probsW, safeTargets], ['target_probs_w'], { axis: 1 })[0]; // (N, 1)
  const dTarget = g.sub(targetProbW, rowWeight, 'dlogits_target'); // (N, 1)
  const dLogits = g.node('ScatterElements', [probsW, safeTargets, dTarget], ['dlogits'], { axis: 1 })[0]; // (N, V)
  const dLnF = g.gemm(dLogits, wte, 'dln_f', {}); // (N, C)
  let dx = layerNormBackward(m, lnF.saved, dLnF, m.needsInputGrad(nLayer, 0)); // (N, C)
  for (let layer = nLayer - 1; layer >= 0 && dx; layer--) {
    dx = blockBackward(m, blocks[layer], dx); // (N, C)
  }
  if (m.full) {
    // Tied head: wte's gradient is the head's (dlogits^T ln_f) plus the embedding scatter-add.
    const dWteHead = g.gemm(dLogits, lnF.y, 'wte.head_grad', { transA: true }); // (V, C)
    const ids2 = g.node('Cast', [g.reshape(ids, [N, 1], 'ids_2d')], ['ids_int64'], { to: DataType.INT64 })[0]; // (N, 1)
    m.addGrad('wte.weight', g.node('ScatterND', [dWteHead, ids2, dx!], ['wte.weight.grad'], { reduction: 'add' })[0]); // (V, C)
    const dPos = g.reduceSum(g.reshape(dx!, [B, T, C], 'dx0_btc'), [0], false, 'wpe.used_grad'); // (T, C)
    m.addGrad('wpe.weight', g.node('Pad', [dPos, g.ints([0, 0, P - T, 0])], ['wpe.weight.grad'])[0]); // (P, C)
  }
  return finish(g, m, o);
}

function finish(g: OnnxGraph, m: ModelContext, o: Gpt2GraphOptions): Gpt2Graph {
  const gradOutputs = new Map<string, string>();
  const trainableShapes = [...(m.full ? baseWeightShapes(o.config) : []), ...loraTensorShapes(o.config, o.lora)];
  if (o.outputs === 'train') {
    for (const { name, shape } of trainableShapes) {
      const grad = m.grads.get(name);
      if (!grad) throw new Error(`internal: no gradient built for ${name}`);
      const outName = `grad/${name}`;
      g.output(grad, outName, shape);
      gradOutputs.set(name, outName);
    }
  }
  return {
    onnx: g,
    name: `gpt2_${o.outputs}`,
    gradOutputs,
    loraInputs: loraTensorShapes(o.config, o.lora),
    baseInputs: m.full ? baseWeightShapes(o.config) : [],
    dropoutInputs: o.outputs === 'train' ? dropoutMaskShapes(o.config, o.lora, o.batchSize, o.seqLen) : [],
  };
}

function causalMaskValues(T: number): Float64Array {
  const mask = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  return mask;
}

function checkGraphOptions(o: Gpt2GraphOptions): void {
  validateLoraSpec(o.lora);
  for (const [key, value] of [['batchSize', o.batchSize], ['seqLen', o.seqLen]] as const) {
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${key} is ${JSON.stringify(value)}; it must be a positive integer`);
  }
  if (o.seqLen > o.config.nPositions) {
    throw new Error(`seqLen ${o.seqLen} exceeds the model's n_positions ${o.config.nPositions}`);
  }
  if (o.trainable === 'lora') {
    if (!o.weights) throw new Error(`trainable 'lora' needs the base weights (options.weights)`);
    checkBaseWeights(o.config, o.weights);
  }
}
