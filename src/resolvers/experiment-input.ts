// GraphQL inputs of the experiment mutations -> the store's input shapes.
import type { EnvironmentDoc, RunSummaryDoc } from '../store/documents.ts';
import type { ExperimentPatch, NewExperiment } from '../store/experiment-validation.ts';
import type { CreateExperimentInput, UpdateExperimentInput } from './generated/resolvers-types.ts';
import { loraConfigFromInput } from './lora-config.ts';

type WithoutNulls<T> = { [K in keyof T]?: Exclude<T[K], null> };

/** GraphQL gives absent optional inputs as null; the documents leave them out. */
function withoutNulls<T extends object>(value: T): WithoutNulls<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v != null)) as WithoutNulls<T>;
}

export function newExperimentFromInput(input: CreateExperimentInput): NewExperiment {
  const config = loraConfigFromInput(input.config);
  return {
    name: input.name,
    project: input.project,
    tags: input.tags ?? [],
    notes: input.notes ?? null,
    status: input.status ?? 'COMPLETED', // the schema default; absent only for in-process callers
    config,
    rawConfig: input.rawConfig ?? null,
    baseModel: input.baseModel ? { path: input.baseModel.path, sha256: input.baseModel.sha256 ?? null, name: input.baseModel.name ?? null } : null,
    dataset: input.dataset
      ? { path: input.dataset.path, sha256: input.dataset.sha256 ?? null, files: input.dataset.fileCount ?? null, tokens: input.dataset.tokens ?? null }
      : null,
    runner: 'logged',
    outputDir: input.outputDir ?? null,
    startedAt: input.startedAt ?? null,
    endedAt: input.endedAt ?? null,
    summary: input.summary ? (withoutNulls(input.summary) as RunSummaryDoc) : null,
    error: input.error
      ? { type: input.error.type, message: input.error.message, exitCode: input.error.exitCode ?? null, signal: input.error.signal ?? null }
      : null,
    environment: input.environment ? (withoutNulls(input.environment) as EnvironmentDoc) : null,
    samplePrompts: input.samplePrompts ?? null,
    checkpoints: (input.checkpoints ?? []).map((c) => ({
      step: c.step,
      epoch: c.epoch ?? null,
      loss: c.loss ?? null,
      dir: c.dir,
      files: c.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
    })),
    artifacts: (input.artifacts ?? []).map((a) => ({
      sha256: a.sha256,
      kind: a.kind,
      format: a.format,
      path: a.path,
      bytes: a.bytes,
      checkpointStep: a.checkpointStep ?? null,
      metadata: a.metadata ?? null,
    })),
  };
}

export function experimentPatchFromInput(input: UpdateExperimentInput): ExperimentPatch {
  return { name: input.name ?? null, tags: input.tags ?? null, notes: input.notes ?? null };
}
