// kill -9 of the engine: every acknowledged write is there after restart, nothing half-applied.
// The engine runs in a child process; 16 writers issue 10,000 acknowledged inserts and updates
// between them; the engine is SIGKILLed at a random moment and restarted on the same data.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'engine-process.ts');
const TOTAL_OPERATIONS = 10_000;
const WRITERS = 16;

async function startEngineProcess(dataDir: string): Promise<{ child: ChildProcess; uri: string; log: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const uri = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`engine process exited with ${code} before printing its URI: ${log.join('\n')}`)));
  });
  return { child, uri, log };
}

describe('crash recovery', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'embedded-crash-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write across SIGKILL', async () => {
    const first = await startEngineProcess(dataDir);
    children.push(first.child);
    const client = new MongoClient(first.uri, { maxPoolSize: WRITERS, serverSelectionTimeoutMS: 2000, socketTimeoutMS: 5000 });
    await client.connect();
    const coll = client.db('crash').collection('writes');
    const counters = client.db('crash').collection('counters');
    await coll.createIndex({ writer: 1, seq: 1 }, { unique: true });

    // What the engine acknowledged, per writer: inserted sequence numbers and increments.
    const acknowledgedInserts: number[][] = Array.from({ length: WRITERS }, () => []);
    const acknowledgedIncrements = new Array<number>(WRITERS).fill(0);
    let acknowledged = 0;
    const killAfter = Math.floor(TOTAL_OPERATIONS * (0.2 + Math.random() * 0.6));
    let killed = false;

    const writer = async (w: number): Promise<void> => {
      for (let seq = 0; seq * WRITERS + w < TOTAL_OPERATIONS; seq++) {
        try {
          if (seq % 2 === 0) {
            await coll.insertOne({ writer: w, seq, payload: `w${w}-s${seq}`.repeat(8) });
            acknowledgedInserts[w].push(seq);
          } else {
            // Two fields changed by one update: after recovery they must still agree.
            await counters.updateOne({ _id: `counter-${w}` as never }, { $inc: { n: 1 }, $set: { lastSeq: seq } }, { upsert: true });
            acknowledgedIncrements[w]++;
          }
        } catch (err) {
          if (killed) return;
          throw new Error(`writer ${w} failed before the kill at operation ${seq}: ${(err as Error).message}`);
        }
        if (++acknowledged === killAfter) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    assert.ok(killed, 'the engine was killed mid-run');
    await client.close(true).catch(() => {});
    await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve(null) : first.child.once('exit', resolve)));

    const second = await startEngineProcess(dataDir);
    children.push(second.child);
    const reader = new MongoClient(second.uri);
    try {
      await reader.connect();
      const recovered = reader.db('crash').collection('writes');
      for (let w = 0; w < WRITERS; w++) {
        const seqs = new Set((await recovered.find({ writer: w }, { projection: { seq: 1, payload: 1 } }).toArray()).map((d) => {
          assert.equal(d.payload, `w${w}-s${d.seq}`.repeat(8), 'an inserted document is whole');
          return d.seq as number;
        }));
        for (const seq of acknowledgedInserts[w]) assert.ok(seqs.has(seq), `acknowledged insert writer ${w} seq ${seq} is present`);
        assert.ok(seqs.size <= acknowledgedInserts[w].length + 1, 'at most the one unacknowledged insert in flight may also be there');
        const counter = await reader.db('crash').collection('counters').findOne({ _id: `counter-${w}` as never });
        const n = (counter?.n as number | undefined) ?? 0;
        assert.ok(n >= acknowledgedIncrements[w] && n <= acknowledgedIncrements[w] + 1, `writer ${w}: counter ${n}, acknowledged increments ${acknowledgedIncrements[w]}`);
        if (counter) assert.equal(counter.lastSeq, 2 * n - 1, `writer ${w}: both fields of each update applied together`);
      }
      assert.deepEqual((await recovered.listIndexes().toArray()).map((i) => i.name), ['_id_', 'writer_1_seq_1'], 'the index survived');
    } finally {
      await reader.close();
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    }
  });
});
