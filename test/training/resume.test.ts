// The resume proof: a training child process killed with SIGKILL mid-run and started again
// with the same config ends with the same adapter and the same per-step losses as a run
// that was never interrupted (dropout and gradient accumulation on, so the RNG stream,
// data position and optimizer state all have to be restored exactly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { TrainerEvent } from '../../src/training/events.ts';
import { readSafetensors } from '../../src/training/safetensors.ts';
import { readEventFile } from '../../src/training/tensorboard.ts';
import { microConfigYaml, microRunWorkspace } from './fixtures/microRun.ts';

const { tmp, model, data } = microRunWorkspace('resume-test');
const runSettings = { max_steps: 30, save_steps: 5, log_steps: 1, eval_steps: 0, lora_dropout: 0.1, gradient_accumulation_steps: 2, warmup_steps: 3, lr_scheduler: 'cosine' };

const cli = path.resolve('src/cli/main.ts');

/** Runs `train --json`; with `killAtStep`, SIGKILLs the child once it reports that step. */
function trainChild(configFile: string, killAtStep?: number): Promise<{ events: TrainerEvent[]; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', '--config', configFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: TrainerEvent[] = [];
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as TrainerEvent;
      events.push(event);
      if (killAtStep !== undefined && event.type === 'step' && event.step >= killAtStep) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => (code !== null && code !== 0 && !signal ? reject(new Error(`exit ${code}: ${stderr}`)) : resolve({ events, signal, code })));
  });
}

function writeConfig(name: string): { file: string; output: string } {
  const output = path.join(tmp, name);
  const file = path.join(tmp, `${name}.yaml`);
  writeFileSync(file, microConfigYaml({ model, data, output }, runSettings));
  return { file, output };
}

const stepLosses = (events: TrainerEvent[]) => new Map(events.filter((e) => e.type === 'step').map((e) => [(e as { step: number }).step, (e as { loss: number }).loss]));

test('kill -9 mid-run, rerun: same adapter (max abs diff <= 1e-5) and same loss sequence as an uninterrupted run', async () => {
  const straight = writeConfig('straight');
  const reference = await trainChild(straight.file);
  assert.equal(reference.events.at(-1)!.type, 'done');
  const referenceLosses = stepLosses(reference.events);
  assert.equal(referenceLosses.size, 30);

  const interrupted = writeConfig('interrupted');
  const killed = await trainChild(interrupted.file, 12);
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(!killed.events.some((e) => e.type === 'done'));
  const resumed = await trainChild(interrupted.file);
  const start = resumed.events.find((e) => e.type === 'start');
  const from = start?.type === 'start' ? start.resumedFromStep : null;
  assert.ok(from !== null && from >= 10 && from < 30, `resumed from ${from}`);
  assert.equal(resumed.events.at(-1)!.type, 'done');

  // Every step either run reported matches the uninterrupted run's loss at that step.
  const killedLosses = stepLosses(killed.events);
  const resumedLosses = stepLosses(resumed.events);
  assert.deepEqual([...resumedLosses.keys()], Array.from({ length: 30 - from! }, (_, i) => from! + 1 + i));
  for (const [step, loss] of [...killedLosses, ...resumedLosses]) {
    assert.ok(Math.abs(loss - referenceLosses.get(step)!) <= 1e-6, `step ${step}: ${loss} vs ${referenceLosses.get(step)}`);
  }

  const a = readSafetensors(path.join(straight.output, 'adapter_model.safetensors'));
  const b = readSafetensors(path.join(interrupted.output, 'adapter_model.safetensors'));
  assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
  let maxDiff = 0;
  for (const [name, t] of a.tensors) {
    const u = b.tensors.get(name)!.data;
    t.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(Number(v) - Number(u[i])))));
  }
  assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);
  assert.ok([...a.tensors.values()].some((t) => t.data.some((v) => v !== 0)), 'the adapter trained');

  // The logs hold each step exactly once, as the uninterrupted run's do.
  const logSteps = (output: string) =>
    readFileSync(path.join(output, 'logs', 'train.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'step').map((l) => [l.step, l.loss]);
  assert.deepEqual(logSteps(interrupted.output).map(([s]) => s), Array.from({ length: 30 }, (_, i) => i + 1));
  for (const [[step, loss], [, ref]] of logSteps(interrupted.output).map((x, i) => [x, logSteps(straight.output)[i]])) assert.ok(Math.abs(loss - ref) <= 1e-6, `log step ${step}`);
  const tbFiles = readdirSync(path.join(interrupted.output, 'logs')).filter((n) => n.startsWith('events.out.tfevents.'));
  assert.equal(tbFiles.length, 1);
  const tbSteps = readEventFile(path.join(interrupted.output, 'logs', tbFiles[0])).filter((e) => 'train/loss' in e.scalars).map((e) => e.step);
  assert.deepEqual(tbSteps, Array.from({ length: 30 }, (_, i) => i + 1));
});
