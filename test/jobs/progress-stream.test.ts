// trainingProgress streams: the state first, live events after it without repeating steps
// the state already covers, completion after a final status, and a subscriber that leaves a
// quiet run unsubscribes at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { progressPayload, trainingProgressTopic } from '../../src/jobs/progress-events.ts';
import { trainingProgressStream } from '../../src/jobs/progress-stream.ts';
import { startRunHarness, type RunHarness } from './run-harness.ts';

let h: RunHarness;

before(async () => {
  h = await startRunHarness();
});

after(async () => {
  await h?.close();
});

test('snapshot first, then live steps past it, then the end after a final status', async () => {
  const run = await h.launch({ name: 'logged', logOnly: true });
  const id = run._id.toHexString();
  await h.runner.records.commitProgress(run._id, { steps: 7, finalLoss: 1.5 }, null);
  const stream = trainingProgressStream(h.runner, h.pubsub, run._id);
  const first = await stream.next();
  assert.equal(first.value!.kind, 'SNAPSHOT');
  assert.equal(first.value!.step, 7);
  assert.equal(first.value!.loss, 1.5);
  const topic = trainingProgressTopic(id);
  h.pubsub.publish(topic, progressPayload({ kind: 'STEP', experimentId: id, status: 'RUNNING', step: 7 }));
  h.pubsub.publish(topic, progressPayload({ kind: 'STEP', experimentId: id, status: 'RUNNING', step: 8 }));
  h.pubsub.publish(topic, progressPayload({ kind: 'STATUS', experimentId: id, status: 'COMPLETED' }));
  assert.equal((await stream.next()).value!.step, 8, 'step 7 is in the snapshot already');
  assert.equal((await stream.next()).value!.status, 'COMPLETED');
  assert.equal((await stream.next()).done, true);
  assert.equal(h.pubsub.subscriberCount(topic), 0);
});

test('leaving a quiet run unsubscribes at once, even with a next() pending', async () => {
  const run = await h.launch({ name: 'quiet', logOnly: true });
  const topic = trainingProgressTopic(run._id.toHexString());
  const stream = trainingProgressStream(h.runner, h.pubsub, run._id);
  await stream.next();
  const pending = stream.next();
  assert.equal(h.pubsub.subscriberCount(topic), 1);
  await stream.return!();
  assert.equal(h.pubsub.subscriberCount(topic), 0);
  assert.equal((await pending).done, true);
});
