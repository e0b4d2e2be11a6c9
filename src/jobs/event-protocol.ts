// The JSON-lines protocol a training process speaks on stdout. The built-in trainer prints
// the full TrainerEvent objects of src/training/events.ts; external trainers may print the
// short forms below (documented in the README), which this module normalizes into the same
// events so that both go through one ingest path.
//
//   {"type":"start","totalSteps":1000}
//   {"type":"step","step":12,"loss":1.83,"lr":0.0002,"gradNorm":0.9,"metrics":{"loss/unet":0.4}}
//   {"type":"eval","step":100,"evalLoss":1.7}
//   {"type":"checkpoint","step":100,"dir":"out/checkpoint-100"}
//   {"type":"done","adapterDir":"out/final"}
//   {"type":"error","message":"CUDA out of memory","errorType":"CUDA_OOM"}
//
// Lines that are not JSON objects are log output and are ignored by the ingest.
import type { ErrorType, FileRef } from '../store/documents.ts';
import type { CheckpointEvent, DoneEvent, EvalEvent, FailedEvent, StartEvent, StepEvent } from '../training/events.ts';

/** A step event whose optional parts may be absent when an external trainer sent it. */
export interface IngestStepEvent extends Omit<StepEvent, 'loss' | 'learningRate' | 'gradNorm' | 'tokensPerSecond' | 'epoch'> {
  loss: number | null;
  learningRate: number | null;
  gradNorm: number | null;
  tokensPerSecond: number | null;
  epoch: number | null;
  /** Further metrics by key (external trainers: e.g. "loss/unet"). */
  metrics?: Record<string, number>;
}

export type IngestStartEvent = Partial<Omit<StartEvent, 'type'>> & { type: 'start'; time: string };
export type IngestCheckpointEvent = Omit<CheckpointEvent, 'files' | 'epoch'> & { files: FileRef[] | null; epoch: number | null };
export type IngestDoneEvent = Partial<Omit<DoneEvent, 'type' | 'files'>> & { type: 'done'; time: string; files: FileRef[] | null };

export type IngestEvent = IngestStartEvent | IngestStepEvent | EvalEvent | IngestCheckpointEvent | IngestDoneEvent | FailedEvent;

export const ERROR_TYPES: readonly ErrorType[] = ['CUDA_OOM', 'OOM', 'NAN_LOSS', 'DATA_ERROR', 'CONFIG_ERROR', 'CRASHED', 'CANCELLED', 'UNKNOWN'];

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function step(v: unknown): number | null {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function fileRefs(v: unknown): FileRef[] | null {
  if (!Array.isArray(v)) return null;
  const refs = v.filter(
    (f): f is FileRef => !!f && typeof f.path === 'string' && typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256) && Number.isSafeInteger(f.bytes),
  );
  return refs.length === v.length ? refs : null;
}

function metricMap(v: unknown): Record<string, number> | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, number> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value === 'number' && Number.isFinite(value) && k.length > 0 && k.length <= 100 && !k.includes(':')) out[k] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Parses one stdout line; null when the line is not a protocol event (log output, bad JSON). */
export function parseEventLine(line: string): IngestEvent | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    o = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const time = str(o.time) ?? new Date().toISOString();
  switch (o.type) {
    case 'start':
      return { ...(o as object), type: 'start', time, totalSteps: step(o.totalSteps) ?? undefined } as IngestStartEvent;
    case 'step': {
      const s = step(o.step);
      if (s === null) return null;
      return {
        type: 'step',
        time,
        step: s,
        epoch: num(o.epoch),
        loss: num(o.loss),
        learningRate: num(o.learningRate ?? o.lr ?? o.learning_rate),
        gradNorm: num(o.gradNorm ?? o.grad_norm),
        tokensPerSecond: num(o.tokensPerSecond ?? o.tokens_per_second),
        etaSeconds: num(o.etaSeconds ?? o.eta_seconds),
        metrics: metricMap(o.metrics),
      };
    }
    case 'eval': {
      const s = step(o.step);
      const evalLoss = num(o.evalLoss ?? o.eval_loss ?? o.loss);
      if (s === null || evalLoss === null) return null;
      return { type: 'eval', time, step: s, evalLoss };
    }
    case 'checkpoint': {
      const s = step(o.step);
      const dir = str(o.dir);
      if (s === null || dir === null) return null;
      return { type: 'checkpoint', time, step: s, epoch: num(o.epoch), loss: num(o.loss), dir, files: fileRefs(o.files) };
    }
    case 'done':
      return {
        type: 'done',
        time,
        step: step(o.step) ?? undefined,
        finalLoss: num(o.finalLoss),
        finalEvalLoss: num(o.finalEvalLoss),
        adapterDir: str(o.adapterDir) ?? undefined,
        files: fileRefs(o.files),
        wallSeconds: num(o.wallSeconds) ?? undefined,
        tokensPerSecond: num(o.tokensPerSecond) ?? undefined,
      };
    case 'failed':
    case 'error': {
      const nested = (o.error && typeof o.error === 'object' ? o.error : {}) as Record<string, unknown>;
      const declared = nested.type ?? o.errorType;
      const type = ERROR_TYPES.includes(declared as ErrorType) ? (declared as ErrorType) : 'UNKNOWN';
      const message = str(nested.message) ?? str(o.message) ?? 'the training process reported an error without a message';
      return { type: 'failed', time, step: step(o.step), error: { type, message } };
    }
    default:
      return null;
  }
}
