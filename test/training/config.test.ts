import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, parseConfigText } from '../../src/training/config/loadConfig.ts';
import { configHash, validateTrainConfig } from '../../src/training/config/trainConfig.ts';
import { editDistance, nearestKey } from '../../src/training/config/nearestKey.ts';
import { ConfigError } from '../../src/training/trainingError.ts';
import { hashConfig } from '../../src/store/config-hash.ts';
import type { LoraConfigDoc } from '../../src/store/documents.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'config-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const minimal = 'train_data_dir: data\nbase_model: ../models/m\noutput_dir: /abs/out\n';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    assert.equal(err.type, 'CONFIG_ERROR');
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults apply and relative paths resolve against the config file directory', () => {
  const { config } = parseConfigText(minimal, '/cfg/dir/run.yaml');
  assert.equal(config.train_data_dir, '/cfg/dir/data');
  assert.equal(config.base_model, '/cfg/models/m');
  assert.equal(config.output_dir, '/abs/out');
  assert.equal(config.lora_rank, 8);
  assert.deepEqual(config.target_modules, ['c_attn']);
  assert.equal(config.lr_scheduler, 'linear');
  assert.equal(config.device, 'auto');
  assert.equal(config.max_steps, null);
});

test('an unknown key is an error suggesting the nearest known key', () => {
  const err = errorOf(() => parseConfigText(`${minimal}learning_rat: 0.001\nlora_rnak: 4\n`, 'run.yaml'));
  assert.match(err.message, /"learning_rat": 0\.001 is not allowed; unknown key; did you mean "learning_rate"\?/);
  assert.match(err.message, /"lora_rnak": 4 is not allowed; unknown key; did you mean "lora_rank"\?/);
  assert.equal(err.issues.length, 2);
});

test('bad values name the key, the value and what is allowed', () => {
  const cases: [string, RegExp][] = [
    ['lora_rank: 0', /"lora_rank": 0 is not allowed; expected an integer >= 1/],
    ['lora_rank: "8"', /"lora_rank": "8" is not allowed; expected an integer >= 1/],
    ['lora_dropout: 1', /"lora_dropout": 1 is not allowed; expected a number in \[0, 1\)/],
    ['lr_scheduler: step', /"lr_scheduler": "step" is not allowed; expected one of constant, linear, cosine/],
    ['device: tpu', /"device": "tpu" is not allowed; expected one of auto, cpu, cuda/],
    ['target_modules: [c_attn, q_proj]', /"target_modules": \["c_attn","q_proj"\] is not allowed; expected a non-empty list of distinct names among c_attn, attn\.c_proj, mlp\.c_fc, mlp\.c_proj/],
    ['learning_rate: -1', /"learning_rate": -1 is not allowed; expected a number > 0/],
    ['max_steps: 5\nwarmup_steps: 10', /"warmup_steps": 10 is not allowed; expected at most max_steps \(5\)/],
  ];
  for (const [yamlLine, pattern] of cases) assert.match(errorOf(() => parseConfigText(`${minimal}${yamlLine}\n`, 'run.yaml')).message, pattern, yamlLine);
});

test('required keys, non-mapping documents, bad YAML and unreadable files are precise errors', () => {
  assert.match(errorOf(() => parseConfigText('base_model: m\noutput_dir: o\n', 'run.yaml')).message, /"train_data_dir": missing is not allowed; this key is required; expected a directory of \.txt\/\.jsonl files/);
  assert.match(errorOf(() => parseConfigText('- a\n- b\n', 'run.yaml')).message, /"\(root\)": \["a","b"\] is not allowed; expected a mapping/);
  assert.match(errorOf(() => parseConfigText('a: [1,\n', 'run.yaml')).message, /must be valid YAML/);
  assert.match(errorOf(() => loadConfigFile(path.join(tmp, 'absent.yaml'))).message, /"--config": ".*absent\.yaml" is not allowed; expected a readable YAML file \(ENOENT\)/);
  const file = path.join(tmp, 'ok.yaml');
  writeFileSync(file, `${minimal}tags: [a, b]\n`);
  assert.deepEqual(loadConfigFile(file).config.tags, ['a', 'b']);
});

test('the config hash changes with what affects training, not with tags, threads or output_dir', () => {
  const base = validateTrainConfig({ train_data_dir: 'd', base_model: 'm', output_dir: 'o' }, '/x');
  const tagged = validateTrainConfig({ train_data_dir: 'd', base_model: 'm', output_dir: 'elsewhere', tags: ['t'], threads: 2 }, '/x');
  const other = validateTrainConfig({ train_data_dir: 'd', base_model: 'm', output_dir: 'o', learning_rate: 0.1 }, '/x');
  assert.equal(configHash(base), configHash(tagged));
  assert.notEqual(configHash(base), configHash(other));
  assert.match(configHash(base), /^[0-9a-f]{64}$/);
  // The registry's hash of the same normalized config is the same value.
  assert.equal(hashConfig(base as unknown as LoraConfigDoc), configHash(base));
});

test('edit distance and nearest key', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(nearestKey('batchsize', ['epochs', 'batch_size', 'seed']), 'batch_size');
});
