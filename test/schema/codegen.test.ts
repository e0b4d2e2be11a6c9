// The SDL is the contract and the resolver types follow it: the committed generated file
// must equal what codegen produces from src/schema/*.graphql now, the project must
// type-check against it, and a resolver that drifts from the schema must fail to compile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import yaml from 'js-yaml';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const GENERATED = 'src/resolvers/generated/resolvers-types.ts';

async function typecheck(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('the committed resolver types equal a fresh codegen run over the SDL', async () => {
  const config = yaml.load(readFileSync(path.join(repo, 'codegen.yml'), 'utf8')) as Exclude<Parameters<typeof generate>[0], { getConfig: unknown }>;
  const outputs = (await generate({ ...config, cwd: repo, silent: true }, false)) as { filename: string; content: string }[];
  const fresh = outputs.find((o) => path.resolve(repo, o.filename) === path.join(repo, GENERATED));
  assert.ok(fresh, `codegen.yml generates ${GENERATED}`);
  const committed = readFileSync(path.join(repo, GENERATED), 'utf8');
  assert.ok(fresh.content === committed, `${GENERATED} is stale: run \`npm run codegen\` and commit the result.`);
});

test('the whole project type-checks against the generated types (tsc --noEmit)', async () => {
  const result = await typecheck(['-p', 'tsconfig.json', '--noEmit'], repo);
  assert.ok(result.ok, `tsc reported errors:\n${result.output.split('\n').slice(0, 30).join('\n')}`);
});

test('a resolver that drifts from the schema fails to compile; the matching one compiles', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'codegen-drift-'));
  try {
    const types = JSON.stringify(path.join(repo, GENERATED));
    await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(
      path.join(dir, 'matching.ts'),
      `import type { Resolvers } from ${types};\n` +
        'export const matching: Resolvers = { Experiment: { name: (e) => e.name, checkpoints: () => [] } };\n',
    );
    // Experiment.name is String! in the SDL; this resolver returns a number.
    await writeFile(
      path.join(dir, 'drifted.ts'),
      `import type { Resolvers } from ${types};\n` +
        'export const drifted: Resolvers = { Experiment: { name: (e) => e.tags.length } };\n',
    );
    const result = await typecheck(
      [
        '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
        '--allowImportingTsExtensions', '--skipLibCheck', '--typeRoots', path.join(repo, 'node_modules', '@types'), '--types', 'node',
        'matching.ts', 'drifted.ts',
      ],
      dir,
    );
    assert.equal(result.ok, false, 'the drifted resolver compiled');
    const errorLines = result.output.split('\n').filter((line) => /error TS\d+/.test(line));
    assert.ok(errorLines.length > 0, result.output);
    for (const line of errorLines) assert.match(line, /^drifted\.ts\(2,/, `only the drifted resolver fails: ${line}`);
    assert.match(result.output, /number.*not assignable to type.*string|Type 'number' is not assignable/s);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
