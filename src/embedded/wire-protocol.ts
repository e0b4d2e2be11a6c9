// MongoDB wire protocol framing: the messages the driver sends (OP_MSG, and OP_QUERY for the
// legacy `isMaster` handshake) and the replies it expects (OP_MSG, OP_REPLY).
// Reference: https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
import { BSON, Binary, type Document } from 'bson';
import { crc32c } from './crc32c.ts';

export const OpCode = { REPLY: 1, QUERY: 2004, MSG: 2013, COMPRESSED: 2012 } as const;

const HEADER_BYTES = 16;
export const MAX_MESSAGE_BYTES = 48_000_000;
export const MAX_BSON_OBJECT_BYTES = 16 * 1024 * 1024;

const MsgFlag = { checksumPresent: 1 << 0, moreToCome: 1 << 1, exhaustAllowed: 1 << 16 } as const;
const KNOWN_MSG_FLAGS = MsgFlag.checksumPresent | MsgFlag.moreToCome | MsgFlag.exhaustAllowed;

/** A message the server could not make sense of: the connection that sent it is closed. */
export class MalformedMessageError extends Error {}

/** One command as received: the body document with any document-sequence sections merged in. */
export interface IncomingCommand {
  requestId: number;
  opCode: typeof OpCode.MSG | typeof OpCode.QUERY;
  body: Document;
  /** Raw BSON of each document in a document sequence, by identifier ("documents", "updates"...), aligned with body[identifier]. */
  rawSequences: Map<string, Uint8Array[]>;
  /** OP_MSG moreToCome: the client wants no reply (unacknowledged write). */
  noReply: boolean;
  /** OP_QUERY carries the database in its collection name (`admin.$cmd`). */
  legacyDatabase?: string;
}

const deserializeOptions = { validation: { utf8: false } } as const;

/** The declared length of a message, if it is one this server accepts. */
export function checkMessageLength(length: number): number {
  if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES) {
    throw new MalformedMessageError(`message length ${length} is outside ${HEADER_BYTES}..${MAX_MESSAGE_BYTES} bytes`);
  }
  return length;
}

export function parseMessage(message: Buffer): IncomingCommand {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OpCode.MSG) return parseOpMsg(message, requestId);
  if (opCode === OpCode.QUERY) return parseOpQuery(message, requestId);
  throw new MalformedMessageError(`opCode ${opCode} is not supported; this engine speaks OP_MSG (2013) and OP_QUERY (2004)`);
}

function readBsonDocument(message: Buffer, offset: number, end: number): [Document, number] {
  if (offset + 5 > end) throw new MalformedMessageError(`BSON document at byte ${offset} runs past the section end ${end}`);
  const size = message.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new MalformedMessageError(`BSON document size ${size} at byte ${offset} does not fit the message`);
  try {
    return [BSON.deserialize(message.subarray(offset, offset + size), deserializeOptions), offset + size];
  } catch (err) {
    throw new MalformedMessageError(`invalid BSON at byte ${offset}: ${(err as Error).message}`);
  }
}

function readCString(message: Buffer, offset: number, end: number): [string, number] {
  const zero = message.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new MalformedMessageError(`unterminated string at byte ${offset}`);
  return [message.toString('utf8', offset, zero), zero + 1];
}

