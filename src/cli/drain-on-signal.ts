// How long-running commands (serve, worker) end: on SIGINT or SIGTERM they drain through
// `stop` and return. Listeners stay installed until the drain is over: with none left, a
// runner such as tsx re-raises the signal and the process dies mid-drain. A second signal
// is ignored.
/** `label` starts each line it prints; `what` says what is drained. */
export async function drainOnSignal(label: string, what: string, stop: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    let draining = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (draining) return;
      draining = true;
      console.log(`${label}: ${signal} received, draining ${what}...`);
      stop().then(
        () => resolve(),
        (err: unknown) => {
          console.error(`${label}: shutdown failed: ${(err as Error).message}`);
          resolve();
        },
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
  console.log(`${label}: stopped.`);
}
