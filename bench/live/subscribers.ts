// The subscriber side of bench:live, in its own process (clients live elsewhere than the
// server): N graphql-ws connections subscribe to one run's trainingProgress and record, for
// each STEP event once all are connected, now minus the trainer's event time. Prints one JSON line when the run ends.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, experimentId, countText] = process.argv.slice(2);
const count = Number(countText);
const latencies: number[] = [];
let connected = 0;

async function subscriber(): Promise<void> {
  const client = createClient({ url: url!, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  try {
    const events = client.iterate<{ trainingProgress: { kind: string; status: string; time: string } }>({
      query: 'subscription ($id: ID!) { trainingProgress(experimentId: $id) { kind status step time } }',
      variables: { id: experimentId },
    });
    for await (const result of events) {
      const e = result.data!.trainingProgress;
      if (e.kind === 'SNAPSHOT') {
        connected++;
        if (connected === count) process.stderr.write(`all ${count} subscribers connected\n`);
      }
      // Steady state: measured once every subscriber is connected.
      if (e.kind === 'STEP' && connected === count) latencies.push(Date.now() - Date.parse(e.time));
      if (e.kind === 'STATUS' && e.status !== 'RUNNING') break;
    }
  } finally {
    await client.dispose();
  }
}

await Promise.all(Array.from({ length: count }, () => subscriber()));
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
const cpu = process.cpuUsage();
console.log(JSON.stringify({ subscribers: count, deliveries: latencies.length, p50: at(0.5), p99: at(0.99), max: latencies.at(-1), cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: process.uptime() }));
