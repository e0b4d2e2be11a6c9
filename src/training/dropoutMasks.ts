// LoRA dropout masks drawn on the host from the run's RNG, so dropout is reproducible and
// a resumed run draws exactly the masks the uninterrupted run would have drawn.
import type { NamedShape } from './model/index.ts';
import type { Rng } from './rng.ts';

/** Inverted dropout: each value is 0 with probability p, else 1 / (1 - p). */
export function drawDropoutMasks(shapes: NamedShape[], p: number, rng: Rng): Map<string, Float32Array> {
  const masks = new Map<string, Float32Array>();
  const keep = 1 / (1 - p);
  for (const { name, shape } of shapes) {
    const mask = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < mask.length; i++) mask[i] = rng.nextFloat() < p ? 0 : keep;
    masks.set(name, mask);
  }
  return masks;
}
