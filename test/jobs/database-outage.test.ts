// The database goes away in the middle of a run: training goes on (the child only writes its
// event log), and when the database is back the follower stores every event exactly once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';
import { trainingProgressTopic, type TrainingProgressPayload } from '../../src/jobs/progress-events.ts';
import { startRunHarness, type RunHarness } from './run-harness.ts';

let h: RunHarness | undefined;

after(async () => {
  await h?.close();
});

test('events logged while the database is down are stored once it returns: gapless, no duplicates', async () => {
  const failedCommits: string[] = [];
  h = await startRunHarness({ flushIntervalMs: 100, log: (line) => (/storing events failed/.test(line) ? failedCommits.push(line) : undefined) });
  const run = await h.launch({ name: 'outage', externalCommand: 'fixture-slow' });
  const id = run._id.toHexString();
  const live = h.pubsub.subscribe<TrainingProgressPayload>(trainingProgressTopic(id));
  const stepsSeen: number[] = [];
  for await (const e of live) {
    if (e.kind === 'STEP') stepsSeen.push(e.step!);
    if (e.step! >= 10) break;
  }
  const { port } = h.database.engine;
  await h.database.engine.stop();
  // Training goes on while the database is away: live events keep coming.
  for await (const e of live) {
    if (e.kind === 'STEP') stepsSeen.push(e.step!);
    if (e.step! >= 35) break;
  }
  await live.return!();
  while (failedCommits.length === 0) await new Promise((r) => setTimeout(r, 50));
  h.database.engine = await startEmbeddedMongo({ dataDir: path.join(h.database.dir, 'db'), port, quiet: true });

  const done = await h.waitForStatus(run._id, ['COMPLETED', 'FAILED'], 30_000);
  assert.equal(done.status, 'COMPLETED');
  const steps = (await h.runner.metrics.readSeries(run._id, 'loss')).map((p) => p.step);
  assert.deepEqual(steps, Array.from({ length: 60 }, (_, i) => i + 1));
  assert.ok(stepsSeen.every((s, i) => i === 0 || s > stepsSeen[i - 1]!), 'subscribers never saw a step twice');
  const buckets = await h.runner.metrics.buckets.find({ experimentId: run._id, key: 'loss' }).toArray();
  assert.equal(buckets[0]!.count, 60);
  assert.equal(done.summary?.steps, 60);
});
