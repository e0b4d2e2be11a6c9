// Trainer benchmark: tokens/s and peak RSS of the ONNX LoRA train step (forward + backward)
// for the tiny model and a GPT-2-small-shaped one, beside the same model and LoRA in PyTorch,
// plus the machine's matmul rate and the fraction of it the train step achieves.
//
// usage: npm run bench:trainer [-- --runs 3 --threads N --steps 5 --cases tiny,gpt2-small]
// Each case runs in its own process (its peak RSS is its own), ONNX and torch runs
// alternate so both see the same load on a shared machine; medians of --runs are reported,
// each run's figure itself being the median of its timed steps. "best" columns use each
// side's fastest step: the closest estimate of an unloaded machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { benchCases, trainStepMatmulFlops } from './benchCases.ts';
import { measureMatmulRates } from './matmulRate.ts';

const PYTHON = '/usr/bin/python3'; // Debian's python3-torch; not the first python3 on PATH
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(availableParallelism()) },
    steps: { type: 'string', default: '5' },
    cases: { type: 'string', default: benchCases().map((c) => c.name).join(',') },
  },
});
const runs = Number(args.runs), threads = Number(args.threads), steps = Number(args.steps);
const selected = benchCases().filter((c) => args.cases!.split(',').includes(c.name));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
type RunResult = Record<string, number>;

function runJson(command: string, argv: string[]): RunResult {
  const out = execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

function torchStatus(): { available: boolean; note: string } {
  if (!existsSync(PYTHON)) return { available: false, note: `${PYTHON} not found (torch column skipped)` };
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { available: false, note: 'PyTorch not installed: `apt-get install -y python3-torch libopenblas0-pthread` (torch column skipped)' };
  }
  const blas = spawnSync('readlink', ['-f', '/etc/alternatives/libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' }).stdout.trim();
  const note = `torch ${probe.stdout.trim()} (${PYTHON}) with BLAS ${blas || 'unknown'}` +
    (blas.includes('openblas') ? '' : ' — WARNING: not OpenBLAS; install libopenblas0-pthread, the reference BLAS is ~25x slower');
  return { available: true, note };
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} logical CPUs; node ${process.version}; onnxruntime-node ${ort.env.versions.common}; threads ${threads}; ${runs} runs x ${steps} timed steps (after 2 warm-up)`);
const torch = torchStatus();
console.log(`torch: ${torch.note}`);

const rates = await measureMatmulRates(threads);
const matmulMedian = Math.max(...rates.map((r) => r.gflops));
const matmulBest = Math.max(...rates.map((r) => r.bestGflops));
console.log(`matmul rate (onnxruntime Gemm, fp32, GFLOP/s median / best): ${rates.map((r) => `${r.m}x${r.k}x${r.n} ${r.gflops.toFixed(0)} / ${r.bestGflops.toFixed(0)}`).join(', ')}`);

const header = '| case | train-step GFLOP | ONNX tokens/s (best) | ONNX GFLOP/s (best) | % of Gemm rate (best/best) | ONNX peak RSS MiB | session build s | torch tokens/s (best) | torch peak RSS MiB | ONNX / torch (best/best) |';
const rows: string[] = [];
for (const c of selected) {
  const onnx: RunResult[] = [], pt: RunResult[] = [];
  for (let r = 0; r < runs; r++) {
    onnx.push(runJson(process.execPath, ['--import', 'tsx', 'bench/trainer/onnxCase.ts', c.name, String(threads), String(steps)]));
    if (torch.available) pt.push(runJson(PYTHON, ['bench/trainer/torch_gpt2_lora.py', JSON.stringify(c), String(threads), String(steps)]));
  }
  const m = (rs: RunResult[], key: string) => median(rs.map((x) => x[key]));
  const tokens = m(onnx, 'tokensPerSecond'), bestTokens = Math.max(...onnx.map((x) => x.bestTokensPerSecond));
  const gflops = m(onnx, 'gflops'), bestGflops = Math.max(...onnx.map((x) => x.bestGflops));
  let torchCols = 'skipped | skipped | skipped';
  if (torch.available) {
    const ptTokens = m(pt, 'tokensPerSecond'), ptBest = Math.max(...pt.map((x) => x.bestTokensPerSecond));
    torchCols = `${ptTokens.toFixed(0)} (${ptBest.toFixed(0)}) | ${m(pt, 'peakRssMiB').toFixed(0)} | ${(tokens / ptTokens).toFixed(2)}x (${(bestTokens / ptBest).toFixed(2)}x)`;
  }
  const shape = `L${c.config.nLayer} C${c.config.nEmbd} V${c.config.vocabSize}, B${c.batchSize} T${c.seqLen}, r${c.lora.rank} ${c.lora.targetModules.join('+')}`;
  const row = `| ${c.name} (${shape}) | ${(trainStepMatmulFlops(c) / 1e9).toFixed(1)} | ${tokens.toFixed(0)} (${bestTokens.toFixed(0)}) | ${gflops.toFixed(0)} (${bestGflops.toFixed(0)}) | ${((100 * gflops) / matmulMedian).toFixed(0)}% (${((100 * bestGflops) / matmulBest).toFixed(0)}%) | ${m(onnx, 'peakRssMiB').toFixed(0)} | ${m(onnx, 'createSeconds').toFixed(1)} | ${torchCols} |`;
  console.log(row);
  rows.push(row);
}
console.log(`\n${header}\n${header.replace(/[^|]+/g, '---')}`);
for (const row of rows) console.log(row);
