// The machine's matrix-multiply rate through onnxruntime (MLAS), for the "fraction of peak"
// figure: one Gemm with a constant (prepacked) right operand, at a few GPT-2-like shapes.
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../../src/training/model/onnxGraph.ts';
import { Rng } from '../../src/training/rng.ts';

/** gflops: from the median of 15 timed runs; bestGflops: from the fastest (the rate with no other load on the shared machine). */
export interface MatmulRate { m: number; k: number; n: number; gflops: number; bestGflops: number }

async function gemmRate(m: number, k: number, n: number, threads: number): Promise<{ gflops: number; bestGflops: number }> {
  const rng = Rng.fromSeed(2);
  const random = () => rng.nextFloat();
  const g = new OnnxGraph('float32');
  const a = g.input('a', [m, k]);
  const b = g.floatInitializer('b', Float32Array.from({ length: k * n }, () => random() - 0.5), [k, n]);
  g.output(g.gemm(a, b, 'y_gemm'), 'y', [m, n]);
  const session = await ort.InferenceSession.create(g.toModelBytes('gemm'), { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
  const feeds = { a: new ort.Tensor('float32', Float32Array.from({ length: m * k }, () => random() - 0.5), [m, k]) };
  for (let i = 0; i < 2; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((x, y) => x - y);
  const flops = 2 * m * k * n;
  return { gflops: flops / (times[7] / 1000) / 1e9, bestGflops: flops / (times[0] / 1000) / 1e9 };
}

export async function measureMatmulRates(threads: number): Promise<MatmulRate[]> {
  const shapes: Array<[number, number, number]> = [[512, 768, 3072], [512, 3072, 768], [2048, 2048, 2048]];
  const rates: MatmulRate[] = [];
  for (const [m, k, n] of shapes) rates.push({ m, k, n, ...(await gemmRate(m, k, n, threads)) });
  return rates;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureMatmulRates(Number(process.argv[2] ?? 2))));
}
