// The benchmarked model shapes and the FLOPs one train step needs, shared by the ONNX and
// PyTorch runs so both sides measure the same work.
import { existsSync, readFileSync } from 'node:fs';
import { gpt2ConfigFromHF, type GPT2Config, type LoraSpec } from '../../src/training/model/index.ts';

export interface BenchCase {
  name: string;
  config: GPT2Config;
  lora: LoraSpec;
  batchSize: number;
  seqLen: number;
  /** Where the shape came from. */
  source: string;
}

const TINY_MODEL_CONFIG = 'models/tiny-gpt2/config.json';

function tinyCase(): BenchCase {
  const lora: LoraSpec = { rank: 8, alpha: 16, dropout: 0, targetModules: ['c_attn'] };
  if (existsSync(TINY_MODEL_CONFIG)) {
    const config = gpt2ConfigFromHF(JSON.parse(readFileSync(TINY_MODEL_CONFIG, 'utf8')));
    return { name: 'tiny', config, lora, batchSize: 8, seqLen: Math.min(128, config.nPositions), source: `${TINY_MODEL_CONFIG} (shape; random weights)` };
  }
  const config: GPT2Config = { vocabSize: 512, nPositions: 128, nEmbd: 128, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5 };
  return { name: 'tiny', config, lora, batchSize: 8, seqLen: 128, source: 'built-in tiny shape (models/tiny-gpt2 not present)' };
}

export function benchCases(): BenchCase[] {
  return [
    tinyCase(),
    {
      name: 'gpt2-small',
      config: { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5 },
      lora: { rank: 8, alpha: 16, dropout: 0, targetModules: ['c_attn'] },
      batchSize: 4,
      seqLen: 128,
      source: 'GPT-2 small shape, random weights',
    },
  ];
}

/**
 * Matrix-multiply FLOPs of one LoRA train step (forward + the backward a LoRA-only step
 * needs: activation gradients through every layer above the first adapted one, no base
 * weight gradients). Elementwise work is left out; it is what the matmul rate is compared to.
 */
export function trainStepMatmulFlops(c: BenchCase): number {
  const { nEmbd: C, nLayer: L, vocabSize: V } = c.config;
  const N = c.batchSize * c.seqLen, T = c.seqLen, r = c.lora.rank;
  const linears = 2 * N * C * (3 * C + C + 4 * C + 4 * C); // c_attn, c_proj, c_fc, mlp.c_proj
  const attention = 2 * 2 * N * T * C; // q k^T and p v
  const head = 2 * N * C * V;
  const loraForward = c.lora.targetModules.includes('c_attn') ? 2 * N * r * (C + 3 * C) : 0;
  const forward = L * (linears + attention + loraForward) + head;
  const backwardLinears = L * linears - 2 * N * C * 3 * C; // no dx below layer 0's c_attn
  const backwardAttention = L * 2 * attention;
  const backwardLora = L * 2 * loraForward; // dA, dB, du (and dx of the branch)
  const backward = backwardLinears + backwardAttention + backwardLora + head;
  return forward + backward;
}
