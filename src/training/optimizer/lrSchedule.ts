// Learning-rate schedules as Hugging Face transformers defines them
// (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup,
// get_cosine_schedule_with_warmup): the multiplier for optimizer update `step`
// (0-based, the scheduler's counter before it is advanced).

export const LR_SCHEDULERS = ['constant', 'linear', 'cosine'] as const;
export type LrSchedulerName = (typeof LR_SCHEDULERS)[number];

export interface LrSchedule {
  name: LrSchedulerName;
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
}

export function learningRateAt(schedule: LrSchedule, step: number): number {
  const { name, baseLr, warmupSteps, totalSteps } = schedule;
  if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = (step - warmupSteps) / decaySteps;
  switch (name) {
    case 'constant':
      return baseLr;
    case 'linear':
      return baseLr * Math.max(0, (totalSteps - step) / decaySteps);
    case 'cosine':
      return baseLr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}
