// Cursor replies written straight into BSON from documents serialized one by one, so a batch
// is cut exactly at the reply size limit and no document is serialized twice.
import { BSON, Long, type Document } from 'bson';
import { MAX_BSON_OBJECT_BYTES } from './wire-protocol.ts';

/** Room left for the reply's own fields around the batch. */
const BATCH_BYTE_BUDGET = MAX_BSON_OBJECT_BYTES - 16 * 1024;

export type BatchField = 'firstBatch' | 'nextBatch';

const TRANSFORM_CHUNK = 1000;

/**
 * Serialize documents from `docs[start..]` until `maxDocs` or the byte budget is reached (at
 * least one). `transform` (a projection) is applied chunk by chunk, so a batch cut short by
 * the byte budget does not pay for the documents it leaves behind.
 */
export function serializeBatch(docs: readonly Document[], start: number, maxDocs: number, transform?: (docs: Document[]) => Document[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let bytes = 0;
  for (let chunkStart = start; chunkStart < docs.length && out.length < maxDocs; chunkStart += TRANSFORM_CHUNK) {
    const chunkEnd = Math.min(docs.length, chunkStart + TRANSFORM_CHUNK, start + maxDocs);
    const chunk = transform ? transform(docs.slice(chunkStart, chunkEnd)) : docs.slice(chunkStart, chunkEnd);
    for (const doc of chunk) {
      const raw = BSON.serialize(doc);
      if (out.length > 0 && bytes + raw.length > BATCH_BYTE_BUDGET) return out;
      out.push(raw);
      bytes += raw.length;
    }
  }
  return out;
}

function cstring(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

function int32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32LE(value, 0);
  return b;
}

function withLength(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length + 5), body, Buffer.from([0])]);
}

/** `{ cursor: { <batchField>: [...], id, ns }, ok: 1 }` as BSON. */
export function encodeCursorReply(ns: string, cursorId: number, batchField: BatchField, batch: Uint8Array[]): Buffer {
  const elements: Buffer[] = [];
  batch.forEach((raw, i) => elements.push(Buffer.from([0x03]), cstring(String(i)), Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)));
  const array = withLength(elements);
  const id = Buffer.allocUnsafe(8);
  id.writeBigInt64LE(Long.fromNumber(cursorId).toBigInt(), 0);
  const nsBytes = Buffer.from(ns, 'utf8');
  const cursor = withLength([
    Buffer.from([0x04]), cstring(batchField), array,
    Buffer.from([0x12]), cstring('id'), id,
    Buffer.from([0x02]), cstring('ns'), int32(nsBytes.length + 1), nsBytes, Buffer.from([0]),
  ]);
  const ok = Buffer.allocUnsafe(8);
  ok.writeDoubleLE(1, 0);
  return withLength([Buffer.from([0x03]), cstring('cursor'), cursor, Buffer.from([0x01]), cstring('ok'), ok]);
}
