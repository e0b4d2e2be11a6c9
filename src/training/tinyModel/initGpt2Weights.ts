// GPT-2's initialization for training a model from scratch (as HF GPT2PreTrainedModel
// and nanoGPT): weights ~ N(0, 0.02), residual projections ~ N(0, 0.02 / sqrt(2 n_layer)),
// biases 0, LayerNorm gain 1 and bias 0. Normals come from the seeded RNG (Box-Muller).
import { baseWeightShapes, type BaseWeights, type GPT2Config } from '../model/index.ts';
import type { Rng } from '../rng.ts';

function gaussian(rng: Rng): number {
  const u = 1 - rng.nextFloat(); // (0, 1]: log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
}

export function initGpt2Weights(config: GPT2Config, rng: Rng): BaseWeights {
  const weights: BaseWeights = new Map();
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayer);
  for (const { name, shape } of baseWeightShapes(config)) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/\.ln_\d\.weight$|^ln_f\.weight$/.test(name)) values.fill(1);
    else if (name.endsWith('.weight')) {
      const std = /c_proj\.weight$/.test(name) ? residualStd : 0.02;
      for (let i = 0; i < values.length; i++) values[i] = std * gaussian(rng);
    }
    weights.set(name, values);
  }
  return weights;
}
