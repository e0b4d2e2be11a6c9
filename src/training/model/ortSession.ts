// onnxruntime-node sessions for the GPT-2 graphs: execution provider choice and the clear
// failure when CUDA is asked for but onnxruntime-node's CUDA binaries are not installed.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

export function defaultThreads(): number {
  return availableParallelism();
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
    const session = await ort.InferenceSession.create(modelPath, {
      executionProviders: [executionProvider],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return { session, executionProvider };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
