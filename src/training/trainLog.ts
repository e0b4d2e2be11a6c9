// logs/train.log: one JSON object per line (every trainer event, plus notes such as the
// CUDA fallback). Reopened on resume truncated to the size recorded in the checkpoint,
// so the log holds each step once even after a kill -9.
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';

/** Set by the job runner: every log line of a run names its experiment. */
const EXPERIMENT_ID = process.env.LORA_REGISTRY_EXPERIMENT_ID;

export class TrainLog {
  private constructor(
    readonly file: string,
    private fd: number,
    private bytes: number,
  ) {}

  static create(file: string): TrainLog {
    return new TrainLog(file, openSync(file, 'w'), 0);
  }

  static reopen(file: string, resumeAtBytes: number): TrainLog {
    const fd = openSync(file, 'a+');
    ftruncateSync(fd, resumeAtBytes);
    closeSync(fd);
    return new TrainLog(file, openSync(file, 'r+'), resumeAtBytes);
  }

  get size(): number {
    return this.bytes;
  }

  write(record: Record<string, unknown>): void {
    const line = Buffer.from(`${JSON.stringify(EXPERIMENT_ID ? { experimentId: EXPERIMENT_ID, ...record } : record)}\n`, 'utf8');
    writeSync(this.fd, line, 0, line.length, this.bytes);
    this.bytes += line.length;
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
