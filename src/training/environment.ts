// What a run ran on, recorded in its start event: enough to compare runs across machines.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import type { EnvironmentDoc } from '../store/documents.ts';

function onnxruntimeVersion(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** GPU name and memory from nvidia-smi when the provider is CUDA and the tool exists. */
function nvidiaGpu(): { gpuModel: string; gpuMemoryBytes: number } | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [name, mib] = out.trim().split('\n')[0].split(',').map((s) => s.trim());
    return { gpuModel: name, gpuMemoryBytes: Number(mib) * 1024 * 1024 };
  } catch {
    return null;
  }
}

export function describeEnvironment(executionProvider: 'cpu' | 'cuda'): EnvironmentDoc {
  const cpus = os.cpus();
  const gpu = executionProvider === 'cuda' ? nvidiaGpu() : null;
  return {
    node: process.version,
    onnxruntime: onnxruntimeVersion(),
    executionProvider,
    cpu: cpus[0]?.model?.trim(),
    cpuCount: os.availableParallelism?.() ?? cpus.length,
    gpuModel: gpu?.gpuModel ?? null,
    gpuMemoryBytes: gpu?.gpuMemoryBytes ?? null,
    host: os.hostname(),
    platform: `${process.platform}-${process.arch}`,
  };
}
