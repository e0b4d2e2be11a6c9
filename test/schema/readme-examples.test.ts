// The example queries in README's "The API" section are valid against the schema and
// within the server's limits, so users can paste them as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, specifiedRules, validate } from 'graphql';
import { buildSchema } from '../../src/server/schema.ts';
import { limitRules } from '../../src/server/create-server.ts';
import { DEFAULT_LIMITS } from '../../src/server/config.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function apiSectionExamples(): string[] {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## The API');
  const end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'README has a "## The API" section');
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const python = [...section.matchAll(/gql\("""([\s\S]*?)"""/g)].map((m) => m[1]!);
  return [...blocks, ...python];
}

test('README API examples validate against the schema and the limits', () => {
  const schema = buildSchema();
  const examples = apiSectionExamples();
  assert.ok(examples.length >= 4, `found ${examples.length} examples`);
  for (const example of examples) {
    const errors = validate(schema, parse(example), [...specifiedRules, ...limitRules(DEFAULT_LIMITS)]);
    assert.deepEqual(errors.map((e) => e.message), [], example);
  }
});
