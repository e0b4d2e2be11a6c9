// Inputs for createExperiment in tests: a recorded run with checkpoints and artifacts.
import { createHash } from 'node:crypto';

export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const CREATE_EXPERIMENT = /* GraphQL */ `
  mutation Create($input: CreateExperimentInput!) {
    createExperiment(input: $input) { id name project tags status configHash }
  }
`;

export interface RunSpec {
  name: string;
  project?: string;
  tags?: string[];
  status?: string;
  rank?: number;
  learningRate?: number;
  finalLoss?: number | null;
  error?: { type: string; message: string } | null;
  checkpoints?: number;
  outputDir?: string;
}

/** A CreateExperimentInput with `checkpoints` checkpoints, each with one adapter artifact, plus a final adapter. */
export function runInput(spec: RunSpec): Record<string, unknown> {
  const checkpointCount = spec.checkpoints ?? 0;
  const outputDir = spec.outputDir ?? `out/${spec.name}`;
  const checkpoints = Array.from({ length: checkpointCount }, (_, i) => ({
    step: (i + 1) * 100,
    epoch: i + 1,
    loss: 1 / (i + 2),
    dir: `${outputDir}/checkpoint-${(i + 1) * 100}`,
    files: [{ path: `${outputDir}/checkpoint-${(i + 1) * 100}/adapter_model.safetensors`, sha256: hashOf(`${spec.name}/ckpt/${i}`), bytes: 1024 }],
  }));
  const artifacts = [
    ...checkpoints.map((c, i) => ({
      sha256: hashOf(`${spec.name}/ckpt/${i}`),
      kind: 'CHECKPOINT_ADAPTER',
      format: 'safetensors',
      path: c.files[0]!.path,
      bytes: 1024,
      checkpointStep: c.step,
    })),
    { sha256: hashOf(`${spec.name}/final`), kind: 'ADAPTER', format: 'safetensors', path: `${outputDir}/adapter_model.safetensors`, bytes: 3_000_000_000 },
  ];
  return {
    name: spec.name,
    project: spec.project ?? 'default',
    tags: spec.tags ?? [],
    status: spec.status ?? 'COMPLETED',
    config: { baseModel: 'models/gpt2', trainDataDir: 'data/poems', loraRank: spec.rank ?? 8, loraAlpha: 16, learningRate: spec.learningRate ?? 1e-4, batchSize: 4, epochs: 1 },
    baseModel: { path: 'models/gpt2', sha256: hashOf('gpt2'), name: 'gpt2' },
    dataset: { path: 'data/poems', sha256: hashOf('poems'), fileCount: 3, tokens: 12000 },
    outputDir,
    summary: spec.finalLoss === null ? null : { finalLoss: spec.finalLoss ?? 0.5, minLoss: (spec.finalLoss ?? 0.5) - 0.01, steps: 1000 },
    error: spec.error ?? null,
    checkpoints,
    artifacts,
  };
}
