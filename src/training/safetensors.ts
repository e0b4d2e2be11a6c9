// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian data. Hugging Face and PEFT store weights this way.
import { readFileSync } from 'node:fs';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

export interface Tensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Float tensors are converted to Float32Array (F64 kept as Float64Array); ints kept. */
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 };

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decodeTensor(name: string, dtype: SafetensorsDtype, shape: number[], bytes: Uint8Array): Tensor {
  const n = elementCount(shape);
  if (bytes.byteLength !== n * BYTES_PER_ELEMENT[dtype]) {
    throw new Error(`safetensors: tensor "${name}" has ${bytes.byteLength} bytes, expected ${n * BYTES_PER_ELEMENT[dtype]} for ${dtype}${JSON.stringify(shape)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return { dtype, shape, data: out };
    }
    case 'F64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return { dtype, shape, data: out };
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16ToFloat32(view.getUint16(i * 2, true));
      return { dtype, shape, data: out };
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        word.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      return { dtype, shape, data: out };
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return { dtype, shape, data: out };
    }
    case 'I64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getBigInt64(i * 8, true);
      return { dtype, shape, data: out };
    }
  }
}

export function parseSafetensors(buffer: Uint8Array, source = 'buffer'): SafetensorsFile {
  if (buffer.byteLength < 8) throw new Error(`safetensors: ${source} is ${buffer.byteLength} bytes, too short for a header`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > buffer.byteLength) {
    throw new Error(`safetensors: ${source} declares a ${headerLength}-byte header but holds ${buffer.byteLength} bytes`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buffer.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`safetensors: ${source} header is not JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES_PER_ELEMENT)) {
      throw new Error(`safetensors: tensor "${name}" in ${source} has dtype ${dtype}; supported: ${Object.keys(BYTES_PER_ELEMENT).join(', ')}`);
    }
    const [begin, end] = offsets;
    if (dataStart + end > buffer.byteLength || begin > end) {
      throw new Error(`safetensors: tensor "${name}" in ${source} has byte range [${begin}, ${end}) outside the file`);
    }
    tensors.set(name, decodeTensor(name, dtype, shape, buffer.subarray(dataStart + begin, dataStart + end)));
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  return parseSafetensors(readFileSync(file), file);
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Float64Array;
}

/**
 * Serializes tensors (F32 for Float32Array, F64 for Float64Array) in the given order,
 * the header padded with spaces to an 8-byte boundary as the reference writer does.
 */
export function serializeSafetensors(tensors: Map<string, TensorToWrite>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (elementCount(t.shape) !== t.data.length) {
      throw new Error(`safetensors: tensor "${name}" has ${t.data.length} values but shape ${JSON.stringify(t.shape)}`);
    }
    const dtype = t.data instanceof Float64Array ? 'F64' : 'F32';
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.byteLength + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.byteLength;
  for (const t of tensors.values()) {
    // Typed arrays are little-endian on every platform Node supports.
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, position);
    position += t.data.byteLength;
  }
  return out;
}

/** Float32 view of a float tensor, or a precise error naming it. */
export function floatTensor(file: SafetensorsFile, name: string, source: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) throw new Error(`${source}: tensor "${name}" is missing`);
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new Error(`${source}: tensor "${name}" has dtype ${t.dtype}; a float tensor is needed`);
}
