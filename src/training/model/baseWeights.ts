// GPT-2 base weights: HF names without the `transformer.` prefix, Conv1D orientation (in, out).
import type { GPT2Config } from './config.ts';
import type { NamedShape } from './lora.ts';

/** Base weights keyed by HF GPT-2 names WITHOUT 'transformer.'; LM head tied to `wte.weight`. */
export type BaseWeights = Map<string, Float32Array>;

/** Every base tensor with its shape, in HF order. */
export function baseWeightShapes(config: GPT2Config): NamedShape[] {
  const { vocabSize: V, nPositions: P, nEmbd: C, nLayer } = config;
  const shapes: NamedShape[] = [
    { name: 'wte.weight', shape: [V, C] },
    { name: 'wpe.weight', shape: [P, C] },
  ];
  for (let i = 0; i < nLayer; i++) {
    const h = `h.${i}`;
    shapes.push(
      { name: `${h}.ln_1.weight`, shape: [C] },
      { name: `${h}.ln_1.bias`, shape: [C] },
      { name: `${h}.attn.c_attn.weight`, shape: [C, 3 * C] },
      { name: `${h}.attn.c_attn.bias`, shape: [3 * C] },
      { name: `${h}.attn.c_proj.weight`, shape: [C, C] },
      { name: `${h}.attn.c_proj.bias`, shape: [C] },
      { name: `${h}.ln_2.weight`, shape: [C] },
      { name: `${h}.ln_2.bias`, shape: [C] },
      { name: `${h}.mlp.c_fc.weight`, shape: [C, 4 * C] },
      { name: `${h}.mlp.c_fc.bias`, shape: [4 * C] },
      { name: `${h}.mlp.c_proj.weight`, shape: [4 * C, C] },
      { name: `${h}.mlp.c_proj.bias`, shape: [C] },
    );
  }
  shapes.push({ name: 'ln_f.weight', shape: [C] }, { name: 'ln_f.bias', shape: [C] });
  return shapes;
}

/** Throws naming the first missing or wrongly sized tensor. */
export function checkBaseWeights(config: GPT2Config, weights: Map<string, ArrayLike<number>>, what = 'base weight'): void {
  for (const { name, shape } of baseWeightShapes(config)) {
    const values = weights.get(name);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (!values) throw new Error(`${what} ${name} is missing (expected shape [${shape.join(', ')}])`);
    if (values.length !== expected) {
      throw new Error(`${what} ${name} has ${values.length} values; shape [${shape.join(', ')}] needs ${expected}`);
    }
  }
}
