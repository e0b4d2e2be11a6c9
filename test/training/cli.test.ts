// The `train` and `generate` commands as a user (or the job runner) runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { microConfigYaml, microRunWorkspace } from './fixtures/microRun.ts';

const { tmp, model, data } = microRunWorkspace('train-cli-test');

const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.resolve('src/cli/main.ts'), ...args], { encoding: 'utf8' });

test('train --json prints only JSON trainer events and exits 0 after done', () => {
  const file = path.join(tmp, 'ok.yaml');
  writeFileSync(file, microConfigYaml({ model, data, output: path.join(tmp, 'ok') }, { max_steps: 4, save_steps: 2 }));
  const r = cli('train', '--config', file, '--json');
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual([...new Set(events.map((e) => e.type))], ['start', 'eval', 'step', 'checkpoint', 'done']);
  assert.ok(events.every((e) => typeof e.time === 'string'));
});

test('train without --json on a pipe prints plain lines; generate continues a prompt with the adapter', () => {
  const output = path.join(tmp, 'plain');
  const file = path.join(tmp, 'plain.yaml');
  writeFileSync(file, microConfigYaml({ model, data, output }, { max_steps: 4, log_steps: 2, save_steps: 0 }));
  const r = cli('train', '--config', file);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^training 4 steps on cpu/m);
  assert.match(r.stdout, /^step 2\/4 loss \d+\.\d{4} lr .* ETA \d+:\d\d$/m);
  assert.doesNotMatch(r.stdout, /^step [13]\/4/m, 'plain lines every log_steps');
  assert.match(r.stdout, /^done: 4 steps/m);

  const g = cli('generate', '--adapter', output, '--prompt', 'The cat', '--max-new-tokens', '5');
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stdout, /^The cat.+\n$/s);
  const sampled = cli('generate', '--adapter', output, '--prompt', 'The cat', '--max-new-tokens', '5', '--temperature', '0.8', '--seed', '4');
  assert.equal(sampled.status, 0, sampled.stderr);
  assert.equal(cli('generate', '--adapter', output, '--prompt', 'x', '--temperature', 'hot').status, 2);
});

test('a bad config is a CONFIG_ERROR failed event (with --json) and exit status 1; usage errors exit 2', () => {
  const file = path.join(tmp, 'bad.yaml');
  writeFileSync(file, microConfigYaml({ model, data, output: path.join(tmp, 'bad') }, { lora_rnak: 4 }));
  const r = cli('train', '--config', file, '--json');
  assert.equal(r.status, 1);
  const [event] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(event.type, 'failed');
  assert.equal(event.error.type, 'CONFIG_ERROR');
  assert.match(event.error.message, /"lora_rnak": 4 is not allowed; unknown key; did you mean "lora_rank"\?/);
  const plain = cli('train', '--config', file);
  assert.equal(plain.status, 1);
  assert.match(plain.stderr, /failed \(CONFIG_ERROR\)/);
  assert.equal(cli('train').status, 2);
});
