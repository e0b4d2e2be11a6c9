// Byte-level BPE as GPT-2 and Hugging Face `tokenizers` do it, read from and written to
// HF's `tokenizer.json`: pre-tokenize with the GPT-2 regex, map each word's UTF-8 bytes
// through the byte-to-unicode table, then apply merges lowest rank first.
import { readFileSync } from 'node:fs';
import { bytesToSymbols, symbolsToBytes } from './byteToUnicode.ts';
import { pretokenize } from './pretokenize.ts';

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export class ByteLevelBpe {
  private readonly idToToken: string[] = [];
  private readonly mergeRanks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly specialPattern: RegExp | null;

  constructor(
    readonly vocab: Map<string, number>,
    readonly merges: [string, string][],
    readonly addedTokens: AddedToken[] = [],
  ) {
    for (const [token, id] of vocab) this.idToToken[id] = token;
    for (const t of addedTokens) this.idToToken[t.id] = t.content;
    merges.forEach(([a, b], rank) => this.mergeRanks.set(`${a} ${b}`, rank));
    const escaped = addedTokens.map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.specialPattern = escaped.length ? new RegExp(`(${escaped.join('|')})`) : null;
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  tokenId(token: string): number | undefined {
    return this.vocab.get(token) ?? this.addedTokens.find((t) => t.content === token)?.id;
  }

  /** `<|endoftext|>` in GPT-2 tokenizers: separates documents in packed training data. */
  get endOfTextId(): number | undefined {
    return this.tokenId('<|endoftext|>');
  }

  static fromTokenizerJson(json: unknown, source = 'tokenizer.json'): ByteLevelBpe {
    const root = json as { model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] }; added_tokens?: AddedToken[] };
    const model = root?.model;
    if (!model || (model.type !== undefined && model.type !== 'BPE') || typeof model.vocab !== 'object' || !Array.isArray(model.merges)) {
      throw new Error(`${source}: "model" must be a BPE model with "vocab" and "merges" (got type ${JSON.stringify(model?.type)})`);
    }
    // tokenizers < 0.20 write merges as "a b" strings, newer ones as ["a", "b"] pairs.
    const merges = model.merges.map((m, i): [string, string] => {
      if (Array.isArray(m) && m.length === 2) return [m[0], m[1]];
      if (typeof m === 'string') {
        const space = m.indexOf(' ', 1);
        if (space > 0) return [m.slice(0, space), m.slice(space + 1)];
      }
      throw new Error(`${source}: merges[${i}] = ${JSON.stringify(m)} is not a pair of tokens`);
    });
    const added = (root.added_tokens ?? []).map((t) => ({ id: t.id, content: t.content, special: t.special ?? true }));
    return new ByteLevelBpe(new Map(Object.entries(model.vocab)), merges, added);
  }

  static fromFile(file: string): ByteLevelBpe {
    return ByteLevelBpe.fromTokenizerJson(JSON.parse(readFileSync(file, 'utf8')), file);
  }

  /** A tokenizer.json that HF `tokenizers` (and transformers' GPT2TokenizerFast) loads. */
  toTokenizerJson(): Record<string, unknown> {
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((t) => ({ id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: t.special })),
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        vocab: Object.fromEntries([...this.vocab].sort((a, b) => a[1] - b[1])),
        merges: this.merges.map(([a, b]) => `${a} ${b}`),
      },
    };
  }

  /** BPE on one pre-tokenized word (already mapped to byte symbols). */
  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let parts = [...word];
    while (parts.length > 1) {
      let bestRank = Infinity;
      let bestIndex = -1;
      for (let i = 0; i < parts.length - 1; i++) {
        const rank = this.mergeRanks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const [a, b] = this.merges[bestRank];
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else merged.push(parts[i]);
      }
      parts = merged;
    }
    const ids = parts.map((p) => {
      const id = this.vocab.get(p);
      if (id === undefined) throw new Error(`tokenizer: symbol ${JSON.stringify(p)} is not in the vocabulary (is the byte alphabet complete?)`);
      return id;
    });
    if (this.cache.size < 100_000) this.cache.set(word, ids);
    return ids;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    const pieces = this.specialPattern ? text.split(this.specialPattern) : [text];
    pieces.forEach((piece, i) => {
      // split() with a capture group puts the matched special tokens at odd indices.
      if (i % 2 === 1) {
        ids.push(this.tokenId(piece)!);
        return;
      }
      for (const word of pretokenize(piece)) ids.push(...this.encodeWord(bytesToSymbols(Buffer.from(word, 'utf8'))));
    });
    return ids;
  }

  decode(ids: Iterable<number>): string {
    let symbols = '';
    let out = '';
    const flush = () => {
      out += Buffer.from(symbolsToBytes(symbols)).toString('utf8');
      symbols = '';
    };
    for (const id of ids) {
      const token = this.idToToken[id];
      if (token === undefined) throw new RangeError(`tokenizer: id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      if (this.addedTokens.some((t) => t.id === id)) {
        flush();
        out += token;
      } else symbols += token;
    }
    flush();
    return out;
  }
}
