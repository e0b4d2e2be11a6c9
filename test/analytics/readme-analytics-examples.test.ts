// The example queries in README's "Analytics" section are valid against the schema and
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

const readmePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

test('README Analytics examples validate against the schema and the limits', () => {
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf('\n## Analytics');
  assert.ok(start >= 0, 'README has an "## Analytics" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const examples = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(examples.length >= 7, `found ${examples.length} examples`);
  const schema = buildSchema();
  for (const example of examples) {
    const errors = validate(schema, parse(example), [...specifiedRules, ...limitRules(DEFAULT_LIMITS)]);
    assert.deepEqual(errors.map((e) => e.message), [], example);
  }
});
