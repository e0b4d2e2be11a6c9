// A small builder for ONNX graphs: named nodes, initializers, inputs and outputs, then a
// serialized ModelProto for onnxruntime. Op helpers exist for the ops the GPT-2 graphs use,
// so the model code reads as math (`g.matmul(q, kT)`) rather than proto plumbing.
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

// onnx-proto is CommonJS: its namespace arrives as the default export under ESM.
const { onnx } = onnxProto as unknown as { onnx: typeof Onnx };

/** Initializers at least this large go to the external weights file. */
const EXTERNAL_DATA_MIN_BYTES = 64 * 1024;
/** onnxruntime memory-maps external data whose offset is a multiple of the allocation granularity. */
const EXTERNAL_DATA_ALIGNMENT = 64 * 1024;

export type FloatType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

export const DataType = onnx.TensorProto.DataType;
type DataType = Onnx.TensorProto.DataType;
export const OPSET = 17;

type AttributeValue = number | string | number[] | { float: number };

export class OnnxGraph {
  readonly floatType: FloatType;
  readonly elemType: DataType;
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly initializers: Onnx.ITensorProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();

  constructor(floatType: FloatType) {
    this.floatType = floatType;
    this.elemType = floatType === 'float64' ? DataType.DOUBLE : DataType.FLOAT;
  }

  /** A fresh tensor name: `base`, or `base_2`, `base_3`... when taken. */
  private fresh(base: string): string {
    let name = base;
    for (let k = 2; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  input(name: string, dims: number[], elemType: DataType = this.elemType): string {
    if (this.names.has(name)) throw new Error(`graph input name ${name} is already used`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(tensor: string, name: string, dims: number[], elemType: DataType = this.elemType): void {
    // Graph outputs need their own names: route through Identity when the tensor is named otherwise.
    if (this.names.has(name)) throw new Error(`internal: graph output name ${name} is already a tensor name`);
    this.names.add(name);
    const outName = name;
    this.nodes.push({ opType: 'Identity', input: [tensor], output: [outName], name: `${outName}/Identity` });
    this.outputs.push(valueInfo(outName, elemType, dims));
  }

  /** A float initializer (converted to the graph's float type). */
  floatInitializer(name: string, values: ArrayLike<number>, dims: number[]): string {
    // No copy when the values already have the graph's type: base weights are hundreds of MB.
    const data = this.floatType === 'float64'
      ? (values instanceof Float64Array ? values : Float64Array.from(values))
      : (values instanceof Float32Array ? values : Float32Array.from(values));
    return this.rawInitializer(name, data, dims, this.elemType);
  }

  int64Initializer(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.rawInitializer(name, BigInt64Array.from(values.map(BigInt)), dims, DataType.INT64);
  }

  int32Initializer(name: string, values: ArrayLike<number>, dims: number[]): string {
    return this.rawInitializer(name, Int32Array.from(values), dims, DataType.INT32);
  }

  private rawInitializer(name: string, data: ArrayBufferView, dims: number[], dataType: DataType): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const length = (data as unknown as { length: number }).length;
    if (length !== count) throw new Error(`initializer ${name}: ${length} values for shape [${dims}] (${count} expected)`);
    const tensorName = this.fresh(name);
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name: tensorName, dims, dataType, rawData });
    return tensorName;
  }

  /** A scalar constant of the graph's float type, shared by value. */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.floatInitializer(`const_${value}`, [value], []);
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 vector constant (shapes, axes, pads), shared by value. */
  ints(values: number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.int64Initializer(`ints_${values.join('_').replace(/-/g, 'm')}`, values);
      this.constants.set(key, name);
    }
    return name;
  }

