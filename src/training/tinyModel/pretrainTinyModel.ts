// Makes the shipped tiny base model: a BPE tokenizer learned from both registers (so the
// style's words have tokens of their own, as a real tokenizer has for rare words), GPT-2
// weights initialized as GPT-2 does, then full-parameter training on the plain register
// only, through the same ONNX train-step graph the LoRA trainer uses (trainable: 'full').
// Seeded end to end.
import { packSequences, makeBatch, splitHeldOut } from '../dataset.ts';
import { ForwardModel, TrainStep, type BaseWeights, type GPT2Config, type LoraSpec } from '../model/index.ts';
import { AdamW } from '../optimizer/adamw.ts';
import { clipGradNorm } from '../optimizer/gradientClipping.ts';
import { learningRateAt } from '../optimizer/lrSchedule.ts';
import { Rng } from '../rng.ts';
import { trainByteLevelBpe } from '../tokenizer/trainBpe.ts';
import type { ByteLevelBpe } from '../tokenizer/byteLevelBpe.ts';
import { heldOutLoss } from '../heldOutLoss.ts';
import { pirateCorpus, plainCorpus } from './corpusGrammar.ts';
import { initGpt2Weights } from './initGpt2Weights.ts';

export interface TinyModelRecipe {
  seed: number;
  paragraphs: number;
  vocabSize: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  seqLen: number;
  batchSize: number;
  steps: number;
  learningRate: number;
  warmupSteps: number;
  threads?: number;
}

export const TINY_MODEL_RECIPE: TinyModelRecipe = {
  seed: 1234, paragraphs: 3000, vocabSize: 512, nEmbd: 64, nLayer: 2, nHead: 4, seqLen: 64,
  batchSize: 16, steps: 1500, learningRate: 3e-3, warmupSteps: 100,
};

export interface TinyModel {
  config: GPT2Config;
  hfConfig: Record<string, unknown>;
  weights: BaseWeights;
  tokenizer: ByteLevelBpe;
  evalLoss: number;
}

// No adapted modules: the graph then trains the base weights only.
const NO_LORA: LoraSpec = { rank: 1, alpha: 1, dropout: 0, targetModules: [] };

export async function pretrainTinyModel(recipe: TinyModelRecipe, progress: (line: string) => void): Promise<TinyModel> {
  const rng = Rng.fromSeed(recipe.seed);
  const corpus = plainCorpus(rng, recipe.paragraphs);
  // Pirate text from its own seed (not the style dataset's) is used for the vocabulary only.
  const tokenizerText = [...corpus, ...pirateCorpus(Rng.fromSeed(recipe.seed + 1), Math.round(recipe.paragraphs / 10))];
  const tokenizer = trainByteLevelBpe(tokenizerText, { vocabSize: recipe.vocabSize });
  const eot = tokenizer.endOfTextId!;
  const stream = Int32Array.from(corpus.flatMap((p) => [...tokenizer.encode(p), eot]));
  const { train, eval: held } = splitHeldOut(packSequences(stream, recipe.seqLen), 0.05);
  progress(`corpus: ${corpus.length} paragraphs, ${stream.length} tokens, ${train.length} train / ${held.length} held-out sequences; vocabulary ${tokenizer.vocabSize}`);

  const config: GPT2Config = { vocabSize: tokenizer.vocabSize, nPositions: recipe.seqLen, nEmbd: recipe.nEmbd, nLayer: recipe.nLayer, nHead: recipe.nHead, layerNormEpsilon: 1e-5 };
  const weights = initGpt2Weights(config, rng);
  const step = await TrainStep.create({ config, weights, lora: NO_LORA, batchSize: recipe.batchSize, seqLen: recipe.seqLen, trainable: 'full', threads: recipe.threads });
  const optimizer = new AdamW({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0 });
  const schedule = { name: 'cosine' as const, baseLr: recipe.learningRate, warmupSteps: recipe.warmupSteps, totalSteps: recipe.steps };
  let order: number[] = [];
  const started = performance.now();
  for (let s = 0; s < recipe.steps; s++) {
    if (order.length < recipe.batchSize) order = rng.permutation(train.length);
    const batch = makeBatch(order.splice(0, recipe.batchSize).map((i) => train[i]), recipe.seqLen);
    const { loss, grads } = await step.run({ ...batch, lora: new Map(), base: weights });
    if (!Number.isFinite(loss)) throw new Error(`tiny model pretraining: loss is ${loss} at step ${s + 1}`);
    clipGradNorm(grads.values(), 1);
    optimizer.update(weights, grads, learningRateAt(schedule, s));
    if ((s + 1) % 100 === 0) progress(`step ${s + 1}/${recipe.steps} loss ${loss.toFixed(4)} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await step.release();

  const forward = await ForwardModel.create({ config, weights, lora: NO_LORA, batchSize: recipe.batchSize, seqLen: recipe.seqLen, threads: recipe.threads });
  const evalLoss = await heldOutLoss(forward, held, recipe.batchSize, recipe.seqLen, new Map());
  await forward.release();
  progress(`held-out loss ${evalLoss.toFixed(4)}`);

  const hfConfig = {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', activation_function: 'gelu_new',
    vocab_size: config.vocabSize, n_positions: config.nPositions, n_ctx: config.nPositions, n_embd: config.nEmbd,
    n_layer: config.nLayer, n_head: config.nHead, n_inner: null, layer_norm_epsilon: config.layerNormEpsilon,
    resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, initializer_range: 0.02, bos_token_id: eot, eos_token_id: eot,
    tie_word_embeddings: true, torch_dtype: 'float32',
  };
  return { config, hfConfig, weights, tokenizer, evalLoss };
}
