// `lora-registry db`: the engine as its own process prints a mongodb:// URI the driver can use,
// keeps the data across a restart, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';

const cli = path.join(process.cwd(), 'src', 'cli', 'main.ts');

function startDbCommand(args: string[]): { child: ChildProcess; uri: Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'db', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const uri = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exit.then((code) => reject(new Error(`lora-registry db exited with ${code} before printing a URI`)));
  });
  return { child, uri, exit };
}

describe('lora-registry db', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'embedded-cli-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the URI it prints, keeps data across a restart and stops on SIGTERM', async () => {
    const first = startDbCommand(['--port', '0', '--data-dir', dataDir, '--quiet']);
    children.push(first.child);
    const uri = await first.uri;
    assert.match(uri, /^mongodb:\/\/127\.0\.0\.1:\d+$/);
    const client = await new MongoClient(uri).connect();
    await client.db('cli').collection('c').insertOne({ kept: true });
    await client.close();
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0);

    const second = startDbCommand(['--port', '0', '--data-dir', dataDir, '--quiet']);
    children.push(second.child);
    const again = await new MongoClient(await second.uri).connect();
    try {
      assert.equal(await again.db('cli').collection('c').countDocuments({ kept: true }), 1);
    } finally {
      await again.close();
      second.child.kill('SIGTERM');
      assert.equal(await second.exit, 0);
    }
  });

  it('refuses a bad port with a message naming the option', async () => {
    const run = startDbCommand(['--port', 'many', '--data-dir', dataDir]);
    children.push(run.child);
    let stderr = '';
    run.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    run.uri.catch(() => {});
    assert.equal(await run.exit, 2);
    assert.match(stderr, /--port must be an integer from 0 to 65535, got "many"/);
  });
});
