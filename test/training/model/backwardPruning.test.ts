// The train-step graph builds only the backward work the trainable tensors need: no
// base-weight gradients in LoRA mode, and no activation gradient below the earliest
// adapted layer, while gradients still flow through frozen layers to earlier adapters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGpt2Graph } from '../../../src/training/model/gpt2Graph.ts';
import type { LoraSpec, TargetModule } from '../../../src/training/model/index.ts';
import { MICRO_CONFIG, randomBaseWeights, seededRandom } from './microGpt2.ts';

const weights = randomBaseWeights(MICRO_CONFIG, seededRandom(2));

function tensorsComputed(targetModules: TargetModule[], trainable: 'lora' | 'full' = 'lora'): Set<string> {
  const lora: LoraSpec = { rank: 2, alpha: 2, dropout: 0, targetModules };
  const graph = buildGpt2Graph({ config: MICRO_CONFIG, lora, batchSize: 1, seqLen: 4, floatType: 'float32', trainable, weights, outputs: 'train' });
  return new Set(graph.onnx.nodeOutputs());
}

describe('backward pruning', () => {
  it('LoRA on c_attn: gradients reach layer 0 c_attn through every frozen layer above, and stop there', () => {
    const t = tensorsComputed(['c_attn']);
    assert.ok(t.has('h.1.mlp.c_fc.dx') && t.has('h.1.attn.dqkv') && t.has('h.0.mlp.c_proj.dx') && t.has('h.0.attn.dqkv'));
    assert.ok(t.has('h.0.attn.c_attn.lora_A.grad'));
    assert.ok(!t.has('h.0.attn.c_attn.dx'), 'nothing below layer 0 c_attn is trainable');
    assert.ok(!t.has('h.0.ln_1.dx') && !t.has('h.1.attn.c_attn.weight.grad') && !t.has('wte.weight.grad'), 'no base-weight gradients');
  });

  it('LoRA on mlp.c_proj only: layer 0 backward stops at its mlp.c_proj, layer 1 flows through fully', () => {
    const t = tensorsComputed(['mlp.c_proj']);
    assert.ok(t.has('h.0.mlp.c_proj.lora_B.grad'));
    assert.ok(!t.has('h.0.mlp.c_proj.dx') && !t.has('h.0.attn.dqkv') && !t.has('h.0.mlp.gelu.dh'));
    assert.ok(t.has('h.1.attn.dqkv') && t.has('h.1.ln_1.dx'), 'layer 1 passes the gradient down to layer 0');
  });

  it("trainable 'full' computes every input gradient and every weight gradient", () => {
    const t = tensorsComputed([], 'full');
    assert.ok(t.has('h.0.attn.c_attn.dx') && t.has('h.0.ln_1.dx') && t.has('wte.weight.grad') && t.has('wpe.weight.grad'));
    assert.ok(t.has('h.0.attn.c_attn.weight.grad') && t.has('ln_f.bias.grad'));
  });
});
