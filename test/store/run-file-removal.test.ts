// removeRunFiles deletes only what resolves strictly inside the workspace: no "..", no
// absolute paths elsewhere, no symlinks pointing out, never the workspace itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeRunFiles } from '../../src/store/run-file-removal.ts';

let root: string;
let workspace: string;
let outside: string;

before(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'run-file-removal-')));
  workspace = path.join(root, 'workspace');
  outside = path.join(root, 'outside');
  await mkdir(path.join(workspace, 'run-1', 'checkpoint-10'), { recursive: true });
  await writeFile(path.join(workspace, 'run-1', 'adapter.safetensors'), 'a');
  await writeFile(path.join(workspace, 'run-1', 'checkpoint-10', 'adapter.safetensors'), 'c');
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'precious.txt'), 'keep me');
  await symlink(outside, path.join(workspace, 'link-out'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('escaping paths are left in place and reported', async () => {
  const report = await removeRunFiles(workspace, [
    '../outside/precious.txt',
    path.join(outside, 'precious.txt'),
    'link-out/precious.txt',
    'link-out',
    '.',
    workspace,
  ]);
  assert.deepEqual(report.deleted, []);
  assert.equal(report.skipped.length, 6);
  for (const skipped of report.skipped) assert.match(skipped.reason, /outside the workspace/);
  assert.equal(existsSync(path.join(outside, 'precious.txt')), true);
  assert.equal(existsSync(workspace), true);
});

test('paths inside the workspace are removed; children of a removed directory are not reported missing', async () => {
  const report = await removeRunFiles(workspace, [
    'run-1/checkpoint-10',
    path.join(workspace, 'run-1', 'adapter.safetensors'),
    'run-1',
    'run-2/never-existed',
  ]);
  assert.deepEqual(report.deleted, [path.join(workspace, 'run-1')]);
  assert.deepEqual(report.skipped, [{ path: 'run-2/never-existed', reason: 'not found on disk' }]);
  assert.equal(existsSync(path.join(workspace, 'run-1')), false);
});
