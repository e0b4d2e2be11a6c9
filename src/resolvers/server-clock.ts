// A stream of the server's clock, one value per interval, that stops its timer as soon as
// the subscriber goes away (return()) so closed subscriptions hold nothing.
export function tickingClock(intervalMs: number): AsyncIterableIterator<Date> {
  let timer: NodeJS.Timeout | undefined;
  let wake: ((result: IteratorResult<Date>) => void) | undefined;
  let first = true;
  let done = false;
  const iterator: AsyncIterableIterator<Date> = {
    next() {
      if (done) return Promise.resolve({ value: undefined, done: true });
      if (first) {
        first = false;
        return Promise.resolve({ value: new Date(), done: false });
      }
      return new Promise((resolve) => {
        wake = resolve;
        timer = setTimeout(() => {
          wake = undefined;
          resolve({ value: new Date(), done: false });
        }, intervalMs);
      });
    },
    return() {
      done = true;
      clearTimeout(timer);
      wake?.({ value: undefined, done: true });
      wake = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
