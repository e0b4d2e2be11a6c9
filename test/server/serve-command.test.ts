// `lora-registry serve` as a process: serves on the port it prints, and on SIGTERM drains
// (open subscriptions are closed) and exits 0 instead of dying mid-drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { gqlData } from './harness.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('serve --port 0 answers on the printed URL and drains on SIGTERM', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'serve-command-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
    cwd: repo,
    env: { ...process.env, DATA_DIR: path.join(dir, 'data'), WORKSPACE_DIR: path.join(dir, 'runs'), HOST: '127.0.0.1', MONGODB_URI: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const onData = () => {
        const match = /serving (http:\/\/\S+\/graphql)/.exec(output);
        if (match) resolve(match[1]!);
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)));
    });
    assert.match(output, /embedded engine \(development\/test only\)/);
    const data = await gqlData(url, '{ experiments { totalCount } }');
    assert.equal(data.experiments.totalCount, 0);

    const client = createClient({ url: url.replace('http://', 'ws://'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const ended = new Promise<string>((resolve) => {
      let first = true;
      client.subscribe({ query: 'subscription { serverTime }' }, {
        next: () => {
          if (first) {
            first = false;
            child.kill('SIGTERM');
          }
        },
        error: (err) => resolve(`error ${(err as { code?: number }).code ?? String(err)}`),
        complete: () => resolve('complete'),
      });
    });
    // A hang guard, not a timing assertion: a server that never finishes draining fails here.
    let guard: NodeJS.Timeout | undefined;
    const [code] = (await Promise.race([
      once(child, 'exit'),
      new Promise((_, reject) => {
        guard = setTimeout(() => reject(new Error(`serve did not exit within 30 s of SIGTERM:\n${output}`)), 30_000);
      }),
    ])) as [number | null];
    clearTimeout(guard);
    assert.equal(code, 0, output);
    assert.match(output, /SIGTERM received, draining connections/);
    assert.match(output, /lora-registry: stopped\./);
    assert.match(await ended, /^(complete|error 1001)$/);
    await client.dispose();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
