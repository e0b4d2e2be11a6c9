// Kill the whole server (API, embedded engine and the training child: one process group)
// with SIGKILL in the middle of a run, start it again: the run is INTERRUPTED with every
// point it logged, and resumeTraining completes it with a gapless, duplicate-free history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { gqlData } from '../server/harness.ts';
import { E2E_JOBS, followUntil, LAUNCH, range, REPO_ROOT, stepsOf, tinyConfigYaml, waitForStatus } from './training-client.ts';

let dir: string;
let configFile: string;
const servers: ChildProcess[] = [];

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lora-restart-'));
  configFile = path.join(dir, 'server.yaml');
  writeFileSync(configFile, yaml.dump({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'data'), workspaceDir: path.join(dir, 'runs'), jobs: E2E_JOBS }));
});

after(() => {
  for (const s of servers) if (s.exitCode === null && s.signalCode === null) process.kill(-s.pid!, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** `lora-registry serve` as its own process group (so the test can kill it with its children). */
async function startServerProcess(): Promise<{ child: ChildProcess; url: string; wsUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(child);
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /serving (http:\/\/\S+\/graphql)/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return { child, url, wsUrl: url.replace(/^http/, 'ws') };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

test('SIGKILL of the server mid-run: INTERRUPTED after restart, then resumed to COMPLETED without lost or repeated points', async () => {
  const first = await startServerProcess();
  const { launchTraining } = await gqlData(first.url, LAUNCH, { input: { name: 'survivor', project: 'e2e', configYaml: tinyConfigYaml({ max_steps: 40 }) } });
  const id: string = launchTraining.id;
  await followUntil(first.wsUrl, id, (e) => e.kind === 'STEP' && e.step! >= 25);
  process.kill(-first.child.pid!, 'SIGKILL');
  await exited(first.child);

  const second = await startServerProcess();
  const interrupted = await waitForStatus(second.url, id, ['INTERRUPTED', 'RUNNING', 'FAILED', 'COMPLETED'], 10_000);
  assert.equal(interrupted.status, 'INTERRUPTED');
  const logged = stepsOf(interrupted.metrics);
  assert.ok(logged.length >= 25, `the points logged before the kill are stored (${logged.length})`);
  assert.deepEqual(logged, range(1, logged.length));

  const { resumeTraining } = await gqlData(second.url, /* GraphQL */ `mutation ($id: ID!) { resumeTraining(id: $id) { status } }`, { id });
  assert.equal(resumeTraining.status, 'QUEUED');
  const done = await waitForStatus(second.url, id, ['COMPLETED', 'FAILED']);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done.error));
  assert.deepEqual(stepsOf(done.metrics), range(1, 40), 'gapless and duplicate-free');
  assert.deepEqual(done.statusHistory.map((s: { status: string }) => s.status), ['QUEUED', 'RUNNING', 'INTERRUPTED', 'QUEUED', 'RUNNING', 'COMPLETED']);
  assert.equal(done.summary.steps, 40);

  second.child.kill('SIGTERM');
  await exited(second.child);
});
