// gpt2ConfigFromHF reads HF GPT-2 config.json keys and names the key and value it rejects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gpt2ConfigFromHF } from '../../../src/training/model/index.ts';

const gpt2Small = { model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new' };

describe('gpt2ConfigFromHF', () => {
  it('reads the HF keys', () => {
    assert.deepEqual(gpt2ConfigFromHF(gpt2Small), { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5 });
    const { layer_norm_epsilon: _eps, ...withoutEps } = gpt2Small;
    assert.equal(gpt2ConfigFromHF(withoutEps).layerNormEpsilon, 1e-5);
  });

  it('names the key, the value and what is allowed', () => {
    assert.throws(() => gpt2ConfigFromHF({ ...gpt2Small, n_head: 0 }), /"n_head" is 0; it must be a positive integer/);
    assert.throws(() => gpt2ConfigFromHF({ ...gpt2Small, vocab_size: undefined }), /"vocab_size" is undefined; it must be a positive integer/);
    assert.throws(() => gpt2ConfigFromHF({ ...gpt2Small, n_head: 5 }), /"n_embd" \(768\) must be divisible by "n_head" \(5\)/);
    assert.throws(() => gpt2ConfigFromHF({ ...gpt2Small, model_type: 'llama' }), /"model_type" is "llama"; only "gpt2" is supported/);
    assert.throws(() => gpt2ConfigFromHF({ ...gpt2Small, n_inner: 1000 }), /"n_inner" is 1000; only null or 4 \* n_embd \(3072\) is supported/);
    assert.equal(gpt2ConfigFromHF({ ...gpt2Small, n_inner: null }).nEmbd, 768);
    assert.throws(() => gpt2ConfigFromHF({ ...gpt2Small, layer_norm_epsilon: -1 }), /"layer_norm_epsilon" is -1; it must be a positive number/);
  });
});
