// `device` (auto | cpu | cuda) -> the onnxruntime execution provider. `cuda` fails with
// the model layer's explanation when the CUDA binaries are absent; `auto` uses CUDA when
// it is there and otherwise CPU, returning a note saying why.
import { cudaUnavailableReason, type ExecutionProvider } from './model/index.ts';
import type { DeviceName } from './config/trainConfig.ts';
import { TrainingError } from './trainingError.ts';

export function chooseExecutionProvider(device: DeviceName): { provider: ExecutionProvider; note: string | null } {
  if (device === 'cpu') return { provider: 'cpu', note: null };
  const reason = cudaUnavailableReason();
  if (device === 'cuda') {
    if (reason) throw new TrainingError('CONFIG_ERROR', `device: "cuda" is not usable here: ${reason}`);
    return { provider: 'cuda', note: null };
  }
  return reason ? { provider: 'cpu', note: `device auto: using CPU because ${reason}` } : { provider: 'cuda', note: 'device auto: using CUDA' };
}
