// How a run ended, from what its process said (a `done` or `failed` event), whether a
// cancel was asked for, its exit code or signal, and the tail of its stderr (where CUDA,
// V8 and Python print their out-of-memory and NaN messages).
import type { ErrorType, ExperimentStatus, RunErrorDoc } from '../store/documents.ts';
import { classifyError } from '../training/trainingError.ts';

export interface RunEnd {
  sawDone: boolean;
  failure: { type: ErrorType; message: string } | null;
  cancelRequested: boolean;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
}

const NAN_LOSS_PATTERN = /\bnan\b[^\n]*\bloss\b|\bloss\b[^\n]*\bnan\b|non-finite loss/i;
const DATA_ERROR_PATTERN = /\b(DataError|dataset|train_data_dir)\b[^\n]*(not found|empty|no such file|invalid|ENOENT)/i;

/** The last `count` meaningful stderr lines: stack frames and Node's version banner say little. */
function lastLines(text: string, count: number): string {
  return text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s+at /.test(line) && !/^Node\.js v\d/.test(line) && !/^\s*[\^{}]\s*$/.test(line))
    .slice(-count)
    .join('\n');
}

export function classifyRunEnd(end: RunEnd): { status: ExperimentStatus; error: RunErrorDoc | null } {
  const exit = { exitCode: end.exitCode, signal: end.signal };
  if (end.sawDone && (end.exitCode === 0 || end.exitCode === null)) return { status: 'COMPLETED', error: null };
  if (end.cancelRequested) {
    return { status: 'CANCELLED', error: { type: 'CANCELLED', message: 'cancelled on request (cancelTraining)', ...exit } };
  }
  if (end.failure && end.failure.type !== 'UNKNOWN') return { status: 'FAILED', error: { ...end.failure, ...exit } };
  const text = `${end.failure?.message ?? ''}\n${end.stderrTail}`;
  const fromMessage = classifyError(new Error(text));
  if (fromMessage !== 'UNKNOWN') return { status: 'FAILED', error: { type: fromMessage, message: end.failure?.message ?? lastLines(end.stderrTail, 5), ...exit } };
  if (NAN_LOSS_PATTERN.test(text)) return { status: 'FAILED', error: { type: 'NAN_LOSS', message: end.failure?.message ?? lastLines(end.stderrTail, 5), ...exit } };
  if (DATA_ERROR_PATTERN.test(text)) return { status: 'FAILED', error: { type: 'DATA_ERROR', message: end.failure?.message ?? lastLines(end.stderrTail, 5), ...exit } };
  if (end.exitCode === 0 && !end.failure) return { status: 'COMPLETED', error: null };
  const how = end.signal ? `killed by ${end.signal}${end.signal === 'SIGKILL' ? ' (kill -9, or the kernel\'s out-of-memory killer)' : ''}` : `exited with code ${end.exitCode}`;
  const detail = end.failure?.message ?? lastLines(end.stderrTail, 5);
  return { status: 'FAILED', error: { type: 'CRASHED', message: detail ? `the training process ${how}: ${detail}` : `the training process ${how}`, ...exit } };
}