function parseOpMsg(message: Buffer, requestId: number): IncomingCommand {
  const flags = message.readUInt32LE(HEADER_BYTES);
  if ((flags & 0xffff) & ~KNOWN_MSG_FLAGS) {
    throw new MalformedMessageError(`OP_MSG flagBits 0x${flags.toString(16)} set a required bit this server does not know`);
  }
  let end = message.length;
  if (flags & MsgFlag.checksumPresent) {
    end -= 4;
    const expected = message.readUInt32LE(end);
    const actual = crc32c(message, 0, end);
    if (expected !== actual) throw new MalformedMessageError(`OP_MSG checksum 0x${expected.toString(16)} does not match the content (0x${actual.toString(16)})`);
  }
  let body: Document | undefined;
  const sequences = new Map<string, Document[]>();
  const rawSequences = new Map<string, Uint8Array[]>();
  let offset = HEADER_BYTES + 4;
  while (offset < end) {
    const kind = message[offset++];
    if (kind === 0) {
      if (body) throw new MalformedMessageError('OP_MSG has more than one body section');
      [body, offset] = readBsonDocument(message, offset, end);
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new MalformedMessageError(`document sequence size ${size} does not fit the message`);
      let identifier: string;
      [identifier, offset] = readCString(message, offset + 4, sectionEnd);
      const docs: Document[] = [];
      const raws: Uint8Array[] = [];
      while (offset < sectionEnd) {
        const start = offset;
        let doc: Document;
        [doc, offset] = readBsonDocument(message, offset, sectionEnd);
        docs.push(doc);
        raws.push(message.subarray(start, offset));
      }
      sequences.set(identifier, docs);
      rawSequences.set(identifier, raws);
    } else {
      throw new MalformedMessageError(`OP_MSG section kind ${kind} is unknown (0 = body, 1 = document sequence)`);
    }
  }
  if (!body) throw new MalformedMessageError('OP_MSG has no body section');
  for (const [identifier, docs] of sequences) {
    if (identifier in body) throw new MalformedMessageError(`OP_MSG field "${identifier}" appears both in the body and as a document sequence`);
    body[identifier] = docs;
  }
  return { requestId, opCode: OpCode.MSG, body, rawSequences, noReply: (flags & MsgFlag.moreToCome) !== 0 };
}

function parseOpQuery(message: Buffer, requestId: number): IncomingCommand {
  const end = message.length;
  const [collectionName, afterName] = readCString(message, HEADER_BYTES + 4, end);
  const [query] = readBsonDocument(message, afterName + 8, end);
  const dot = collectionName.indexOf('.');
  if (dot < 0 || collectionName.slice(dot + 1) !== '$cmd') {
    throw new MalformedMessageError(`OP_QUERY on "${collectionName}": only commands (<db>.$cmd) are served over OP_QUERY`);
  }
  // Legacy commands may wrap the command as { $query: {...}, $readPreference: ... }.
  const body = query.$query && typeof query.$query === 'object' ? (query.$query as Document) : query;
  return { requestId, opCode: OpCode.QUERY, body, rawSequences: new Map(), noReply: false, legacyDatabase: collectionName.slice(0, dot) };
}

/**
 * Give Binary values their own bytes: the bson package deserializes them as views of the message
 * buffer, which must not be stored when that buffer is reused for the next message.
 */
export function detachFromMessageBuffer(container: Document | unknown[]): void {
  // Only Binary values are rewritten: a store per field would cost more than the walk.
  const values = container as Record<string, unknown>;
  for (const key in values) {
    const value = values[key];
    if (value === null || typeof value !== 'object') continue;
    if (value instanceof Binary) values[key] = new Binary(Buffer.from(value.buffer), value.sub_type);
    else if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) detachFromMessageBuffer(value as Document);
  }
}

let nextResponseId = 1;

function header(length: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(nextResponseId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** An OP_MSG reply with one body section. `body` may be pre-serialized BSON. */
export function encodeOpMsgReply(responseTo: number, body: Uint8Array): Buffer[] {
  const flagsAndKind = Buffer.alloc(5); // flagBits 0, section kind 0
  return [header(HEADER_BYTES + 5 + body.length, responseTo, OpCode.MSG), flagsAndKind, Buffer.from(body.buffer, body.byteOffset, body.byteLength)];
}

/** An OP_REPLY answering a legacy OP_QUERY command: one document, no cursor. */
export function encodeOpReply(responseTo: number, body: Uint8Array): Buffer[] {
  const fields = Buffer.alloc(20); // responseFlags 0, cursorID 0, startingFrom 0
  fields.writeInt32LE(1, 16); // numberReturned
  return [header(HEADER_BYTES + 20 + body.length, responseTo, OpCode.REPLY), fields, Buffer.from(body.buffer, body.byteOffset, body.byteLength)];
}
