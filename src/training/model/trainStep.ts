// One training step as an onnxruntime session: (tokens, targets, trainable tensors) -> (loss, gradients).
import type * as ort from 'onnxruntime-node';
import type { BaseWeights } from './baseWeights.ts';
import type { GPT2Config } from './config.ts';
import { countTargets, floatFeeds, tokenTensor } from './graphFeeds.ts';
import { buildGpt2Graph, IGNORE_INDEX, type Gpt2Graph } from './gpt2Graph.ts';
import type { LoraSpec } from './lora.ts';
import type { FloatArray, FloatType } from './onnxGraph.ts';
import { createSession, type ExecutionProvider } from './ortSession.ts';

export interface TrainStepOptions {
  config: GPT2Config;
  weights: BaseWeights;
  lora: LoraSpec;
  batchSize: number;
  seqLen: number;
  executionProvider?: ExecutionProvider;
  threads?: number;
  dtype?: FloatType;
  /** 'lora' (default): base weights frozen as initializers. 'full': base weights come in TrainStepInputs.base and get gradients too. */
  trainable?: 'lora' | 'full';
}

export interface TrainStepInputs {
  inputIds: Int32Array; // B*T
  targets: Int32Array; // B*T, -100 = ignored position
  lora: Map<string, FloatArray>;
  dropoutMasks?: Map<string, FloatArray>;
  base?: Map<string, FloatArray>;
}

export interface TrainStepResult {
  loss: number;
  grads: Map<string, FloatArray>;
  tokens: number;
}

export class TrainStep {
  readonly executionProvider: ExecutionProvider;
  private readonly session: ort.InferenceSession;
  private readonly graph: Gpt2Graph;
  private readonly o: TrainStepOptions;
  private readonly floatType: FloatType;

  private constructor(session: ort.InferenceSession, graph: Gpt2Graph, o: TrainStepOptions, executionProvider: ExecutionProvider) {
    this.session = session;
    this.graph = graph;
    this.o = o;
    this.floatType = o.dtype ?? 'float32';
    this.executionProvider = executionProvider;
  }

  static async create(o: TrainStepOptions): Promise<TrainStep> {
    const trainable = o.trainable ?? 'lora';
    if (trainable !== 'lora' && trainable !== 'full') throw new Error(`trainable is ${JSON.stringify(trainable)}; allowed: 'lora', 'full'`);
    const dtype = o.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`dtype is ${JSON.stringify(dtype)}; allowed: 'float32', 'float64'`);
    const graph = buildGpt2Graph({
      config: o.config, lora: o.lora, batchSize: o.batchSize, seqLen: o.seqLen, floatType: dtype, trainable,
      weights: trainable === 'lora' ? o.weights : undefined, outputs: 'train',
    });
    const { session, executionProvider } = await createSession(graph.onnx, graph.name, o);
    return new TrainStep(session, graph, o, executionProvider);
  }

  async run(i: TrainStepInputs): Promise<TrainStepResult> {
    const { batchSize, seqLen } = this.o;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: tokenTensor('inputIds', i.inputIds, batchSize, seqLen, this.o.config.vocabSize),
      targets: tokenTensor('targets', i.targets, batchSize, seqLen, this.o.config.vocabSize, IGNORE_INDEX),
    };
    floatFeeds(feeds, this.graph.loraInputs, i.lora, this.floatType, 'LoRA tensor');
    floatFeeds(feeds, this.graph.dropoutInputs, i.dropoutMasks, this.floatType, 'dropout mask');
    floatFeeds(feeds, this.graph.baseInputs, i.base, this.floatType, 'base weight');
    const out = await this.session.run(feeds);
    const grads = new Map<string, FloatArray>();
    for (const [name, output] of this.graph.gradOutputs) grads.set(name, out[output].data as FloatArray);
    return { loss: Number((out.loss.data as FloatArray)[0]), grads, tokens: countTargets(i.targets, IGNORE_INDEX) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
