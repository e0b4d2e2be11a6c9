// Sessions load the model from a file whose large initializers live in an external,
// mmap-aligned weights file: results equal the all-in-one protobuf, and the temporary
// files are gone once the session exists.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../../../src/training/model/onnxGraph.ts';
import { createSession } from '../../../src/training/model/ortSession.ts';
import { seededRandom } from './microGpt2.ts';

function gemmGraph(random: () => number): OnnxGraph {
  const g = new OnnxGraph('float32');
  const a = g.input('a', [2, 64]);
  const big = g.floatInitializer('w_big', Float32Array.from({ length: 64 * 300 }, () => random() - 0.5), [64, 300]); // 76.8 kB: external
  const small = g.floatInitializer('bias_small', Float32Array.from({ length: 300 }, () => random() - 0.5), [300]); // inline
  const big2 = g.floatInitializer('w_big2', Float32Array.from({ length: 300 * 70 }, () => random() - 0.5), [300, 70]); // external, second offset
  g.output(g.gemm(g.gemm(a, big, 'h', { c: small }), big2, 'y0'), 'y', [2, 70]);
  return g;
}

describe('model files with external weights', () => {
  it('writes aligned external data and computes what the inline model computes', async () => {
    const g = gemmGraph(seededRandom(4));
    const dir = mkdtempSync(join(tmpdir(), 'external-weights-test-'));
    try {
      const modelPath = g.writeModelFiles(dir, 'gemm');
      const weightsBytes = statSync(join(dir, 'weights.bin')).size;
      assert.equal(weightsBytes, 2 * 65536 + 300 * 70 * 4, 'the second tensor starts at the 64 KiB boundary after the first (76.8 kB)');
      assert.ok(statSync(modelPath).size < 4096, 'large tensors are not inside the protobuf');
      const fromFile = await ort.InferenceSession.create(modelPath);
      const inline = await ort.InferenceSession.create(g.toModelBytes('gemm'));
      const feeds = { a: new ort.Tensor('float32', Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)), [2, 64]) };
      const y1 = (await fromFile.run(feeds)).y.data as Float32Array;
      const y2 = (await inline.run(feeds)).y.data as Float32Array;
      assert.deepEqual(y1, y2);
      assert.ok(y1.some((v) => v !== 0));
      await fromFile.release();
      await inline.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('createSession leaves no temporary files behind', async () => {
    // A private temp dir: other test files' trainers create (and remove) their own model dirs
    // in the shared one while this runs.
    const privateTmp = mkdtempSync(join(tmpdir(), 'external-weights-tmp-'));
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    let session: ort.InferenceSession;
    try {
      ({ session } = await createSession(gemmGraph(seededRandom(5)), 'gemm', { threads: 1 }));
      assert.equal(tmpdir(), privateTmp, 'os.tmpdir() follows TMPDIR');
      assert.deepEqual(readdirSync(privateTmp), []);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
      rmSync(privateTmp, { recursive: true, force: true });
    }
    const out = await session.run({ a: new ort.Tensor('float32', new Float32Array(128).fill(1), [2, 64]) });
    assert.equal((out.y.data as Float32Array).length, 140);
    await session.release();
  });
});
