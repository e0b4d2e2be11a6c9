// Benchmarks of the embedded engine through the official driver (numbers go to bench/RESULTS.md):
//  - insertMany of 1 KB documents with durable (fsynced) acknowledgement: target >= 20,000 docs/s
//  - point lookup by an indexed field in 100,000 documents: target <= 1 ms median,
//    beside the same lookup on an unindexed field (a collection scan) in the same run
//  - $group with $avg over 100,000 documents: target <= 250 ms, beside mingo alone
// The engine runs as its own process, started the way `npm run db` starts it (client and server
// on separate cores, as with mongod); insertMany is also measured with the engine in-process.
// Run: npm run bench:embedded
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient, type Document } from 'mongodb';
import { Aggregator } from 'mingo';
import { startEmbeddedMongo } from '../../src/embedded/index.ts';

const RUNS = 5;
const COLLECTION_SIZE = 100_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function millisSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const payload = 'x'.repeat(900);
function kilobyteDocument(i: number): Document {
  // ~1 KB of BSON once the driver adds its ObjectId.
  return { i, name: `doc-${i}`, rank: [4, 8, 16, 32, 64][i % 5], loss: (i % 997) / 100, payload };
}

/** `lora-registry db` in a child process; resolves with its URI and a stop function. */
async function startEngineProcess(dataDir: string): Promise<{ uri: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('src', 'cli', 'main.ts'), 'db', '--port', '0', '--data-dir', dataDir, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const uri = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`lora-registry db exited with ${code}`)));
  });
  return { uri, pid: child.pid!, stop: () => new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function measureInserts(db: ReturnType<MongoClient['db']>): Promise<{ oneCall: number[]; batched: number[] }> {
  const oneCall: number[] = [];
  const batched: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const coll = db.collection(`insert_${run}`);
    const docs = Array.from({ length: 20_000 }, (_, i) => kilobyteDocument(i));
    let start = process.hrtime.bigint();
    await coll.insertMany(docs);
    oneCall.push(20_000 / (millisSince(start) / 1000));
    const coll2 = db.collection(`insert_batched_${run}`);
    start = process.hrtime.bigint();
    for (let b = 0; b < 20; b++) await coll2.insertMany(Array.from({ length: 1000 }, (_, i) => kilobyteDocument(b * 1000 + i)));
    batched.push(20_000 / (millisSince(start) / 1000));
    await coll.drop();
    await coll2.drop();
  }
  return { oneCall, batched };
}

