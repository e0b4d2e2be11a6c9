// The trainingProgress stream of one run: its current state first (SNAPSHOT), then each live
// event, ending after a final status. A plain iterator rather than an async generator, so
// that a subscriber who leaves while the run is quiet unsubscribes at once (a generator would
// stay parked on its pending `next` until the next event, which may never come).
import type { ExperimentStatus } from '../store/documents.ts';
import type { ObjectId } from 'mongodb';
import type { JobRunner } from './job-runner.ts';
import { trainingProgressTopic, type TrainingProgressPayload } from './progress-events.ts';
import type { PubSub } from './pubsub.ts';

/** After these a run emits nothing more (until resumed): the stream completes. */
export const STREAM_ENDING_STATUSES: readonly ExperimentStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];

const DONE: IteratorResult<TrainingProgressPayload> = { value: undefined, done: true };

export function trainingProgressStream(runner: JobRunner, pubsub: PubSub, experimentId: ObjectId): AsyncIterableIterator<TrainingProgressPayload> {
  const id = experimentId.toHexString();
  // Subscribe before reading the state (once the subscription is live), so nothing published in between is missed.
  const live = pubsub.subscribe<TrainingProgressPayload>(trainingProgressTopic(id));
  let snapshotSent = false;
  let ended = false;
  let seenStep = -1;
  const end = async (): Promise<IteratorResult<TrainingProgressPayload>> => {
    ended = true;
    await live.return?.();
    return DONE;
  };
  const stream: AsyncIterableIterator<TrainingProgressPayload> = {
    async next() {
      if (ended) return DONE;
      if (!snapshotSent) {
        snapshotSent = true;
        await live.ready;
        const snapshot = await runner.snapshot(experimentId);
        if (!snapshot) return end();
        seenStep = snapshot.step ?? -1;
        // A finished run: the state is all there is; the next call completes the stream.
        if (STREAM_ENDING_STATUSES.includes(snapshot.status) && !runner.isActive(id)) await live.return?.().then(() => (ended = true));
        return { value: snapshot, done: false };
      }
      for (;;) {
        const result = await live.next();
        if (result.done || ended) return DONE;
        const event = result.value;
        // Steps the snapshot already reflects are not repeated.
        if (event.kind === 'STEP' && event.step !== null && event.step <= seenStep) continue;
        if (event.kind === 'STATUS' && STREAM_ENDING_STATUSES.includes(event.status)) ended = true;
        if (ended) await live.return?.();
        return { value: event, done: false };
      }
    },
    return: end,
    async throw(err: unknown) {
      await end();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
