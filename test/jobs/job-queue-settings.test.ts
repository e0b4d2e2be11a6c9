// jobs.queue settings: local by default, bullmq from the config or JOB_QUEUE, and only with
// Redis pub/sub; bad values are refused by name. The worker command refuses to start
// without the shared database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { jobQueueSettingsFrom } from '../../src/jobs/job-queue-settings.ts';
import { pubsubSettingsFrom } from '../../src/jobs/pubsub-settings.ts';
import { loadServerConfig } from '../../src/server/config.ts';
import { REPO_ROOT } from '../e2e/training-client.ts';

const redis = pubsubSettingsFrom({ kind: 'redis' });

test('local by default; bullmq from JOB_QUEUE with its queue name and lock duration', () => {
  assert.deepEqual(jobQueueSettingsFrom(undefined, pubsubSettingsFrom(undefined)), { kind: 'local', queueName: 'lora-registry-training', lockDurationMs: 30_000 });
  const config = loadServerConfig({ file: 'configs/server.yaml', env: { JOB_QUEUE: 'bullmq', PUBSUB: 'redis' } });
  assert.equal(jobQueueSettingsFrom(config.jobs, pubsubSettingsFrom(config.pubsub)).kind, 'bullmq');
  assert.equal(config.jobs?.maxConcurrentRuns, 2, 'the rest of the jobs section stays');
});

test('bad values are refused with the setting, the value and what is allowed', () => {
  assert.throws(() => jobQueueSettingsFrom({ queue: 'sqs' }, redis), /jobs\.queue \(or JOB_QUEUE\) must be one of local, bullmq, got "sqs"/);
  assert.throws(() => jobQueueSettingsFrom({ queue: 'bullmq' }, pubsubSettingsFrom(undefined)), /bullmq needs pubsub\.kind redis \(PUBSUB=redis\)/);
  assert.throws(() => jobQueueSettingsFrom({ queue: 'bullmq', queueName: 'a:b' }, redis), /jobs\.queueName must be letters, digits, '_', '\.' or '-' \(BullMQ refuses ':'\), got "a:b"/);
  assert.throws(() => jobQueueSettingsFrom({ lockDurationMs: 10 }, redis), /jobs\.lockDurationMs must be an integer >= 1000 \(ms\), got 10/);
});

test('lora-registry worker without MONGODB_URI says it needs the API servers\' database', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'worker'], {
    cwd: REPO_ROOT,
    env: { ...process.env, MONGODB_URI: '' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /MONGODB_URI \(or mongoUri in the config\) is required: the database the API servers use/);
});