async function main(): Promise<void> {
  mkdirSync('.bench-tmp', { recursive: true });
  const lines: string[] = [];
  const report = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const rate = (values: number[]) => `median ${Math.round(median(values))} docs/s (runs: ${values.map(Math.round).join(', ')})`;

  // In-process engine: client and server share one event loop and one core.
  {
    const dataDir = mkdtempSync(path.join('.bench-tmp', 'embedded-inprocess-'));
    const engine = await startEmbeddedMongo({ dataDir, port: 0, quiet: true });
    const client = await new MongoClient(engine.uri).connect();
    try {
      const { oneCall, batched } = await measureInserts(client.db('bench'));
      report(`[in-process] insertMany 1 KB docs, durable ack, one call of 20,000: ${rate(oneCall)}`);
      report(`[in-process] insertMany 1 KB docs, durable ack, 20 sequential calls of 1,000: ${rate(batched)}`);
    } finally {
      await client.close();
      await engine.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const dataDir = mkdtempSync(path.join('.bench-tmp', 'embedded-'));
  const engine = await startEngineProcess(dataDir);
  const client = new MongoClient(engine.uri);
  await client.connect();
  const db = client.db('bench');
  try {
    // 1. insertMany, durable acknowledgement (every reply follows an fsync of the journal).
    const cpuBefore = cpuSecondsOf(engine.pid);
    const { oneCall, batched } = await measureInserts(db);
    const engineCpu = cpuSecondsOf(engine.pid) - cpuBefore;
    // The machine is shared: the engine's own CPU time says what it sustains given one core.
    report(`[own process] engine CPU for the ${RUNS * 40_000} inserted docs: ${engineCpu.toFixed(2)} s, i.e. ${Math.round((RUNS * 40_000) / engineCpu)} docs per CPU-second`);
    report(`[own process] insertMany 1 KB docs, durable ack, one call of 20,000: ${rate(oneCall)}`);
    report(`[own process] insertMany 1 KB docs, durable ack, 20 sequential calls of 1,000: ${rate(batched)}`);

    // 2. point lookup by indexed field vs unindexed scan, same collection, same run.
    const coll = db.collection('lookup');
    for (let b = 0; b < COLLECTION_SIZE; b += 10_000) {
      await coll.insertMany(Array.from({ length: 10_000 }, (_, i) => ({ key: `k-${b + i}`, unindexed: `u-${b + i}`, rank: [4, 8, 16, 32, 64][(b + i) % 5], loss: ((b + i) % 997) / 100 })));
    }
    await coll.createIndex({ key: 1 }, { unique: true });
    const indexed: number[] = [];
    for (let q = 0; q < 5000; q++) {
      const key = `k-${(q * 7919) % COLLECTION_SIZE}`;
      const start = process.hrtime.bigint();
      const doc = await coll.findOne({ key });
      indexed.push(millisSince(start));
      if (!doc) throw new Error(`lookup of ${key} found nothing`);
    }
    const scans: number[] = [];
    for (let q = 0; q < 20; q++) {
      const value = `u-${(q * 7919) % COLLECTION_SIZE}`;
      const start = process.hrtime.bigint();
      const doc = await coll.findOne({ unindexed: value });
      scans.push(millisSince(start));
      if (!doc) throw new Error(`scan for ${value} found nothing`);
    }
    report(`[own process] point lookup by indexed field, ${COLLECTION_SIZE} docs: median ${median(indexed).toFixed(3)} ms over 5,000 lookups (p99 ${[...indexed].sort((a, b) => a - b)[Math.floor(indexed.length * 0.99)].toFixed(3)} ms)`);
    report(`[own process] same lookup on an unindexed field (collection scan): median ${median(scans).toFixed(1)} ms over 20 lookups`);

    // 3. $group with $avg over 100,000 documents, through the driver, beside mingo alone.
    const inMemory = await coll.find({}, { projection: { _id: 0, rank: 1, loss: 1 } }).toArray();
    const pipelines: [string, Document[]][] = [
      ['$group {_id: $rank, avg: {$avg: $loss}}', [{ $group: { _id: '$rank', avg: { $avg: '$loss' } } }]],
      ['$group with 5 accumulators ($sum 1, $sum, $avg, $min, $max)', [{ $group: { _id: '$rank', n: { $sum: 1 }, total: { $sum: '$loss' }, avg: { $avg: '$loss' }, min: { $min: '$loss' }, max: { $max: '$loss' } } }]],
    ];
    for (const [label, pipeline] of pipelines) {
      const engineTimes: number[] = [];
      const mingoTimes: number[] = [];
      for (let run = 0; run < 7; run++) {
        let start = process.hrtime.bigint();
        const viaEngine = await coll.aggregate(pipeline).toArray();
        engineTimes.push(millisSince(start));
        start = process.hrtime.bigint();
        const viaMingo = new Aggregator(pipeline).run(inMemory);
        mingoTimes.push(millisSince(start));
        if (viaEngine.length !== viaMingo.length) throw new Error(`engine and mingo disagree on ${label}`);
      }
      report(`[own process] ${label} over ${COLLECTION_SIZE} docs: engine via driver median ${median(engineTimes).toFixed(1)} ms; mingo alone (in memory) median ${median(mingoTimes).toFixed(1)} ms`);
    }
  } finally {
    await client.close();
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
