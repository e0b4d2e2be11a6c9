// Checks on a run recorded through createExperiment/updateExperiment, with messages that
// name the field, the value and what is allowed.
import type {
  ArtifactKind, EnvironmentDoc, ExperimentStatus, FileRef, LoraConfigDoc, RunErrorDoc, RunSummaryDoc,
} from './documents.ts';
import { InvalidInputError } from './errors.ts';
import { EXPERIMENT_STATUSES } from './experiment-filter.ts';

export interface NewCheckpoint {
  step: number;
  epoch?: number | null;
  loss?: number | null;
  dir: string;
  files: FileRef[];
}

export interface NewArtifact {
  sha256: string;
  kind: ArtifactKind;
  format: string;
  path: string;
  bytes: number;
  /** Step of a checkpoint in the same input that this artifact belongs to. */
  checkpointStep?: number | null;
  metadata?: Record<string, unknown> | null;
}

export interface NewExperiment {
  name: string;
  project: string;
  tags: string[];
  notes?: string | null;
  status: ExperimentStatus;
  config: LoraConfigDoc;
  rawConfig?: Record<string, unknown> | null;
  baseModel?: { path: string; sha256?: string | null; name?: string | null } | null;
  dataset?: { path: string; sha256?: string | null; files?: number | null; tokens?: number | null } | null;
  runner?: 'builtin' | 'external' | 'logged';
  outputDir?: string | null;
  startedAt?: Date | null;
  endedAt?: Date | null;
  summary?: RunSummaryDoc | null;
  error?: RunErrorDoc | null;
  environment?: EnvironmentDoc | null;
  samplePrompts?: string[] | null;
  checkpoints: NewCheckpoint[];
  artifacts: NewArtifact[];
}

export interface ExperimentPatch {
  name?: string | null;
  tags?: string[] | null;
  notes?: string | null;
}

export const ARTIFACT_KINDS: readonly ArtifactKind[] = [
  'ADAPTER', 'CHECKPOINT_ADAPTER', 'MERGED_MODEL', 'OPTIMIZER_STATE', 'LOG', 'OTHER',
];
const PROJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const MAX_TAGS = 50;
const MAX_TAG_LENGTH = 64;
const MAX_NAME_LENGTH = 200;
const MAX_NOTES_LENGTH = 10_000;
const MAX_RECORDS = 10_000;

export function validateName(field: (string | number)[], name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new InvalidInputError(field, `${field.join('.')} must be a non-empty string.`);
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidInputError(field, `${field.join('.')} is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed.`);
  }
  return name.trim();
}

