// TensorBoard event files, written without TensorFlow. An events file is a TFRecord
// stream: each record is [u64 length][u32 masked crc32c(length)][data][u32 masked
// crc32c(data)], and each record's data is a serialized `tensorflow.Event` protobuf.
// We only need three messages, so the protobuf is encoded by hand:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78) ----

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking, so that CRCs of data containing CRCs stay well distributed. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// ---- TFRecord framing ----

export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Splits a TFRecord stream into records, verifying both CRCs of each. */
export function readRecords(bytes: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 12 > buf.length) throw new Error(`tfrecord: truncated header at byte ${pos}`);
    const length = Number(buf.readBigUInt64LE(pos));
    if (buf.readUInt32LE(pos + 8) !== maskedCrc32c(buf.subarray(pos, pos + 8))) throw new Error(`tfrecord: bad length CRC at byte ${pos}`);
    const data = buf.subarray(pos + 12, pos + 12 + length);
    if (data.length !== length || pos + 16 + length > buf.length) throw new Error(`tfrecord: truncated record at byte ${pos}`);
    if (buf.readUInt32LE(pos + 12 + length) !== maskedCrc32c(data)) throw new Error(`tfrecord: bad data CRC at byte ${pos}`);
    records.push(data);
    pos += 16 + length;
  }
  return records;
}

// ---- protobuf encoding of Event ----

class ProtoWriter {
  private parts: number[] = [];

  private varint(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.parts.push(Number(v));
  }
  private key(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }
  double(field: number, value: number): this {
    this.key(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.parts.push(...b);
    return this;
  }
  float(field: number, value: number): this {
    this.key(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(...b);
    return this;
  }
  int64(field: number, value: number): this {
    this.key(field, 0);
    this.varint(BigInt(value));
    return this;
  }
  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(value.length));
    this.parts.push(...value);
    return this;
  }
  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface ScalarEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}

export function encodeEvent(event: ScalarEvent): Uint8Array {
  const w = new ProtoWriter().double(1, event.wallTime).int64(2, event.step);
  if (event.fileVersion) w.string(3, event.fileVersion);
  const entries = Object.entries(event.scalars);
  if (entries.length > 0) {
    const summary = new ProtoWriter();
    for (const [tag, value] of entries) summary.bytes(1, new ProtoWriter().string(1, tag).float(2, value).finish());
    w.bytes(5, summary.finish());
  }
  return w.finish();
}

// ---- protobuf decoding (for tests and for reading our own files back) ----

interface ProtoField {
  field: number;
  wireType: number;
  value: bigint | Uint8Array;
}

function decodeProto(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error('protobuf: truncated varint');
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === 0) fields.push({ field, wireType, value: varint() });
    else if (wireType === 1) fields.push({ field, wireType, value: bytes.subarray(pos, (pos += 8)) });
    else if (wireType === 5) fields.push({ field, wireType, value: bytes.subarray(pos, (pos += 4)) });
    else if (wireType === 2) {
      const n = Number(varint());
      fields.push({ field, wireType, value: bytes.subarray(pos, (pos += n)) });
    } else throw new Error(`protobuf: unsupported wire type ${wireType}`);
  }
  return fields;
}

export function decodeEvent(bytes: Uint8Array): ScalarEvent {
  const event: ScalarEvent = { wallTime: 0, step: 0, scalars: {} };
  for (const f of decodeProto(bytes)) {
    if (f.field === 1) event.wallTime = Buffer.from(f.value as Uint8Array).readDoubleLE(0);
    else if (f.field === 2) event.step = Number(BigInt.asIntN(64, f.value as bigint));
    else if (f.field === 3) event.fileVersion = Buffer.from(f.value as Uint8Array).toString('utf8');
    else if (f.field === 5) {
      for (const v of decodeProto(f.value as Uint8Array)) {
        if (v.field !== 1) continue;
        let tag = '';
        let value = NaN;
        for (const g of decodeProto(v.value as Uint8Array)) {
          if (g.field === 1) tag = Buffer.from(g.value as Uint8Array).toString('utf8');
          else if (g.field === 2) value = Buffer.from(g.value as Uint8Array).readFloatLE(0);
        }
        event.scalars[tag] = value;
      }
    }
  }
  return event;
}

export function readEventFile(file: string): ScalarEvent[] {
  return readRecords(readFileSync(file)).map(decodeEvent);
}

// ---- the writer ----

/**
 * Appends scalar events to one events file. `open` either starts a new file (writing the
 * file_version event TensorBoard expects first) or reopens an existing one truncated to
 * `resumeAtBytes`, so a resumed run drops what it logged after its last checkpoint.
 */
export class TensorBoardWriter {
  private constructor(
    readonly file: string,
    private fd: number,
    private bytes: number,
  ) {}

  static create(logDir: string, now = Date.now()): TensorBoardWriter {
    const file = path.join(logDir, `events.out.tfevents.${Math.floor(now / 1000)}.${os.hostname()}`);
    const writer = new TensorBoardWriter(file, openSync(file, 'w'), 0);
    writer.append({ wallTime: now / 1000, step: 0, fileVersion: 'brain.Event:2', scalars: {} });
    return writer;
  }

  static reopen(file: string, resumeAtBytes: number): TensorBoardWriter {
    const fd = openSync(file, 'r+');
    ftruncateSync(fd, resumeAtBytes);
    return new TensorBoardWriter(file, fd, resumeAtBytes);
  }

  /** Bytes written so far: store it in a checkpoint to resume at exactly this record. */
  get size(): number {
    return this.bytes;
  }

  append(event: ScalarEvent): void {
    const record = frameRecord(encodeEvent(event));
    writeSync(this.fd, record, 0, record.length, this.bytes);
    this.bytes += record.length;
  }

  addScalars(step: number, scalars: Record<string, number>, wallTime = Date.now() / 1000): void {
    this.append({ wallTime, step, scalars });
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
