// Gradient accumulation: the gradients of `steps` micro-batches are averaged before one
// optimizer update, so `batch_size * gradient_accumulation_steps` is the effective batch.
// Each micro-batch loss is already a mean over its tokens, as in HF Trainer.

export class GradientAccumulator {
  private sums = new Map<string, Float64Array>();
  private count = 0;
  private lossSum = 0;
  private tokenSum = 0;

  add(grads: Map<string, Float32Array | Float64Array>, loss: number, tokens: number): void {
    for (const [name, g] of grads) {
      let sum = this.sums.get(name);
      if (!sum) {
        sum = new Float64Array(g.length);
        this.sums.set(name, sum);
      }
      for (let i = 0; i < g.length; i++) sum[i] += g[i];
    }
    this.count += 1;
    this.lossSum += loss;
    this.tokenSum += tokens;
  }

  get microBatches(): number {
    return this.count;
  }

  /** The averaged gradients (float32, like the parameters), mean loss and token count; then resets. */
  take(): { grads: Map<string, Float32Array>; loss: number; tokens: number } {
    if (this.count === 0) throw new Error('GradientAccumulator: no micro-batch was added');
    const grads = new Map<string, Float32Array>();
    for (const [name, sum] of this.sums) {
      const g = new Float32Array(sum.length);
      for (let i = 0; i < sum.length; i++) g[i] = sum[i] / this.count;
      grads.set(name, g);
    }
    const result = { grads, loss: this.lossSum / this.count, tokens: this.tokenSum };
    this.sums = new Map();
    this.count = 0;
    this.lossSum = 0;
    this.tokenSum = 0;
    return result;
  }
}
