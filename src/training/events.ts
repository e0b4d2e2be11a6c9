// The trainer's progress is a stream of these events. The CLI prints them, the job layer
// ingests them into the store and publishes them to subscribers. Keep it serializable:
// the job runner forwards them from the training child process as JSON lines.
import type { EnvironmentDoc, ErrorType, FileRef } from '../store/documents.ts';

export interface StartEvent {
  type: 'start';
  time: string;
  totalSteps: number;
  configHash: string;
  resumedFromStep: number | null;
  environment: EnvironmentDoc;
  dataset: { path: string; sha256: string; files: number; tokens: number };
  baseModel: { path: string; sha256: string };
  outputDir: string;
  /** Things the user should know, e.g. "device auto: CUDA unavailable (...), using CPU". */
  notes?: string[];
  /** Packed sequences of seq_len tokens used for training and held out for evaluation. */
  trainSequences?: number;
  evalSequences?: number;
}

export interface StepEvent {
  type: 'step';
  time: string;
  step: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  etaSeconds: number | null;
}

export interface EvalEvent {
  type: 'eval';
  time: string;
  step: number;
  evalLoss: number;
}

export interface CheckpointEvent {
  type: 'checkpoint';
  time: string;
  step: number;
  epoch: number;
  loss: number | null;
  dir: string;
  files: FileRef[];
}

export interface DoneEvent {
  type: 'done';
  time: string;
  step: number;
  finalLoss: number | null;
  finalEvalLoss: number | null;
  adapterDir: string;
  files: FileRef[];
  wallSeconds: number;
  tokensPerSecond: number;
}

export interface FailedEvent {
  type: 'failed';
  time: string;
  step: number | null;
  error: { type: ErrorType; message: string };
}

export type TrainerEvent = StartEvent | StepEvent | EvalEvent | CheckpointEvent | DoneEvent | FailedEvent;
