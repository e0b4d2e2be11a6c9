// What subscribers of `trainingProgress` and `experimentUpdated` receive, and the pub/sub
// topics they are published on. One payload shape for every kind keeps clients simple:
// the fields that do not apply to a kind are null.
import type { ExperimentStatus, FileRef, RunErrorDoc, RunSummaryDoc } from '../store/documents.ts';

export type TrainingProgressKind = 'SNAPSHOT' | 'STEP' | 'EVAL' | 'CHECKPOINT' | 'STATUS';

export interface ProgressCheckpoint {
  step: number;
  dir: string;
  loss: number | null;
  files: FileRef[];
}

export interface TrainingProgressPayload {
  kind: TrainingProgressKind;
  experimentId: string;
  status: ExperimentStatus;
  time: Date;
  step: number | null;
  totalSteps: number | null;
  epoch: number | null;
  loss: number | null;
  learningRate: number | null;
  gradNorm: number | null;
  tokensPerSecond: number | null;
  etaSeconds: number | null;
  evalLoss: number | null;
  checkpoint: ProgressCheckpoint | null;
  summary: RunSummaryDoc | null;
  error: RunErrorDoc | null;
}

export function trainingProgressTopic(experimentId: string): string {
  return `trainingProgress:${experimentId}`;
}

export function experimentUpdatedTopic(project: string): string {
  return `experimentUpdated:${project}`;
}

export function progressPayload(
  base: Pick<TrainingProgressPayload, 'kind' | 'experimentId' | 'status'> & Partial<TrainingProgressPayload>,
): TrainingProgressPayload {
  return {
    time: new Date(),
    step: null,
    totalSteps: null,
    epoch: null,
    loss: null,
    learningRate: null,
    gradNorm: null,
    tokensPerSecond: null,
    etaSeconds: null,
    evalLoss: null,
    checkpoint: null,
    summary: null,
    error: null,
    ...base,
  };
}
