// `lora-registry train --config FILE [--json]`: runs the built-in LoRA trainer.
//
// --json prints every trainer event as one JSON object per line on stdout and nothing else
// there (the job runner reads this); the event shapes are `TrainerEvent` in
// src/training/events.ts. Exit status: 0 after `done`, 1 after `failed`, 2 on usage errors.
// SIGINT/SIGTERM stop the run after the current step with a CANCELLED failure.
import { loadConfigFile } from '../../training/config/loadConfig.ts';
import type { TrainerEvent } from '../../training/events.ts';
import { train } from '../../training/trainer.ts';
import { classifyError } from '../../training/trainingError.ts';
import { formatDuration, progressBar, stepSummary } from '../progress/progressLine.ts';
import { parseCommandLine } from '../command-line.ts';

export const summary = 'Fine-tune a GPT-2-family model with LoRA from a YAML config';

const usage = `Usage: lora-registry train --config FILE [--json]

  --config FILE   lora-scripts-style YAML config (see README "Training")
  --json          print trainer events as JSON lines on stdout (stable; for job runners)

Rerunning with the same output_dir resumes from its newest complete checkpoint.`;

function describe(event: TrainerEvent): string | null {
  switch (event.type) {
    case 'start': {
      const from = event.resumedFromStep !== null ? `, resuming from step ${event.resumedFromStep}` : '';
      const notes = (event.notes ?? []).map((n) => `\nnote: ${n}`).join('');
      return `training ${event.totalSteps} steps on ${event.environment.executionProvider} (${event.dataset.tokens} tokens, ${event.trainSequences} train / ${event.evalSequences} held-out sequences)${from} -> ${event.outputDir}${notes}`;
    }
    case 'eval':
      return `eval step ${event.step}: held-out loss ${event.evalLoss.toFixed(4)}`;
    case 'checkpoint':
      return `saved ${event.dir}`;
    case 'done':
      return `done: ${event.step} steps in ${formatDuration(event.wallSeconds)}, final loss ${event.finalLoss?.toFixed(4) ?? '-'}, held-out loss ${event.finalEvalLoss?.toFixed(4) ?? '-'}, ${Math.round(event.tokensPerSecond)} tok/s; adapter in ${event.adapterDir}`;
    case 'failed':
      return `failed (${event.error.type}) at step ${event.step ?? '-'}: ${event.error.message}`;
    case 'step':
      return null;
  }
}

export async function run(argv: string[]): Promise<number> {
  const values = parseCommandLine(argv, { config: { type: 'string' }, json: { type: 'boolean', default: false } }, usage);
  if (typeof values === 'number') return values;
  if (!values.config) {
    console.error(`--config is required\n\n${usage}`);
    return 2;
  }
  const json = values.json === true;
  const emit = (event: TrainerEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);

  let loaded;
  try {
    loaded = loadConfigFile(values.config);
  } catch (err) {
    const failed: TrainerEvent = { type: 'failed', time: new Date().toISOString(), step: null, error: { type: classifyError(err), message: (err as Error).message } };
    if (json) emit(failed);
    else console.error(describe(failed));
    return 1;
  }

  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const tty = !json && process.stdout.isTTY === true;
  const logSteps = loaded.config.log_steps;
  let totalSteps = 0;
  let barShown = false;
  let ok = false;
  try {
    for await (const event of train(loaded.config, { signal: controller.signal })) {
      if (event.type === 'start') totalSteps = event.totalSteps;
      if (event.type === 'done') ok = true;
      if (json) {
        emit(event);
        continue;
      }
      if (event.type === 'step') {
        if (tty) {
          process.stdout.write(`\r\x1b[2K${progressBar(event.step, totalSteps)} ${stepSummary(event, totalSteps)}`);
          barShown = true;
        } else if (event.step % logSteps === 0 || event.step === totalSteps) console.log(stepSummary(event, totalSteps));
        continue;
      }
      if (barShown) {
        process.stdout.write('\n');
        barShown = false;
      }
      const line = describe(event);
      if (line) (event.type === 'failed' ? console.error : console.log)(line);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return ok ? 0 : 1;
}
