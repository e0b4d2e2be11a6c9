import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSafetensors, readSafetensors, serializeSafetensors, type TensorToWrite } from '../../src/training/safetensors.ts';
import { loadBaseModel } from '../../src/training/baseModel.ts';
import { baseWeightShapes } from '../../src/training/model/index.ts';
import { trainByteLevelBpe } from '../../src/training/tokenizer/trainBpe.ts';
import type { GPT2Config } from '../../src/training/model/index.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'safetensors-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('safetensors round trip keeps names, shapes, dtypes, values and metadata', () => {
  const tensors = new Map<string, TensorToWrite>([
    ['a.weight', { shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 1e-30, -0, 7) }],
    ['b', { shape: [1], data: Float64Array.of(Math.PI) }],
  ]);
  const bytes = serializeSafetensors(tensors, { format: 'pt' });
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + headerLength) % 8, 0, 'data starts 8-byte aligned');
  const file = path.join(tmp, 'x.safetensors');
  writeFileSync(file, bytes);
  const back = readSafetensors(file);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.equal(back.tensors.get('a.weight')!.dtype, 'F32');
  assert.deepEqual(back.tensors.get('a.weight')!.shape, [2, 3]);
  assert.deepEqual([...back.tensors.get('a.weight')!.data], [1, -2, 3.5, Math.fround(1e-30), -0, 7]);
  assert.equal(back.tensors.get('b')!.dtype, 'F64');
  assert.equal(back.tensors.get('b')!.data[0], Math.PI);
});

test('F16 and BF16 tensors written by other tools are read as float32', () => {
  const header = JSON.stringify({ h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, g: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] } });
  const buf = Buffer.alloc(8 + header.length + 10);
  buf.writeBigUInt64LE(BigInt(header.length));
  buf.write(header, 8);
  const d = 8 + header.length;
  buf.writeUInt16LE(0x3c00, d); // 1.0
  buf.writeUInt16LE(0xc000, d + 2); // -2.0
  buf.writeUInt16LE(0x3555, d + 4); // 0.333251953125
  buf.writeUInt16LE(0x3fc0, d + 6); // bf16 1.5
  buf.writeUInt16LE(0xc120, d + 8); // bf16 -10
  const f = parseSafetensors(buf);
  assert.deepEqual([...f.tensors.get('h')!.data], [1, -2, 0.333251953125]);
  assert.deepEqual([...f.tensors.get('g')!.data], [1.5, -10]);
});

test('a truncated file is a precise error', () => {
  const bytes = serializeSafetensors(new Map([['w', { shape: [4], data: new Float32Array(4) }]]));
  assert.throws(() => parseSafetensors(bytes.subarray(0, bytes.length - 4), 'w.safetensors'), /tensor "w" in w\.safetensors has byte range \[0, 16\) outside the file/);
});

// A GPT-2-shaped model in HF layout, written the way transformers does.
const config: GPT2Config = { vocabSize: 300, nPositions: 16, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

function writeHfGpt2(dir: string, opts: { prefix: string; wrongShape?: string; dropTensor?: string }): Map<string, Float32Array> {
  mkdirSync(dir, { recursive: true });
  const hfConfig = { model_type: 'gpt2', vocab_size: 300, n_positions: 16, n_ctx: 16, n_embd: 8, n_layer: 2, n_head: 2, n_inner: null, layer_norm_epsilon: 1e-5 };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(hfConfig));
  const values = new Map<string, Float32Array>();
  const tensors = new Map<string, TensorToWrite>();
  let seed = 1;
  for (const { name, shape } of baseWeightShapes(config)) {
    if (name === opts.dropTensor) continue;
    const s = name === opts.wrongShape ? [shape[0] + 1, ...shape.slice(1)] : shape;
    const data = Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5);
    values.set(name, data);
    tensors.set(`${opts.prefix}${name}`, { shape: s, data });
  }
  // HF GPT-2 checkpoints carry the causal-mask buffer and sometimes the tied head.
  tensors.set(`${opts.prefix}h.0.attn.bias`, { shape: [1, 1, 16, 16], data: new Float32Array(256) });
  tensors.set('lm_head.weight', { shape: [300, 8], data: values.get('wte.weight') ?? new Float32Array(2400) });
  writeFileSync(path.join(dir, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
  const tokenizer = trainByteLevelBpe(['hello world hello there'], { vocabSize: 270 });
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.toTokenizerJson()));
  return values;
}

test('the HF loader reads a GPT-2-shaped model with or without the transformer. prefix', () => {
  for (const prefix of ['', 'transformer.']) {
    const dir = path.join(tmp, `gpt2-${prefix || 'bare'}`);
    const values = writeHfGpt2(dir, { prefix });
    const model = loadBaseModel(dir);
    assert.deepEqual(model.config, config);
    assert.equal(model.weights.size, baseWeightShapes(config).length);
    assert.deepEqual(model.weights.get('h.1.attn.c_attn.weight'), values.get('h.1.attn.c_attn.weight'));
    assert.equal(model.weights.get('h.1.mlp.c_fc.weight')!.length, 8 * 32);
    assert.equal(model.tokenizer.decode(model.tokenizer.encode('hello world')), 'hello world');
    assert.match(model.sha256, /^[0-9a-f]{64}$/);
  }
});

test('a base model whose shapes do not fit config.json fails naming the tensor and both shapes', () => {
  const wrong = path.join(tmp, 'gpt2-wrong');
  writeHfGpt2(wrong, { prefix: 'transformer.', wrongShape: 'h.1.attn.c_proj.weight' });
  assert.throws(() => loadBaseModel(wrong), /tensor "transformer\.h\.1\.attn\.c_proj\.weight" has shape \[9,8\], but config\.json implies \[8,8\]/);
  const missing = path.join(tmp, 'gpt2-missing');
  writeHfGpt2(missing, { prefix: '', dropTensor: 'ln_f.bias' });
  assert.throws(() => loadBaseModel(missing), /lacks 1 tensor\(s\): ln_f\.bias/);
  assert.throws(() => loadBaseModel(path.join(tmp, 'nowhere')), /has no config\.json; expected a Hugging Face GPT-2 directory/);
});
