// GPT-2 + LoRA model for the trainer: config, LoRA tensors, the ONNX train-step and forward graphs.
export { gpt2ConfigFromHF, type GPT2Config } from './config.ts';
export {
  dropoutMaskShapes, initLoraTensors, loraScale, loraTensorShapes, TARGET_MODULES,
  type LoraSpec, type NamedShape, type TargetModule,
} from './lora.ts';
export { baseWeightShapes, type BaseWeights } from './baseWeights.ts';
export { TrainStep, type TrainStepInputs, type TrainStepOptions, type TrainStepResult } from './trainStep.ts';
export { ForwardModel, type ForwardModelOptions } from './forwardModel.ts';
export { cudaUnavailableReason, defaultThreads, type ExecutionProvider } from './ortSession.ts';
export { IGNORE_INDEX } from './gpt2Graph.ts';
