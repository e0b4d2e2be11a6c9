// Host arrays -> onnxruntime tensors for the GPT-2 graphs, with errors that name the tensor.
import * as ort from 'onnxruntime-node';
import type { NamedShape } from './lora.ts';
import type { FloatArray, FloatType } from './onnxGraph.ts';

/** Token ids (or targets, where `ignoreIndex` is also allowed) as a (B, T) int32 tensor; ids must be < vocabSize. */
export function tokenTensor(name: string, values: Int32Array, batchSize: number, seqLen: number, vocabSize: number, ignoreIndex?: number): ort.Tensor {
  if (!(values instanceof Int32Array)) throw new Error(`${name} must be an Int32Array`);
  if (values.length !== batchSize * seqLen) {
    throw new Error(`${name} has ${values.length} values; batchSize ${batchSize} x seqLen ${seqLen} needs ${batchSize * seqLen}`);
  }
  for (let i = 0; i < values.length; i++) {
    const id = values[i];
    if ((id < 0 || id >= vocabSize) && id !== ignoreIndex) {
      const allowed = `0..${vocabSize - 1}${ignoreIndex === undefined ? '' : ` or ${ignoreIndex}`}`;
      throw new Error(`${name}[${i}] is ${id}; the model's vocabulary allows ${allowed}`);
    }
  }
  return new ort.Tensor('int32', values, [batchSize, seqLen]);
}

/** One float tensor per shape, taken from `values` (converted to the graph's float type when needed). */
export function floatFeeds(feeds: Record<string, ort.Tensor>, shapes: NamedShape[], values: Map<string, FloatArray> | undefined, floatType: FloatType, what: string): void {
  for (const { name, shape } of shapes) {
    const data = values?.get(name);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (!data) throw new Error(`${what} ${name} is missing (expected shape [${shape.join(', ')}])`);
    if (data.length !== expected) throw new Error(`${what} ${name} has ${data.length} values; shape [${shape.join(', ')}] needs ${expected}`);
    const typed = floatType === 'float64'
      ? (data instanceof Float64Array ? data : Float64Array.from(data))
      : (data instanceof Float32Array ? data : Float32Array.from(data));
    feeds[name] = new ort.Tensor(floatType, typed, shape);
  }
}

/** Tokens that count in the loss: targets other than the ignore index. */
export function countTargets(targets: Int32Array, ignoreIndex: number): number {
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== ignoreIndex) n++;
  return n;
}
