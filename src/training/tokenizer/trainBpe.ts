// Learns a small byte-level BPE vocabulary from text, the way HF's BpeTrainer does:
// start from the 256 byte symbols, count adjacent symbol pairs inside pre-tokenized
// words (weighted by word frequency), merge the most frequent pair, repeat. Ties are
// broken by the pair's text so the result is deterministic.
import { BYTE_TO_CHAR, bytesToSymbols } from './byteToUnicode.ts';
import { ByteLevelBpe } from './byteLevelBpe.ts';
import { pretokenize } from './pretokenize.ts';

export interface BpeTrainingOptions {
  /** Total vocabulary size including the 256 byte symbols and the special tokens. */
  vocabSize: number;
  specialTokens?: string[];
  /** Pairs seen fewer times than this are never merged. */
  minFrequency?: number;
}

export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainingOptions): ByteLevelBpe {
  const specials = options.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = options.minFrequency ?? 2;
  const mergeBudget = options.vocabSize - 256 - specials.length;
  if (mergeBudget < 0) throw new RangeError(`vocabSize ${options.vocabSize} is smaller than 256 bytes + ${specials.length} special tokens`);

  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const word of pretokenize(text)) {
      const symbols = bytesToSymbols(Buffer.from(word, 'utf8'));
      wordCounts.set(symbols, (wordCounts.get(symbols) ?? 0) + 1);
    }
  }
  const words = [...wordCounts].map(([w, count]) => ({ parts: [...w], count }));

  const vocab = new Map<string, number>();
  [...BYTE_TO_CHAR].forEach((ch) => vocab.set(ch, vocab.size));
  const merges: [string, string][] = [];
  while (merges.length < mergeBudget) {
    const pairCounts = new Map<string, number>();
    for (const { parts, count } of words) {
      for (let i = 0; i < parts.length - 1; i++) {
        const key = `${parts[i]} ${parts[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === null || bestCount < minFrequency) break;
    const space = best.indexOf(' ', 1);
    const a = best.slice(0, space);
    const b = best.slice(space + 1);
    merges.push([a, b]);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
    for (const word of words) {
      const merged: string[] = [];
      const { parts } = word;
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]);
      }
      word.parts = merged;
    }
  }
  const added = specials.map((content, i) => ({ id: vocab.size + i, content, special: true }));
  return new ByteLevelBpe(vocab, merges, added);
}
