// Each subscription event executes with a fresh context (fresh DataLoaders), while the
// subscribe resolver runs once with the subscription's own context; closing the
// subscription reaches the source at once, even while it waits for an event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type ExecutionResult } from 'graphql';
import { subscribeWithContextPerEvent } from '../../src/server/per-event-subscribe.ts';

interface CountingContext {
  generation: number;
  subscribedWith?: number;
}

function schemaWith(source: () => AsyncIterableIterator<number>) {
  return makeExecutableSchema({
    typeDefs: 'type Query { ok: Boolean } type Subscription { tick: String! }',
    resolvers: {
      Subscription: {
        tick: {
          subscribe: (_root: unknown, _args: unknown, ctx: CountingContext) => {
            ctx.subscribedWith = ctx.generation;
            return source();
          },
          resolve: (n: number, _args: unknown, ctx: CountingContext) => `event ${n} in context ${ctx.generation}`,
        },
      },
    },
  });
}

test('every event gets its own context', async () => {
  async function* three() {
    yield 1;
    yield 2;
    yield 3;
  }
  const context: CountingContext = { generation: 0 };
  let renewals = 0;
  const stream = await subscribeWithContextPerEvent<CountingContext>(
    { schema: schemaWith(three), document: parse('subscription { tick }'), contextValue: context },
    (ctx) => ({ generation: ctx.generation + (++renewals) }),
  );
  const seen: string[] = [];
  for await (const result of stream as AsyncIterable<ExecutionResult>) seen.push((result.data as { tick: string }).tick);
  assert.deepEqual(seen, ['event 1 in context 1', 'event 2 in context 2', 'event 3 in context 3']);
  assert.equal(context.subscribedWith, 0);
});

test('return() reaches a source that is waiting for its next event', async () => {
  let returned = false;
  const waitingForever: AsyncIterableIterator<number> = {
    next: () => new Promise(() => {}),
    return: async () => {
      returned = true;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return waitingForever;
    },
  };
  const stream = (await subscribeWithContextPerEvent<CountingContext>(
    { schema: schemaWith(() => waitingForever), document: parse('subscription { tick }'), contextValue: { generation: 0 } },
    (ctx) => ctx,
  )) as AsyncIterableIterator<ExecutionResult>;
  void stream.next();
  await stream.return!();
  assert.equal(returned, true);
});

test('errors before the stream starts come back as a result', async () => {
  const result = await subscribeWithContextPerEvent<CountingContext>(
    { schema: schemaWith(() => { throw new Error('no source'); }), document: parse('subscription { tick }'), contextValue: { generation: 0 } },
    (ctx) => ctx,
  );
  assert.ok(!(Symbol.asyncIterator in result));
  assert.match(String((result as ExecutionResult).errors?.[0]?.message), /no source/);
});
