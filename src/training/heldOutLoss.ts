// Mean next-token loss over the held-out sequences. The forward graph has a fixed batch
// size, so the last batch is filled with rows whose targets are all -100 (ignored), and
// batch means are weighted by their counted tokens to give the exact overall mean.
import type { ForwardModel } from './model/index.ts';
import { makeBatch } from './dataset.ts';

const IGNORED_TARGET = -100;

export async function heldOutLoss(model: ForwardModel, sequences: Int32Array[], batchSize: number, seqLen: number, lora: Map<string, Float32Array>): Promise<number> {
  let weighted = 0;
  let tokens = 0;
  for (let start = 0; start < sequences.length; start += batchSize) {
    const rows = sequences.slice(start, start + batchSize);
    const real = rows.length;
    while (rows.length < batchSize) rows.push(rows[0]);
    const { inputIds, targets } = makeBatch(rows, seqLen);
    targets.fill(IGNORED_TARGET, real * seqLen);
    const loss = await model.loss({ inputIds, targets, lora });
    weighted += loss * real * seqLen;
    tokens += real * seqLen;
  }
  return weighted / tokens;
}
