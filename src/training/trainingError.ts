// Errors the trainer classifies for its `failed` event and for the job layer.
import type { ErrorType } from '../store/documents.ts';

export class TrainingError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** One validation problem: which key, which value, what is allowed. */
export interface ConfigIssue {
  key: string;
  value: unknown;
  allowed: string;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  return JSON.stringify(value) ?? String(value);
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `"${issue.key}": ${describeValue(issue.value)} is not allowed; ${issue.allowed}`;
}

export class ConfigError extends TrainingError {
  constructor(
    readonly issues: ConfigIssue[],
    source = 'config',
  ) {
    super('CONFIG_ERROR', `${source}: ${issues.map(formatConfigIssue).join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export class DataError extends TrainingError {
  constructor(message: string) {
    super('DATA_ERROR', message);
    this.name = 'DataError';
  }
}

/**
 * Maps any thrown error to an ErrorType. Memory exhaustion is recognised by the messages
 * onnxruntime, CUDA and V8 use for it.
 */
export function classifyError(err: unknown): ErrorType {
  if (err instanceof TrainingError) return err.type;
  const message = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  if (/CUDA.*(out of memory|OOM|CUDNN_STATUS_ALLOC_FAILED)|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED/i.test(message)) return 'CUDA_OOM';
  if (/out of memory|bad_alloc|Failed to allocate memory|allocation failed|ERR_MEMORY_ALLOCATION_FAILED|Array buffer allocation failed|heap out of memory/i.test(message)) return 'OOM';
  return 'UNKNOWN';
}
