// Global-norm clipping as torch.nn.utils.clip_grad_norm_: one L2 norm over every
// gradient; when it exceeds maxNorm, all gradients are scaled by maxNorm / (norm + 1e-6).

/** The global L2 norm of all gradients, accumulated in float64. */
export function globalGradNorm(grads: Iterable<Float32Array | Float64Array>): number {
  let sumSquares = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sumSquares += g[i] * g[i];
  return Math.sqrt(sumSquares);
}

/** Clips in place; returns the norm before clipping (what PyTorch returns and trainers log). */
export function clipGradNorm(grads: Iterable<Float32Array | Float64Array>, maxNorm: number): number {
  const list = [...grads];
  const norm = globalGradNorm(list);
  if (maxNorm > 0) {
    const coefficient = maxNorm / (norm + 1e-6);
    if (coefficient < 1) for (const g of list) for (let i = 0; i < g.length; i++) g[i] *= coefficient;
  }
  return norm;
}
