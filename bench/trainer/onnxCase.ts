// One benchmark case in its own process (so its peak RSS is its own): build the train step,
// warm up, time steps, print one JSON line.
import { performance } from 'node:perf_hooks';
import { TrainStep, initLoraTensors } from '../../src/training/model/index.ts';
import { baseWeightShapes } from '../../src/training/model/baseWeights.ts';
import { benchCases, trainStepMatmulFlops } from './benchCases.ts';
import { Rng } from '../../src/training/rng.ts';

const [caseName, threadsArg, stepsArg] = process.argv.slice(2);
const c = benchCases().find((b) => b.name === caseName);
if (!c) throw new Error(`unknown case ${caseName}; known: ${benchCases().map((b) => b.name).join(', ')}`);
const threads = Number(threadsArg), steps = Number(stepsArg);

const rng = Rng.fromSeed(1);
const random = () => rng.nextFloat();
const weights = new Map<string, Float32Array>();
for (const { name, shape } of baseWeightShapes(c.config)) {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const gain = /ln_\w+\.weight$/.test(name) ? 1 : 0;
  for (let i = 0; i < values.length; i++) values[i] = gain + (random() - 0.5) * 0.04;
  weights.set(name, values);
}
const lora = initLoraTensors(c.config, c.lora, random);
const N = c.batchSize * c.seqLen;
const inputIds = Int32Array.from({ length: N }, () => Math.floor(random() * c.config.vocabSize));
const targets = Int32Array.from({ length: N }, () => Math.floor(random() * c.config.vocabSize));

const t0 = performance.now();
const step = await TrainStep.create({ config: c.config, weights, lora: c.lora, batchSize: c.batchSize, seqLen: c.seqLen, threads });
weights.clear(); // the session holds the weights now
const createSeconds = (performance.now() - t0) / 1000;
for (let i = 0; i < 2; i++) await step.run({ inputIds, targets, lora });
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const start = performance.now();
  await step.run({ inputIds, targets, lora });
  times.push((performance.now() - start) / 1000);
}
times.sort((a, b) => a - b);
const stepSeconds = times[Math.floor(times.length / 2)];
const bestStepSeconds = times[0];
console.log(JSON.stringify({
  case: c.name, threads, steps, createSeconds, stepSeconds, bestStepSeconds,
  tokensPerSecond: N / stepSeconds,
  bestTokensPerSecond: N / bestStepSeconds,
  gflops: trainStepMatmulFlops(c) / stepSeconds / 1e9,
  bestGflops: trainStepMatmulFlops(c) / bestStepSeconds / 1e9,
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
}));
await step.release();