export function validateProject(field: (string | number)[], project: unknown): string {
  if (typeof project !== 'string' || !PROJECT_PATTERN.test(project)) {
    throw new InvalidInputError(
      field,
      `${field.join('.')} ${JSON.stringify(project)} is not a project name: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  return project;
}

/** Tags are trimmed and de-duplicated, keeping their first order. */
export function validateTags(field: (string | number)[], tags: unknown): string[] {
  if (!Array.isArray(tags)) throw new InvalidInputError(field, `${field.join('.')} must be a list of strings.`);
  if (tags.length > MAX_TAGS) {
    throw new InvalidInputError(field, `${field.join('.')} has ${tags.length} tags; at most ${MAX_TAGS} are allowed.`);
  }
  const seen = new Set<string>();
  tags.forEach((tag, i) => {
    if (typeof tag !== 'string' || tag.trim() === '' || tag.trim().length > MAX_TAG_LENGTH) {
      throw new InvalidInputError([...field, i], `${field.join('.')}[${i}] must be a non-empty string of at most ${MAX_TAG_LENGTH} characters, got ${JSON.stringify(tag)}.`);
    }
    seen.add(tag.trim());
  });
  return [...seen];
}

export function validateNotes(field: (string | number)[], notes: unknown): string {
  if (typeof notes !== 'string') throw new InvalidInputError(field, `${field.join('.')} must be a string.`);
  if (notes.length > MAX_NOTES_LENGTH) {
    throw new InvalidInputError(field, `${field.join('.')} is ${notes.length} characters long; at most ${MAX_NOTES_LENGTH} are allowed.`);
  }
  return notes;
}

export function validateSha256(field: (string | number)[], sha256: unknown): string {
  const lower = typeof sha256 === 'string' ? sha256.toLowerCase() : sha256;
  if (typeof lower !== 'string' || !SHA256_PATTERN.test(lower)) {
    throw new InvalidInputError(field, `${field.join('.')} must be a sha256 of 64 hexadecimal characters, got ${JSON.stringify(sha256)}.`);
  }
  return lower;
}

function validateBytes(field: (string | number)[], bytes: unknown): number {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new InvalidInputError(field, `${field.join('.')} must be a non-negative integer number of bytes, got ${JSON.stringify(bytes)}.`);
  }
  return bytes;
}

function validateFileRef(field: (string | number)[], file: FileRef): FileRef {
  if (typeof file.path !== 'string' || file.path === '') {
    throw new InvalidInputError([...field, 'path'], `${field.join('.')}.path must be a non-empty string.`);
  }
  return {
    path: file.path,
    sha256: validateSha256([...field, 'sha256'], file.sha256),
    bytes: validateBytes([...field, 'bytes'], file.bytes),
  };
}

/** Returns the input normalized (trimmed names, lower-case hashes, de-duplicated tags). */
export function validateNewExperiment(input: NewExperiment): NewExperiment {
  const name = validateName(['name'], input.name);
  const project = validateProject(['project'], input.project);
  const tags = validateTags(['tags'], input.tags ?? []);
  if (!EXPERIMENT_STATUSES.includes(input.status)) {
    throw new InvalidInputError(['status'], `status ${JSON.stringify(input.status)} is unknown; allowed: ${EXPERIMENT_STATUSES.join(', ')}.`);
  }
  if (input.notes != null) validateNotes(['notes'], input.notes);
  if (input.startedAt && input.endedAt && input.endedAt < input.startedAt) {
    throw new InvalidInputError(['endedAt'], `endedAt ${input.endedAt.toISOString()} is before startedAt ${input.startedAt.toISOString()}.`);
  }
  if (input.status === 'FAILED' && !input.error) {
    throw new InvalidInputError(['error'], 'a FAILED run needs error { type, message } so it can be found by error type.');
  }
  const baseModel = input.baseModel
    ? { ...input.baseModel, sha256: input.baseModel.sha256 == null ? null : validateSha256(['baseModel', 'sha256'], input.baseModel.sha256) }
    : null;
  const dataset = input.dataset
    ? { ...input.dataset, sha256: input.dataset.sha256 == null ? null : validateSha256(['dataset', 'sha256'], input.dataset.sha256) }
    : null;
  if (input.checkpoints.length > MAX_RECORDS || input.artifacts.length > MAX_RECORDS) {
    throw new InvalidInputError(['checkpoints'], `at most ${MAX_RECORDS} checkpoints and ${MAX_RECORDS} artifacts can be recorded at once.`);
  }
  const steps = new Set<number>();
  const checkpoints = input.checkpoints.map((c, i) => {
    if (!Number.isInteger(c.step) || c.step < 0) {
      throw new InvalidInputError(['checkpoints', i, 'step'], `checkpoints[${i}].step must be a non-negative integer, got ${c.step}.`);
    }
    if (steps.has(c.step)) {
      throw new InvalidInputError(['checkpoints', i, 'step'], `checkpoints[${i}].step ${c.step} appears twice; each checkpoint has its own step.`);
    }
    steps.add(c.step);
    return { ...c, files: c.files.map((f, j) => validateFileRef(['checkpoints', i, 'files', j], f)) };
  });
  const artifacts = input.artifacts.map((a, i) => {
    if (!ARTIFACT_KINDS.includes(a.kind)) {
      throw new InvalidInputError(['artifacts', i, 'kind'], `artifacts[${i}].kind ${JSON.stringify(a.kind)} is unknown; allowed: ${ARTIFACT_KINDS.join(', ')}.`);
    }
    if (a.checkpointStep != null && !steps.has(a.checkpointStep)) {
      throw new InvalidInputError(
        ['artifacts', i, 'checkpointStep'],
        `artifacts[${i}].checkpointStep ${a.checkpointStep} names no checkpoint in this input; steps given: ${[...steps].join(', ') || 'none'}.`,
      );
    }
    if (typeof a.path !== 'string' || a.path === '') {
      throw new InvalidInputError(['artifacts', i, 'path'], `artifacts[${i}].path must be a non-empty string.`);
    }
    return {
      ...a,
      sha256: validateSha256(['artifacts', i, 'sha256'], a.sha256),
      bytes: validateBytes(['artifacts', i, 'bytes'], a.bytes),
    };
  });
  return { ...input, name, project, tags, baseModel, dataset, checkpoints, artifacts };
}

export function validateExperimentPatch(patch: ExperimentPatch): ExperimentPatch {
  const out: ExperimentPatch = {};
  if (patch.name != null) out.name = validateName(['name'], patch.name);
  if (patch.tags != null) out.tags = validateTags(['tags'], patch.tags);
  if (patch.notes != null) out.notes = validateNotes(['notes'], patch.notes);
  if (Object.keys(out).length === 0) {
    throw new InvalidInputError([], 'nothing to update: give at least one of name, tags, notes.');
  }
  return out;
}
