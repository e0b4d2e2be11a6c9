// sha256 and size of the files an external trainer reports only by directory (the built-in
// trainer sends them with its events). Streams each file, so adapter-sized files are fine.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileRef } from '../store/documents.ts';

const MAX_FILES_PER_DIRECTORY = 1000;

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file under `dir` (recursively), sorted by path; [] when `dir` is missing. */
export async function describeDirectoryFiles(dir: string): Promise<FileRef[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort()
    .slice(0, MAX_FILES_PER_DIRECTORY);
  const refs: FileRef[] = [];
  for (const file of files) {
    const [sha256, info] = await Promise.all([sha256OfFile(file), stat(file)]);
    refs.push({ path: file, sha256, bytes: info.size });
  }
  return refs;
}
