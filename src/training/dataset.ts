// Training data: a directory of .txt files (one document each) and .jsonl files (one
// document per line, field "text"), tokenized, joined with <|endoftext|>, and packed into
// sequences of seq_len + 1 tokens (inputs and their next-token targets). Every k-th
// sequence is held out for evaluation. A sha256 manifest names exactly the files seen.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FileRef } from '../store/documents.ts';
import { sha256Hex } from './durableFiles.ts';
import { DataError } from './trainingError.ts';
import type { ByteLevelBpe } from './tokenizer/byteLevelBpe.ts';

const DATA_EXTENSIONS = ['.txt', '.jsonl'];

export interface DatasetManifest {
  dir: string;
  /** Paths relative to `dir`, sorted. */
  files: FileRef[];
  /** sha256 over the lines "<file sha256>  <relative path>\n" in path order. */
  sha256: string;
}

export interface PackedDataset {
  manifest: DatasetManifest;
  /** Tokens in the whole tokenized stream. */
  tokens: number;
  seqLen: number;
  /** Each of seqLen + 1 tokens: inputs are [0, seqLen), targets are [1, seqLen]. */
  train: Int32Array[];
  eval: Int32Array[];
}

function listDataFiles(dir: string): string[] {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw new DataError(`train_data_dir: ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new DataError(`train_data_dir: ${dir} is not a directory`);
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && DATA_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) found.push(full);
    }
  };
  walk(dir);
  if (found.length === 0) throw new DataError(`train_data_dir: ${dir} contains no ${DATA_EXTENSIONS.join(' or ')} files`);
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function documentsOf(file: string, content: string): string[] {
  if (file.toLowerCase().endsWith('.txt')) return content.length > 0 ? [content] : [];
  const docs: string[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new DataError(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    const text = (record as { text?: unknown })?.text;
    if (typeof text !== 'string') throw new DataError(`${file}:${i + 1}: expected an object with a string field "text"`);
    docs.push(text);
  });
  return docs;
}

/** Reads and hashes the data files; returns the manifest and the documents in file order. */
export function readDataDir(dir: string): { manifest: DatasetManifest; documents: string[] } {
  const files = listDataFiles(dir);
  const refs: FileRef[] = [];
  const documents: string[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    refs.push({ path: path.relative(dir, file).split(path.sep).join('/'), sha256: sha256Hex(bytes), bytes: bytes.byteLength });
    documents.push(...documentsOf(file, bytes.toString('utf8')));
  }
  if (documents.every((d) => d.trim() === '')) throw new DataError(`train_data_dir: ${dir} has ${files.length} file(s) but no text in them`);
  const overall = sha256Hex(refs.map((r) => `${r.sha256}  ${r.path}\n`).join(''));
  return { manifest: { dir, files: refs, sha256: overall }, documents };
}

/** Cuts a token stream into overlapping-by-one windows of seqLen + 1 (stride seqLen). */
export function packSequences(stream: Int32Array, seqLen: number): Int32Array[] {
  const sequences: Int32Array[] = [];
  for (let start = 0; start + seqLen + 1 <= stream.length; start += seqLen) sequences.push(stream.slice(start, start + seqLen + 1));
  return sequences;
}

/** Every round(1 / evalFraction)-th sequence goes to evaluation, spread over the data. */
export function splitHeldOut(sequences: Int32Array[], evalFraction: number): { train: Int32Array[]; eval: Int32Array[] } {
  const every = Math.max(2, Math.round(1 / evalFraction));
  const train: Int32Array[] = [];
  const evalSet: Int32Array[] = [];
  sequences.forEach((s, i) => ((i + 1) % every === 0 ? evalSet : train).push(s));
  return { train, eval: evalSet };
}

export interface DatasetOptions {
  dir: string;
  seqLen: number;
  evalFraction: number;
  tokenizer: ByteLevelBpe;
}

export function loadPackedDataset({ dir, seqLen, evalFraction, tokenizer }: DatasetOptions): PackedDataset {
  const { manifest, documents } = readDataDir(dir);
  const eot = tokenizer.endOfTextId;
  const ids: number[] = [];
  for (const doc of documents) {
    for (const id of tokenizer.encode(doc)) ids.push(id);
    if (eot !== undefined) ids.push(eot);
  }
  const stream = Int32Array.from(ids);
  const sequences = packSequences(stream, seqLen);
  const every = Math.max(2, Math.round(1 / evalFraction));
  if (sequences.length < every) {
    throw new DataError(
      `train_data_dir: ${dir} gives ${stream.length} tokens, which pack into ${sequences.length} sequence(s) of seq_len ${seqLen}; ` +
        `at least ${every} are needed (${every * seqLen + 1} tokens) for one held-out sequence with eval_fraction ${evalFraction}. Add text or lower seq_len.`,
    );
  }
  const { train, eval: evalSet } = splitHeldOut(sequences, evalFraction);
  return { manifest, tokens: stream.length, seqLen, train, eval: evalSet };
}

/** Flattens sequences into one [B, T] batch of inputs and next-token targets. */
export function makeBatch(sequences: Int32Array[], seqLen: number): { inputIds: Int32Array; targets: Int32Array } {
  const inputIds = new Int32Array(sequences.length * seqLen);
  const targets = new Int32Array(sequences.length * seqLen);
  sequences.forEach((s, b) => {
    inputIds.set(s.subarray(0, seqLen), b * seqLen);
    targets.set(s.subarray(1, seqLen + 1), b * seqLen);
  });
  return { inputIds, targets };
}
