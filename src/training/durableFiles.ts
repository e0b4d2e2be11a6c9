// Files that survive a crash: written to a temporary name, fsynced, renamed into place,
// and the directory fsynced so the rename itself is on disk. Plus the sha256 references
// (FileRef) that events and the registry use to name exactly which bytes were written.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { FileRef } from '../store/documents.ts';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function fileRef(file: string): FileRef {
  const bytes = readFileSync(file);
  return { path: file, sha256: sha256Hex(bytes), bytes: bytes.byteLength };
}

export function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes and fsyncs a file (no rename; for files inside a directory renamed as a whole). */
export function writeFileSynced(file: string, data: Uint8Array | string): void {
  const fd = openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` atomically: readers see the old content or the new, never a torn file. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  writeFileSynced(temp, data);
  renameSync(temp, file);
  fsyncPath(path.dirname(file));
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
