// Trainer benchmark: tokens/s and peak RSS of the ONNX LoRA train step (forward + backward)
// for the tiny model and a GPT-2-small-shaped one, beside the same model and LoRA in PyTorch,
// plus the machine's matmul rate and the fraction of it the train step achieves.
//
// usage: npm run bench:trainer [-- --runs 3 --threads N --steps 5 --cases tiny,gpt2-small]
// Each case runs in its own process (its peak RSS is its own); the median of --runs is reported.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { benchCases } from './benchCases.ts';
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

function runJson(command: string, argv: string[]): Record<string, unknown> {
  const out = execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

function torchStatus(): { available: boolean; note: string } {
  if (!existsSync(PYTHON)) return { available: false, note: `${PYTHON} not found` };
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { available: false, note: 'PyTorch not installed: `apt-get install -y python3-torch libopenblas0-pthread` (torch column skipped)' };
  }
  const blas = spawnSync('readlink', ['-f', '/etc/alternatives/libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' }).stdout.trim();
  const note = `torch ${probe.stdout.trim()} with BLAS ${blas || 'unknown'}` +
    (blas.includes('openblas') ? '' : ' — WARNING: not OpenBLAS; install libopenblas0-pthread, the reference BLAS is ~25x slower');
  return { available: true, note };
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} logical CPUs; node ${process.version}; onnxruntime-node ${ort.env.versions.common}; threads ${threads}; ${runs} runs x ${steps} timed steps (after 2 warm-up), medians`);
const torch = torchStatus();
console.log(`torch: ${torch.note}`);

const rates = await measureMatmulRates(threads);
const peakMatmul = Math.max(...rates.map((r) => r.gflops));
console.log(`matmul rate (onnxruntime Gemm, fp32): ${rates.map((r) => `${r.m}x${r.k}x${r.n} ${r.gflops.toFixed(1)}`).join(', ')} GFLOP/s; best ${peakMatmul.toFixed(1)}`);

const rows: string[] = [];
for (const c of selected) {
  const onnx = Array.from({ length: runs }, () => runJson(process.execPath, ['--import', 'tsx', 'bench/trainer/onnxCase.ts', c.name, String(threads), String(steps)]));
  const tokens = median(onnx.map((r) => r.tokensPerSecond as number));
  const gflops = median(onnx.map((r) => r.gflops as number));
  const rss = median(onnx.map((r) => r.peakRssMiB as number));
  const create = median(onnx.map((r) => r.createSeconds as number));
  let torchCols = 'skipped | skipped | skipped';
  if (torch.available) {
    const pt = Array.from({ length: runs }, () => runJson(PYTHON, ['bench/trainer/torch_gpt2_lora.py', JSON.stringify(c), String(threads), String(steps)]));
    const ptTokens = median(pt.map((r) => r.tokensPerSecond as number));
    torchCols = `${ptTokens.toFixed(0)} | ${median(pt.map((r) => r.peakRssMiB as number)).toFixed(0)} | ${(tokens / ptTokens).toFixed(2)}x`;
  }
  const row = `| ${c.name} (L${c.config.nLayer} C${c.config.nEmbd} V${c.config.vocabSize}, B${c.batchSize} T${c.seqLen}, r${c.lora.rank} ${c.lora.targetModules.join('+')}) | ${tokens.toFixed(0)} | ${rss.toFixed(0)} | ${create.toFixed(1)} | ${gflops.toFixed(1)} (${((100 * gflops) / peakMatmul).toFixed(0)}%) | ${torchCols} |`;
  console.log(row);
  rows.push(row);
}
console.log('\n| case | ONNX tokens/s | ONNX peak RSS MiB | session build s | ONNX matmul GFLOP/s (% of best Gemm) | torch tokens/s | torch peak RSS MiB | ONNX / torch |');
console.log('|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
