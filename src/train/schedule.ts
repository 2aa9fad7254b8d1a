// Learning-rate schedules as pure functions of the step (so resuming needs only the step count):
// constant, step, multi-step and cosine, each with an optional linear warm-up.

/** A schedule's shape. */
export interface ScheduleOptions {
  kind: 'constant' | 'step' | 'multistep' | 'cosine';
  baseLr: number;
  stepsPerEpoch: number;
  totalEpochs: number;
  /** Linear warm-up from ~0 to baseLr over this many epochs (may be fractional). */
  warmupEpochs?: number;
  /** 'step': decay every stepEpochs epochs by gamma. */
  stepEpochs?: number;
  /** 'multistep': decay by gamma at each of these epochs. */
  milestones?: number[];
  gamma?: number;
  /** 'cosine': the floor the rate decays to. */
  minLr?: number;
}

/** The learning rate for optimizer step `step` (0-based). */
export function learningRate(o: ScheduleOptions, step: number): number {
  const warmup = Math.round((o.warmupEpochs ?? 0) * o.stepsPerEpoch);
  if (step < warmup) return (o.baseLr * (step + 1)) / warmup;
  const epoch = Math.floor(step / o.stepsPerEpoch),
    gamma = o.gamma ?? 0.1;
  switch (o.kind) {
    case 'constant':
      return o.baseLr;
    case 'step':
      return o.baseLr * gamma ** Math.floor(epoch / (o.stepEpochs ?? 30));
    case 'multistep':
      return o.baseLr * gamma ** (o.milestones ?? []).filter((m) => epoch >= m).length;
    case 'cosine': {
      const total = o.totalEpochs * o.stepsPerEpoch - warmup,
        t = Math.min(step - warmup, total);
      const min = o.minLr ?? 0;
      return min + 0.5 * (o.baseLr - min) * (1 + Math.cos((Math.PI * t) / Math.max(total, 1)));
    }
  }
}
