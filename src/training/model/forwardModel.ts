// Forward-only GPT-2 (+ LoRA, no dropout) for evaluation loss and generation logits.
import type * as ort from 'onnxruntime-node';
import type { TrainStepOptions } from './trainStep.ts';
import { floatFeeds, tokenTensor } from './graphFeeds.ts';
import { buildGpt2Graph, IGNORE_INDEX, type Gpt2Graph } from './gpt2Graph.ts';
import { createSession, type ExecutionProvider } from './ortSession.ts';

export type ForwardModelOptions = Omit<TrainStepOptions, 'trainable' | 'dtype'>;

/**
 * Two sessions built lazily, one per output: the loss graph never materializes logits for
 * the caller and the logits graph skips the loss. Inputs are fixed at (batchSize, seqLen);
 * attention is causal, so a shorter prompt can be right-padded and read at its last position.
 */
export class ForwardModel {
  readonly executionProvider: ExecutionProvider;
  private readonly o: ForwardModelOptions;
  private readonly sessions = new Map<'loss' | 'logits', Promise<{ session: ort.InferenceSession; graph: Gpt2Graph }>>();

  private constructor(o: ForwardModelOptions, executionProvider: ExecutionProvider) {
    this.o = o;
    this.executionProvider = executionProvider;
  }

  static async create(o: ForwardModelOptions): Promise<ForwardModel> {
    const model = new ForwardModel(o, o.executionProvider ?? 'cpu');
    await model.session('loss'); // fail early on bad options or a missing provider
    return model;
  }

  private session(outputs: 'loss' | 'logits'): Promise<{ session: ort.InferenceSession; graph: Gpt2Graph }> {
    let pending = this.sessions.get(outputs);
    if (!pending) {
      pending = (async () => {
        const graph = buildGpt2Graph({
          config: this.o.config, lora: this.o.lora, batchSize: this.o.batchSize, seqLen: this.o.seqLen,
          floatType: 'float32', trainable: 'lora', weights: this.o.weights, outputs,
        });
        const { session } = await createSession(graph.onnx, graph.name, this.o);
        return { session, graph };
      })();
      this.sessions.set(outputs, pending);
    }
    return pending;
  }

  private feeds(graph: Gpt2Graph, inputIds: Int32Array, lora: Map<string, Float32Array>): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = { input_ids: tokenTensor('inputIds', inputIds, this.o.batchSize, this.o.seqLen, this.o.config.vocabSize) };
    floatFeeds(feeds, graph.loraInputs, lora, 'float32', 'LoRA tensor');
    return feeds;
  }

  /** Mean next-token cross-entropy over targets other than -100. */
  async loss(i: { inputIds: Int32Array; targets: Int32Array; lora: Map<string, Float32Array> }): Promise<number> {
    const { session, graph } = await this.session('loss');
    const feeds = this.feeds(graph, i.inputIds, i.lora);
    feeds.targets = tokenTensor('targets', i.targets, this.o.batchSize, this.o.seqLen, this.o.config.vocabSize, IGNORE_INDEX);
    const out = await session.run(feeds);
    return Number((out.loss.data as Float32Array)[0]);
  }

  /** Logits (B, T, V), row-major. */
  async logits(i: { inputIds: Int32Array; lora: Map<string, Float32Array> }): Promise<Float32Array> {
    const { session, graph } = await this.session('logits');
    const out = await session.run(this.feeds(graph, i.inputIds, i.lora));
    return out.logits.data as Float32Array;
  }

  async release(): Promise<void> {
    for (const pending of this.sessions.values()) await (await pending).session.release();
    this.sessions.clear();
  }
}
