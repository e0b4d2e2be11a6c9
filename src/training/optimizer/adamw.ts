// AdamW exactly as torch.optim.AdamW (non-amsgrad, non-fused) updates one parameter:
//   p  <- p - lr * weight_decay * p                     (decoupled weight decay)
//   m  <- beta1 * m + (1 - beta1) * g
//   v  <- beta2 * v + (1 - beta2) * g^2
//   p  <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State is float32 like PyTorch's; arithmetic is done in float64 then rounded on store.

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const PYTORCH_ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export interface AdamWMoments {
  m: Float32Array;
  v: Float32Array;
}

export class AdamW {
  /** Number of updates applied so far (PyTorch's per-parameter `step`). */
  step = 0;
  readonly moments = new Map<string, AdamWMoments>();

  constructor(readonly options: AdamWOptions) {}

  /** Applies one update with learning rate `lr` to every parameter that has a gradient. */
  update(params: Map<string, Float32Array>, grads: Map<string, Float32Array | Float64Array>, lr: number): void {
    this.step += 1;
    const { beta1, beta2, eps, weightDecay } = this.options;
    const biasCorrection1 = 1 - beta1 ** this.step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    const stepSize = lr / biasCorrection1;
    const decay = 1 - lr * weightDecay;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      if (g.length !== p.length) throw new Error(`AdamW: gradient "${name}" has ${g.length} values, parameter has ${p.length}`);
      let state = this.moments.get(name);
      if (!state) {
        state = { m: new Float32Array(p.length), v: new Float32Array(p.length) };
        this.moments.set(name, state);
      }
      const { m, v } = state;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
        const decayed = Math.fround(p[i] * decay);
        p[i] = decayed - (stepSize * mi) / (Math.sqrt(vi) / biasCorrection2Sqrt + eps);
      }
    }
  }
}
