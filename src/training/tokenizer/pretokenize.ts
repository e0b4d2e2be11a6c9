// GPT-2's pre-tokenizer: the text is split into words by this regex before BPE, so merges
// never cross a word boundary. Contractions, letters, digits and punctuation runs each
// keep one optional leading space; trailing whitespace stays separate.
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export function pretokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}
