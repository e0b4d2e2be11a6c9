// graphql's `subscribe`, except that every event executes with a fresh context. A
// subscription lives for hours; with one context for all its events, the per-request
// DataLoaders would serve the first event's children (checkpoints, artifacts) to every
// later event. The subscribe resolver itself still runs once, with the original context.
import {
  createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult,
} from 'graphql';

export async function subscribeWithContextPerEvent<C>(
  args: ExecutionArgs,
  contextForEvent: (subscriptionContext: C) => C,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source; // errors before the stream started
  const iterator = source[Symbol.asyncIterator]();
  const executeEvent = async (payload: unknown): Promise<ExecutionResult> =>
    execute({ ...args, rootValue: payload, contextValue: contextForEvent(args.contextValue as C) });
  // A plain iterator rather than an async generator: return() must reach the source at
  // once, even while it waits for its next event, so a closed subscription frees it.
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const result = await iterator.next();
      if (result.done) return { value: undefined, done: true };
      return { value: await executeEvent(result.value), done: false };
    },
    async return() {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      if (iterator.throw) {
        const result = await iterator.throw(error);
        if (!result.done) return { value: await executeEvent(result.value), done: false };
        return { value: undefined, done: true };
      }
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
