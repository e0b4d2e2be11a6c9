// Text generation with a base model and optional LoRA adapter, on the forward-only graph.
// The graph has a fixed (1, n_positions) input: the context is right-padded, and since
// attention is causal the logits at the last real position are those of the unpadded text.
import { ForwardModel, type LoraSpec } from './model/index.ts';
import type { BaseModel } from './baseModel.ts';
import { Rng } from './rng.ts';

export interface GenerationOptions {
  prompt: string;
  maxNewTokens: number;
  /** 0 = greedy (argmax); otherwise softmax(logits / temperature) sampling. */
  temperature: number;
  /** Sample only among the k most likely tokens (0 = all). */
  topK: number;
  seed: number;
  threads?: number;
  executionProvider?: 'cpu' | 'cuda';
}

const NO_ADAPTER: LoraSpec = { rank: 1, alpha: 1, dropout: 0, targetModules: [] };

export function chooseToken(logits: Float32Array, temperature: number, topK: number, rng: Rng): number {
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let candidates = Array.from(logits.keys());
  if (topK > 0 && topK < candidates.length) candidates = candidates.sort((a, b) => logits[b] - logits[a]).slice(0, topK);
  const max = Math.max(...candidates.map((i) => logits[i]));
  const weights = candidates.map((i) => Math.exp((logits[i] - max) / temperature));
  let r = rng.nextFloat() * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < candidates.length; k++) {
    r -= weights[k];
    if (r < 0) return candidates[k];
  }
  return candidates[candidates.length - 1];
}

/** Yields the generated text piece by piece; stops at <|endoftext|> or maxNewTokens. */
export async function* generate(base: BaseModel, adapter: { spec: LoraSpec; tensors: Map<string, Float32Array> } | null, o: GenerationOptions): AsyncGenerator<string> {
  const T = base.config.nPositions;
  const V = base.config.vocabSize;
  const model = await ForwardModel.create({
    config: base.config, weights: base.weights, lora: adapter?.spec ?? NO_ADAPTER, batchSize: 1, seqLen: T, threads: o.threads, executionProvider: o.executionProvider,
  });
  const lora = adapter?.tensors ?? new Map<string, Float32Array>();
  const rng = Rng.fromSeed(o.seed);
  const eot = base.tokenizer.endOfTextId;
  const tokens = base.tokenizer.encode(o.prompt);
  if (tokens.length === 0 && eot !== undefined) tokens.push(eot);
  try {
    let emitted = '';
    const generated: number[] = [];
    for (let n = 0; n < o.maxNewTokens; n++) {
      const context = tokens.slice(-T);
      const inputIds = new Int32Array(T).fill(eot ?? 0);
      inputIds.set(context);
      const logits = await model.logits({ inputIds, lora });
      const last = logits.subarray((context.length - 1) * V, context.length * V);
      const next = chooseToken(last, o.temperature, o.topK, rng);
      if (next === eot) break;
      tokens.push(next);
      generated.push(next);
      // Decode the whole continuation so multi-byte characters split across tokens come out whole.
      const text = base.tokenizer.decode(generated);
      if (!text.endsWith('\uFFFD')) {
        yield text.slice(emitted.length);
        emitted = text;
      }
    }
  } finally {
    await model.release();
  }
}
