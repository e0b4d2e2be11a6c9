// The append-only journal that makes the in-memory engine durable.
//
// File layout: an 8-byte magic, then records. A record is
//   u32 payloadLength | u32 crc32(payload) | payload
// (CRC-32 as zlib computes it: native, so checksumming costs little beside the fsync)
// and a payload is one command's operations, each a BSON header document followed by the raw
// BSON documents it carries (`n` of them). One record per command: on replay a command is
// either wholly there or wholly absent.
//
// Group commit: a command's record joins a pending batch and its reply waits. One writer at a
// time takes the whole pending batch, writes it with one write() and one fdatasync(), then
// releases every command in it. While it waits on the disk the next batch accumulates, so
// throughput grows with concurrency while each acknowledgement still follows an fsync.
//
// Replay reads records in order and stops at the first one that is short or fails its
// checksum (a write torn by a crash): the file is cut there and the cut is logged.
//
// Compaction: when the file outgrows a threshold, a snapshot of the live state (the same
// record format) is written to a temporary file, fsynced and renamed over the journal.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BSON, type Document } from 'bson';
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from('LRJRNL01');
const RECORD_HEADER_BYTES = 8;
export const JOURNAL_FILE = 'journal.bin';
const COMPACTION_FILE = 'journal.compacting';

export type JournalOp =
  | { op: 'put'; db: string; coll: string; docs: Uint8Array[] }
  | { op: 'delete'; db: string; coll: string; ids: unknown[] }
  | { op: 'createCollection'; db: string; coll: string }
  | { op: 'dropCollection'; db: string; coll: string }
  | { op: 'dropDatabase'; db: string }
  | { op: 'createIndex'; db: string; coll: string; spec: Document }
  | { op: 'dropIndex'; db: string; coll: string; name: string };

/**
 * A record as the pieces to write: its 8-byte header, then the operation headers and the
 * documents' BSON as they are (no copy of the documents into one buffer).
 */
export function encodeRecord(ops: JournalOp[]): Uint8Array[] {
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  const parts: Uint8Array[] = [header];
  let payloadLength = 0;
  let checksum = 0;
  const add = (part: Uint8Array) => {
    parts.push(part);
    payloadLength += part.length;
    checksum = crc32(part, checksum);
  };
  for (const op of ops) {
    const { docs, ...fields } = op as JournalOp & { docs?: Uint8Array[] };
    add(BSON.serialize({ ...fields, n: docs?.length ?? 0 }));
    if (docs) for (const doc of docs) add(doc);
  }
  header.writeUInt32LE(payloadLength, 0);
  header.writeUInt32LE(checksum, 4);
  return parts;
}