  /** Adds a node; returns its output names (`outputs` names them, fresh if taken). */
  node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): string[] {
    const outNames = outputs.map((o) => (o === '' ? '' : this.fresh(o)));
    const attribute = Object.entries(attributes).map(([name, value]) => attributeProto(name, value));
    this.nodes.push({ opType, input: inputs, output: outNames, name: `${outNames.find((o) => o) ?? opType}/${opType}`, attribute });
    return outNames;
  }

  private one(opType: string, inputs: string[], out: string, attributes: Record<string, AttributeValue> = {}): string {
    return this.node(opType, inputs, [out], attributes)[0];
  }

  // ---- op helpers (ONNX opset 17 semantics) ----
  add(a: string, b: string, out: string): string { return this.one('Add', [a, b], out); }
  sub(a: string, b: string, out: string): string { return this.one('Sub', [a, b], out); }
  mul(a: string, b: string, out: string): string { return this.one('Mul', [a, b], out); }
  div(a: string, b: string, out: string): string { return this.one('Div', [a, b], out); }
  tanh(x: string, out: string): string { return this.one('Tanh', [x], out); }
  exp(x: string, out: string): string { return this.one('Exp', [x], out); }
  neg(x: string, out: string): string { return this.one('Neg', [x], out); }
  matmul(a: string, b: string, out: string): string { return this.one('MatMul', [a, b], out); }
  /** Y = alpha * op(A) op(B) + beta * C (C broadcast), A and B 2-D. */
  gemm(a: string, b: string, out: string, o: { c?: string; transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): string {
    const attrs: Record<string, AttributeValue> = {};
    if (o.transA) attrs.transA = 1;
    if (o.transB) attrs.transB = 1;
    if (o.alpha !== undefined && o.alpha !== 1) attrs.alpha = { float: o.alpha };
    if (o.beta !== undefined && o.beta !== 1) attrs.beta = { float: o.beta };
    return this.one('Gemm', o.c ? [a, b, o.c] : [a, b], out, attrs);
  }
  reshape(x: string, shape: number[], out: string): string { return this.one('Reshape', [x, this.ints(shape)], out); }
  transpose(x: string, perm: number[], out: string): string { return this.one('Transpose', [x], out, { perm }); }
  softmax(x: string, axis: number, out: string): string { return this.one('Softmax', [x], out, { axis }); }
  logSoftmax(x: string, axis: number, out: string): string { return this.one('LogSoftmax', [x], out, { axis }); }
  reduceSum(x: string, axes: number[], keepdims: boolean, out: string): string {
    return this.one('ReduceSum', [x, this.ints(axes)], out, { keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: string, axes: number[], keepdims: boolean, out: string): string {
    return this.one('ReduceMean', [x], out, { axes, keepdims: keepdims ? 1 : 0 });
  }
  concat(xs: string[], axis: number, out: string): string { return this.one('Concat', xs, out, { axis }); }
  split(x: string, sizes: number[], axis: number, outs: string[]): string[] {
    return this.node('Split', [x, this.ints(sizes)], outs, { axis });
  }
  gather(data: string, indices: string, axis: number, out: string): string { return this.one('Gather', [data, indices], out, { axis }); }

  /** Names of every tensor a node produces, in graph order (for inspecting what a graph computes). */
  nodeOutputs(): string[] {
    return this.nodes.flatMap((n) => n.output ?? []).filter((o) => o !== '');
  }

  /** The serialized ModelProto (opset 17, IR 8), every initializer inside it. */
  toModelBytes(graphName: string): Uint8Array {
    return onnx.ModelProto.encode(this.modelProto(graphName, this.initializers)).finish();
  }

  /**
   * Writes `model.onnx` plus `weights.bin` holding the large initializers as ONNX external
   * data, at offsets aligned for memory mapping. Large models then skip a protobuf copy of
   * their weights on both sides, and onnxruntime maps the file instead of copying it.
   * Returns the model path.
   */
  writeModelFiles(dir: string, graphName: string): string {
    const weightsFile = 'weights.bin';
    const fd = openSync(join(dir, weightsFile), 'w');
    let offset = 0;
    try {
      const initializers = this.initializers.map((t) => {
        const raw = t.rawData!;
        if (raw.byteLength < EXTERNAL_DATA_MIN_BYTES) return t;
        offset = Math.ceil(offset / EXTERNAL_DATA_ALIGNMENT) * EXTERNAL_DATA_ALIGNMENT;
        writeSync(fd, raw, 0, raw.byteLength, offset);
        const external: Onnx.ITensorProto = {
          name: t.name, dims: t.dims, dataType: t.dataType, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: weightsFile },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(raw.byteLength) },
          ],
        };
        offset += raw.byteLength;
        return external;
      });
      const modelPath = join(dir, 'model.onnx');
      writeFileSync(modelPath, onnx.ModelProto.encode(this.modelProto(graphName, initializers)).finish());
      return modelPath;
    } finally {
      closeSync(fd);
    }
  }

  private modelProto(graphName: string, initializer: Onnx.ITensorProto[]): Onnx.IModelProto {
    return {
      irVersion: 8,
      producerName: 'lora-registry',
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: graphName, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    };
  }
}

function valueInfo(name: string, elemType: DataType, dims: number[]): Onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function attributeProto(name: string, value: AttributeValue): Onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; pass { float } for floats`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

