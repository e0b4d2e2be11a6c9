// onnxruntime-node sessions for the GPT-2 graphs: execution provider choice and the clear
// failure when CUDA is asked for but onnxruntime-node's CUDA binaries are not installed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OnnxGraph } from './onnxGraph.ts';

export type ExecutionProvider = 'cpu' | 'cuda';

const CUDA_PROVIDER_LIBRARY = 'libonnxruntime_providers_cuda.so';

/** Directory holding onnxruntime-node's native binding for this platform. */
function ortBinaryDirectory(): string | null {
  const packageRoot = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = join(packageRoot, 'bin');
  if (!existsSync(bin)) return null;
  for (const napi of readdirSync(bin)) {
    const dir = join(bin, napi, process.platform, process.arch);
    if (existsSync(dir)) return dir;
  }
  return null;
}

/** Why CUDA cannot be used here, or null when the binding and the CUDA provider library are present. */
export function cudaUnavailableReason(): string | null {
  const backends = ort.listSupportedBackends().map((b) => b.name);
  const dir = ortBinaryDirectory();
  const hasLibrary = dir !== null && existsSync(join(dir, CUDA_PROVIDER_LIBRARY));
  if (backends.includes('cuda') && hasLibrary) return null;
  return `execution provider 'cuda' is not available: onnxruntime-node ${ort.env.versions.common} has ` +
    (backends.includes('cuda') ? `no ${CUDA_PROVIDER_LIBRARY} in ${dir ?? 'its bin directory'}` : `no CUDA backend for ${process.platform}/${process.arch}`) +
    `. Install its CUDA 12 binaries with \`npm install onnxruntime-node --onnxruntime-node-install=cuda12\` ` +
    `(this project's .npmrc skips them by default), with the CUDA 12 runtime and cuDNN 9 on the library path; or use device 'cpu'.`;
}

export interface SessionSettings {
  executionProvider?: ExecutionProvider;
  threads?: number;
}

/**
 * Physical cores (distinct physical id / core id pairs in /proc/cpuinfo): matmul-bound work
 * gains nothing from SMT siblings. Capped by what this process may use; falls back to the
 * logical count where /proc/cpuinfo is unavailable.
 */
export function defaultThreads(): number {
  const logical = availableParallelism();
  try {
    const cores = new Set<string>();
    for (const block of readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')) {
      const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
      const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
      if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`);
    }
    return cores.size > 0 ? Math.min(cores.size, logical) : logical;
  } catch {
    return logical;
  }
}

/**
 * The model goes through a temporary directory (graph + external weights file) rather than
 * an in-memory protobuf: onnxruntime maps the weights instead of copying a serialized
 * copy of them, which saves seconds and hundreds of MB at GPT-2-small size.
 */
export async function createSession(graph: OnnxGraph, graphName: string, s: SessionSettings): Promise<{ session: ort.InferenceSession; executionProvider: ExecutionProvider }> {
  const executionProvider = s.executionProvider ?? 'cpu';
  if (executionProvider !== 'cpu' && executionProvider !== 'cuda') {
    throw new Error(`executionProvider is ${JSON.stringify(executionProvider)}; allowed: 'cpu', 'cuda'`);
  }
  const threads = s.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads <= 0) throw new Error(`threads is ${JSON.stringify(threads)}; it must be a positive integer`);
  if (executionProvider === 'cuda') {
    const reason = cudaUnavailableReason();
    if (reason) throw new Error(reason);
  }
  const dir = mkdtempSync(join(tmpdir(), 'lora-registry-onnx-'));
  try {
    const modelPath = graph.writeModelFiles(dir, graphName);
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [executionProvider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Idle pool threads sleep instead of spinning: on a machine shared with other work,
      // spinning steals the cores the other pool thread needs (measured: steps ~15% faster).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    try {
      return { session: await ort.InferenceSession.create(modelPath, options), executionProvider };
    } catch (error) {
      if (executionProvider !== 'cuda') throw error;
      // The provider library is there but could not start (driver, CUDA runtime, cuDNN).
      throw new Error(`execution provider 'cuda' failed to start: ${(error as Error).message}. ` +
        `It needs an NVIDIA driver, the CUDA 12 runtime and cuDNN 9 on the library path (LD_LIBRARY_PATH); or use device 'cpu'.`, { cause: error });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