function byteLength(parts: Uint8Array[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

function decodePayload(payload: Buffer): JournalOp[] {
  const ops: JournalOp[] = [];
  let offset = 0;
  const next = (): Buffer => {
    const size = payload.readInt32LE(offset);
    const bytes = payload.subarray(offset, offset + size);
    offset += size;
    return bytes;
  };
  while (offset < payload.length) {
    const { n, ...header } = BSON.deserialize(next());
    if (header.op === 'put') {
      const docs: Uint8Array[] = [];
      for (let i = 0; i < n; i++) docs.push(next());
      ops.push({ ...(header as { db: string; coll: string }), op: 'put', docs });
    } else {
      ops.push(header as JournalOp);
    }
  }
  return ops;
}

/** Write every piece, in order, with writev (at most IOV_MAX pieces a call), resuming after short writes. */
async function writeFully(handle: FileHandle, parts: Uint8Array[]): Promise<number> {
  let written = 0;
  let remaining = parts;
  while (remaining.length > 0) {
    const chunk = remaining.slice(0, 1024);
    const { bytesWritten } = await handle.writev(chunk);
    written += bytesWritten;
    if (bytesWritten === byteLength(chunk)) {
      remaining = remaining.slice(chunk.length);
      continue;
    }
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const part of remaining) {
      if (skip >= part.length) {
        skip -= part.length;
        continue;
      }
      rest.push(skip > 0 ? part.subarray(skip) : part);
      skip = 0;
    }
    remaining = rest;
  }
  return written;
}

export interface ReplayResult {
  records: number;
  /** Bytes cut from the end because a record there was torn or corrupt (0 when the file was clean). */
  truncatedBytes: number;
}

/** Apply every intact record of the journal in `dataDir`, cutting off a torn or corrupt tail. */
export function replayJournal(dataDir: string, apply: (op: JournalOp) => void, log: (line: string) => void): ReplayResult {
  const file = path.join(dataDir, JOURNAL_FILE);
  rmSync(path.join(dataDir, COMPACTION_FILE), { force: true }); // an unfinished compaction: the journal is still whole
  if (!existsSync(file)) {
    writeFileSync(file, MAGIC);
    return { records: 0, truncatedBytes: 0 };
  }
  const bytes = readFileSync(file);
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    if (bytes.length < MAGIC.length && MAGIC.subarray(0, bytes.length).equals(bytes)) {
      writeFileSync(file, MAGIC); // crashed while creating the file
      return { records: 0, truncatedBytes: 0 };
    }
    throw new Error(`${file} is not a journal of this engine (its first bytes are not "${MAGIC.toString()}"); refusing to touch it`);
  }
  let offset = MAGIC.length;
  let records = 0;
  let problem = '';
  while (offset < bytes.length) {
    if (offset + RECORD_HEADER_BYTES > bytes.length) {
      problem = 'a record header is cut short';
      break;
    }
    const length = bytes.readUInt32LE(offset);
    const checksum = bytes.readUInt32LE(offset + 4);
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > bytes.length) {
      problem = `a record of ${length} bytes is cut short`;
      break;
    }
    if (crc32(bytes.subarray(offset + RECORD_HEADER_BYTES, end)) !== checksum) {
      problem = 'a record fails its checksum';
      break;
    }
    let ops: JournalOp[];
    try {
      ops = decodePayload(bytes.subarray(offset + RECORD_HEADER_BYTES, end));
    } catch (err) {
      problem = `a record does not decode (${(err as Error).message})`;
      break;
    }
    for (const op of ops) apply(op);
    records++;
    offset = end;
  }
  const truncatedBytes = bytes.length - offset;
  if (truncatedBytes > 0) {
    log(`journal: ${problem} at byte ${offset} of ${file}; cutting ${truncatedBytes} bytes off the end (writes there were never acknowledged)`);
    const fd = openSync(file, 'r+');
    try {
      ftruncateSync(fd, offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return { records, truncatedBytes };
}

export interface JournalOptions {
  /** Compact once the file passes this size and twice its size after the last compaction. */
  compactAtBytes: number;
  /** The live state as journal operations, taken synchronously (a consistent cut). */
  snapshot: () => JournalOp[];
  log: (line: string) => void;
}

interface PendingCommit {
  record: Uint8Array[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Journal {
  private handle: FileHandle;
  private size: number;
  private sizeAfterCompaction: number;
  private pending: PendingCommit[] = [];
  private writing = false;
  private failure: Error | undefined;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};

  private constructor(
    private readonly dataDir: string,
    handle: FileHandle,
    size: number,
    private readonly options: JournalOptions,
  ) {
    this.handle = handle;
    this.size = size;
    this.sizeAfterCompaction = size;
  }

  static async open(dataDir: string, options: JournalOptions): Promise<Journal> {
    const handle = await open(path.join(dataDir, JOURNAL_FILE), 'a');
    const { size } = await handle.stat();
    return new Journal(dataDir, handle, size, options);
  }

  get bytes(): number {
    return this.size;
  }

  /** Resolves once the operations are on disk. */
  commit(ops: JournalOp[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const record = encodeRecord(ops);
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (!this.writing) void this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          const parts = batch.length === 1 ? batch[0].record : batch.flatMap((c) => c.record);
          this.size += await writeFully(this.handle, parts);
          await this.handle.datasync();
          for (const commit of batch) commit.resolve();
        } catch (err) {
          // The disk refused: nothing after this point can be acknowledged honestly.
          this.failure = new Error(`journal write failed, the engine stops acknowledging writes: ${(err as Error).message}`);
          for (const commit of [...batch, ...this.pending]) commit.reject(this.failure);
          this.pending = [];
          return;
        }
        if (this.size > this.options.compactAtBytes && this.size > 2 * this.sizeAfterCompaction) await this.compact();
      }
    } finally {
      this.writing = false;
      this.markIdle();
    }
  }

  /** Rewrite the journal as a snapshot of the live state. Runs inside the write loop, so no record is written meanwhile. */
  async compact(): Promise<void> {
    const ops = this.options.snapshot();
    const temporary = path.join(this.dataDir, COMPACTION_FILE);
    const target = path.join(this.dataDir, JOURNAL_FILE);
    const before = this.size;
    const out = await open(temporary, 'w');
    let written = MAGIC.length;
    try {
      await out.write(MAGIC);
      // Chunks of operations keep each record, and the memory it takes to build, bounded.
      for (let i = 0; i < ops.length; i += 16) {
        const record = encodeRecord(ops.slice(i, i + 16));
        written += await writeFully(out, record);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    await this.handle.close();
    renameSync(temporary, target);
    const dir = openSync(this.dataDir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.handle = await open(target, 'a');
    this.size = written;
    this.sizeAfterCompaction = written;
    this.options.log(`journal: compacted ${before} bytes to ${written} bytes`);
  }

  /** Wait for pending commits, then close the file. */
  async close(): Promise<void> {
    while (this.writing) await this.idle;
    await this.handle.close();
  }

  /** Compact now, between batches (used at start-up when the replayed journal is mostly dead records, and by tests). */
  async compactNow(): Promise<void> {
    while (this.writing) await this.idle;
    this.writing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    try {
      await this.compact();
    } finally {
      this.writing = false;
      this.markIdle();
    }
    if (this.pending.length > 0) void this.writeLoop();
  }
}
