// `lora-registry generate --adapter DIR --prompt TEXT`: continue a prompt with a base model
// plus a PEFT LoRA adapter (greedy by default, or temperature / top-k sampling).
import path from 'node:path';
import { loadBaseModel } from '../../training/baseModel.ts';
import { generate } from '../../training/generation.ts';
import { readPeftAdapter, checkAdapterShapes } from '../../training/peft.ts';
import { loraTensorShapes } from '../../training/model/index.ts';
import { parseCommandLine } from '../command-line.ts';

export const summary = 'Generate text from a base model with a LoRA adapter';

const usage = `Usage: lora-registry generate --prompt TEXT [--adapter DIR] [--base-model DIR] [options]

  --adapter DIR         PEFT adapter directory (adapter_config.json + adapter_model.safetensors)
  --base-model DIR      base model in HF GPT-2 layout (default: the adapter's base_model_name_or_path)
  --prompt TEXT         text to continue
  --max-new-tokens N    default 40
  --temperature T       0 = greedy (default); > 0 samples
  --top-k K             sample among the K most likely tokens (default 0 = all)
  --seed N              sampling seed (default 0)
  --threads N           onnxruntime threads`;

export async function run(argv: string[]): Promise<number> {
  const values = parseCommandLine(argv, {
    adapter: { type: 'string' }, 'base-model': { type: 'string' }, prompt: { type: 'string' }, 'max-new-tokens': { type: 'string', default: '40' },
    temperature: { type: 'string', default: '0' }, 'top-k': { type: 'string', default: '0' }, seed: { type: 'string', default: '0' }, threads: { type: 'string' },
  }, usage);
  if (typeof values === 'number') return values;
  const numbers: Record<string, number> = {};
  for (const [key, min] of [['max-new-tokens', 1], ['temperature', 0], ['top-k', 0], ['seed', 0], ['threads', 1]] as const) {
    if (values[key] === undefined) continue;
    const n = Number(values[key]);
    if (!Number.isFinite(n) || n < min || (key !== 'temperature' && !Number.isInteger(n))) {
      console.error(`--${key}: ${JSON.stringify(values[key])} is not allowed; expected ${key === 'temperature' ? 'a number' : 'an integer'} >= ${min}`);
      return 2;
    }
    numbers[key] = n;
  }
  if (values.prompt === undefined) {
    console.error(`--prompt is required\n\n${usage}`);
    return 2;
  }
  const adapter = values.adapter ? readPeftAdapter(path.resolve(values.adapter)) : null;
  const baseDir = values['base-model'] ?? adapter?.baseModelNameOrPath;
  if (!baseDir) {
    console.error('--base-model is required when the adapter does not name base_model_name_or_path');
    return 2;
  }
  const base = loadBaseModel(path.resolve(baseDir));
  if (adapter) checkAdapterShapes(adapter.tensors, loraTensorShapes(base.config, adapter.spec), `adapter ${values.adapter}`);
  process.stdout.write(values.prompt);
  for await (const piece of generate(base, adapter, {
    prompt: values.prompt, maxNewTokens: numbers['max-new-tokens'], temperature: numbers.temperature, topK: numbers['top-k'], seed: numbers.seed, threads: numbers.threads,
  })) process.stdout.write(piece);
  process.stdout.write('\n');
  return 0;
}
