import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32c, decodeEvent, encodeEvent, frameRecord, maskedCrc32c, readEventFile, readRecords, TensorBoardWriter } from '../../src/training/tensorboard.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tb-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('crc32c matches the published check values', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) B.4 test vectors.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('masked crc is TFRecord\'s rotate-and-add of the crc', () => {
  const crc = 0xe3069283;
  assert.equal(maskedCrc32c(Buffer.from('123456789')), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test('records are framed with length, masked CRCs and data, and corruption is detected', () => {
  const data = Buffer.from('hello');
  const record = frameRecord(data);
  assert.equal(record.length, 8 + 4 + 5 + 4);
  assert.equal(record.readBigUInt64LE(0), 5n);
  assert.deepEqual(readRecords(record).map((r) => Buffer.from(r).toString()), ['hello']);
  const corrupt = Buffer.from(record);
  corrupt[13] ^= 1;
  assert.throws(() => readRecords(corrupt), /bad data CRC/);
});

test('the Event protobuf is encoded as TensorBoard expects', () => {
  // Event{wall_time=1.5, step=3, summary{value{tag="a", simple_value=2}}} by hand:
  const expected = Buffer.concat([
    Buffer.from([0x09]), Buffer.from(new Float64Array([1.5]).buffer), // field 1, fixed64
    Buffer.from([0x10, 0x03]), // field 2, varint 3
    Buffer.from([0x2a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 0x61, 0x15]), Buffer.from(new Float32Array([2]).buffer),
  ]);
  assert.deepEqual(Buffer.from(encodeEvent({ wallTime: 1.5, step: 3, scalars: { a: 2 } })), expected);
  assert.deepEqual(decodeEvent(expected), { wallTime: 1.5, step: 3, scalars: { a: 2 } });
});

test('an events file written by the writer reads back, and reopening truncates to a size', () => {
  const writer = TensorBoardWriter.create(tmp, 1_700_000_000_000);
  assert.match(path.basename(writer.file), /^events\.out\.tfevents\.1700000000\./);
  writer.addScalars(1, { 'train/loss': 2.5, 'train/learning_rate': 1e-3 }, 10);
  const sizeAfterStep1 = writer.size;
  writer.addScalars(2, { 'train/loss': 2.25 }, 11);
  writer.close();
  const events = readEventFile(writer.file);
  assert.equal(events[0].fileVersion, 'brain.Event:2');
  assert.deepEqual(events.slice(1).map((e) => [e.step, e.scalars['train/loss']]), [[1, 2.5], [2, 2.25]]);
  assert.equal(events[1].scalars['train/learning_rate'], Math.fround(1e-3));
  assert.equal(readFileSync(writer.file).length, writer.size);

  const resumed = TensorBoardWriter.reopen(writer.file, sizeAfterStep1);
  resumed.addScalars(2, { 'train/loss': 2.0 }, 12);
  resumed.close();
  assert.deepEqual(readEventFile(writer.file).slice(1).map((e) => [e.step, e.scalars['train/loss']]), [[1, 2.5], [2, 2]]);
});
