// Search tokens: the words of an experiment's text, found with Intl.Segmenter so that
// Chinese and Japanese (written without spaces) split into dictionary words just as English
// splits on spaces. The same function tokenizes the stored documents and the user's query,
// so "古风人物" (-> 古风, 人物) finds a run whose notes say "古风".
//
// The tokens live in the indexed array field `searchTokens`; matching is then an `$in`
// over a multikey index, which MongoDB and the embedded engine evaluate the same way.
import type { ExperimentDoc } from '../store/documents.ts';

/** One segmenter for every language: ICU's word-break rules pick the dictionary per script. */
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** Longest token kept; longer "words" (hashes, base64) are cut so the index stays small. */
const MAX_TOKEN_LENGTH = 48;
/** Cap per document so a run with huge notes cannot bloat the index entry. */
export const MAX_TOKENS_PER_EXPERIMENT = 600;
/** Cap per query: more words than this add nothing to ranking and cost an `$in` each. */
export const MAX_QUERY_TOKENS = 24;

/** English function words that would match nearly every run. */
const ENGLISH_STOPWORDS = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'for', 'from', 'in', 'is', 'it', 'of', 'on',
  'or', 'the', 'to', 'with',
]);

/** Chinese particles as common as English stop words. */
const CHINESE_STOPWORDS = new Set(['的', '了', '是', '在', '和']);

const HAN = /^\p{Script=Han}$/u;
const ONLY_HIRAGANA = /^\p{Script=Hiragana}+$/u;

/**
 * The distinct search words of a text: NFKC-normalized, lower-cased, word-like segments only,
 * without English stop words or lone hiragana particles (の, は, を...).
 */
export function segmentSearchWords(text: string): string[] {
  // Underscores and path separators join words in file names and identifiers
  // ("anime_style/v2"); ICU keeps `_` inside a word, so split on them first.
  const normalized = text.normalize('NFKC').toLowerCase().replace(/[_/\\]+/g, ' ');
  const words = new Set<string>();
  for (const segment of wordSegmenter.segment(normalized)) {
    if (!segment.isWordLike) continue;
    const word = segment.segment.slice(0, MAX_TOKEN_LENGTH);
    if (ENGLISH_STOPWORDS.has(word) || CHINESE_STOPWORDS.has(word)) continue;
    if (word.length === 1 && ONLY_HIRAGANA.test(word)) continue;
    words.add(word);
  }
  return [...words];
}

/**
 * Character bigrams of a long Han word. The dictionary may keep a compound whole in one text
 * ("人物画") and split it in another ("人物"); indexing the bigrams of stored compounds lets
 * the shorter query word still match. Only stored documents get bigrams, never queries, so a
 * query word is never weakened into fragments.
 */
export function cjkBigrams(word: string): string[] {
  const chars = [...word];
  // Katakana compounds are loanwords spelled by sound; their bigrams mean nothing.
  if (chars.length < 3 || !chars.every((ch) => HAN.test(ch))) return [];
  const bigrams: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) bigrams.push(chars[i]! + chars[i + 1]!);
  return bigrams;
}

/** The text fields search looks at: name, tags, notes, dataset path and sample prompts. */
export type SearchableExperiment = Pick<ExperimentDoc, 'name'> &
  Partial<Pick<ExperimentDoc, 'tags' | 'notes' | 'dataset' | 'samplePrompts' | 'config'>>;

/**
 * The `searchTokens` value for an experiment. Call it whenever name, tags, notes, dataset or
 * samplePrompts are written (create and update paths).
 */
export function experimentSearchTokens(doc: SearchableExperiment): string[] {
  const texts: string[] = [doc.name ?? ''];
  for (const tag of doc.tags ?? []) texts.push(tag);
  if (doc.notes) texts.push(doc.notes);
  // A launched run gets its dataset record only when training starts, after create computed
  // its tokens; the config's train_data_dir names the same directory.
  const datasetPath = doc.dataset?.path ?? doc.config?.train_data_dir;
  if (datasetPath) texts.push(datasetPath);
  for (const prompt of doc.samplePrompts ?? []) texts.push(prompt);

  const tokens = new Set<string>();
  for (const text of texts) {
    for (const word of segmentSearchWords(text)) {
      tokens.add(word);
      for (const bigram of cjkBigrams(word)) tokens.add(bigram);
    }
  }
  return [...tokens].slice(0, MAX_TOKENS_PER_EXPERIMENT);
}

/** The words of a user's search text, at most MAX_QUERY_TOKENS of them. */
export function searchQueryTokens(text: string): string[] {
  return segmentSearchWords(text).slice(0, MAX_QUERY_TOKENS);
}
