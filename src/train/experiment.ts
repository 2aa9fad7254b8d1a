// The paper's central claim at small scale (`resnext experiment`): families of ResNeXts for 28x28
// images that differ only in cardinality and bottleneck width at equal cost (Table 3's shape), or
// in how they spend twice a base model's cost (Table 4's), trained with one recipe on paired seeds
// (same seed, so the same data order, per seed across arms). Each run is an ordinary training run
// in its own folder: an interrupted experiment resumes, a finished run is never redone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSplits } from '../data/dataset';
import type { ModelVariant } from '../models/variants';
import { variantStats } from '../summary/stats';
import type { EpochRecord } from './plot';
import { readLog, type TrainConfig, type TrainEvents, runFiles, train } from './trainer';

/** One arm of a family: a model and how the paper names its setting. */
export interface Arm {
  /** Short label, also the arm's folder name: '4x24d', 'deeper-1x64d', … */
  label: string;
  cardinality: number;
  /** C×d in the paper's notation (d = widthPerGroup: the width per group at the paper's 64-wide template). */
  setting: string;
  variant: ModelVariant;
  /** The paper's closest setting and its ImageNet top-1 error (%), for the table. */
  paper: { setting: string; top1Error: number };
}

/** A family of arms and the complexity band its arms must keep. */
export interface Family {
  name: 'cardinality' | 'complexity';
  description: string;
  arms: Arm[];
  /** Indices of the arms whose parameters and mult-adds must lie within `band` of the first of them. */
  matched: number[];
  /** Relative band, 0.03 = ±3%. */
  band: number;
  /** The arm the paired differences are taken against. */
  reference: number;
}

/** Parameters and mult-adds per image of an arm at the experiment's input size. */
export interface ArmCost {
  label: string;
  params: number;
  multAdds: number;
}

const INPUT: [number, number, number] = [1, 28, 28];

/**
 * An arm: the paper's bottleneck template at a quarter of its width (a 3x3 stem of 16 channels,
 * three stages of outputs 64/128/256, stride 2 on the 3x3 conv of stages 2 and 3), C groups of d
 * in the paper's notation — so the grouped conv of stage 1 has C groups of ⌊16·d/64⌋ channels,
 * doubling per stage. Two blocks per stage unless `layers` says otherwise.
 */
function arm(label: string, groups: number, widthPerGroup: number, paper: Arm['paper'], layers = [2, 2, 2]): Arm {
  const basePlanes = 16;
  const name = `exp_${label}`;
  const variant: ModelVariant = {
    name,
    family: 'cifar',
    description: `experiment arm ${label}: ${groups}x${widthPerGroup}d at quarter width, blocks ${layers.join('/')}`,
    layers,
    block: 'bottleneck',
    groups,
    widthPerGroup,
    inputSize: INPUT,
    numClasses: 10,
    basePlanes,
  };
  return { label, cardinality: groups, setting: `${groups}x${widthPerGroup}d`, variant, paper };
}

/** Table 3's settings 1x64d, 2x40d, 4x24d, 8x14d at quarter width: cardinality 1 to 8 at one cost. */
export function cardinalityFamily(): Family {
  return {
    name: 'cardinality',
    description:
      "cardinality vs width at equal parameters and mult-adds (the paper's Table 3 settings, at quarter width)",
    arms: [
      arm('1x64d', 1, 64, { setting: 'ResNet-50 1x64d', top1Error: 23.9 }),
      arm('2x40d', 2, 40, { setting: 'ResNeXt-50 2x40d', top1Error: 23.0 }),
      arm('4x24d', 4, 24, { setting: 'ResNeXt-50 4x24d', top1Error: 22.6 }),
      arm('8x14d', 8, 14, { setting: 'ResNeXt-50 8x14d', top1Error: 22.3 }),
    ],
    matched: [0, 1, 2, 3],
    band: 0.03,
    reference: 0,
  };
}

/**
 * Table 4's shape: a base model (1x64d, as above) and three ways to spend about twice its cost —
 * deeper (4 blocks per stage), wider (1x100d) and more groups (2x64d), as the paper's rows.
 */
export function complexityFamily(): Family {
  return {
    name: 'complexity',
    description: "deeper vs wider vs more groups at about twice the cost (the paper's Table 4, at quarter width)",
    arms: [
      arm('base-1x64d', 1, 64, { setting: 'ResNet-101 1x64d', top1Error: 22.0 }),
      arm('deeper-1x64d', 1, 64, { setting: 'ResNet-200 1x64d', top1Error: 21.7 }, [4, 4, 4]),
      arm('wider-1x100d', 1, 100, { setting: 'ResNet-101 1x100d', top1Error: 21.3 }),
      arm('groups-2x64d', 2, 64, { setting: 'ResNeXt-101 2x64d', top1Error: 20.7 }),
    ],
    matched: [1, 2, 3],
    band: 0.05,
    reference: 0,
  };
}

/** The families by name, for the CLI. */
export const FAMILIES = { cardinality: cardinalityFamily, complexity: complexityFamily } as const;

/** Parameters and mult-adds per image of every arm at `input` [C, H, W] (on the meta backend: no arithmetic). */
export function familyCosts(family: Family, input: readonly number[] = INPUT, numClasses = 10): ArmCost[] {
  return family.arms.map((a) => {
    const t = variantStats(a.variant, { inChannels: input[0], numClasses }, input);
    return { label: a.label, params: t.params, multAdds: t.multAddsPerImage };
  });
}

/** Refuses a family whose matched arms differ by more than its band (in parameters or mult-adds). */
export function checkFamily(family: Family, costs: readonly ArmCost[] = familyCosts(family)): void {
  const first = costs[family.matched[0]];
  for (const i of family.matched) {
    const c = costs[i];
    for (const [what, v, ref] of [
      ['parameters', c.params, first.params],
      ['mult-adds', c.multAdds, first.multAdds],
    ] as const) {
      const off = v / ref - 1;
      if (Math.abs(off) > family.band) {
        throw new Error(
          `experiment ${family.name}: arm ${c.label} has ${v.toLocaleString('en-US')} ${what}, ` +
            `${(100 * off).toFixed(1)}% from ${first.label}'s ${ref.toLocaleString('en-US')}; ` +
            `the arms must lie within ±${100 * family.band}%`,
        );
      }
    }
  }
}

/** How every arm is trained: one recipe for all. */
export interface ExperimentOptions {
  data: DatasetSplits;
  /** The --data spec, recorded in every run. */
  dataSpec: string;
  epochs: number;
  seeds: number[];
  batchSize: number;
  lr: number;
  /** Linear warm-up of the learning rate over this many epochs (fractions allowed). */
  warmupEpochs: number;
  limitTrain: number;
  limitTest: number;
  outDir: string;
  /** Called before each run, with whether it is skipped (finished), resumed or started. */
  onRun?: (info: {
    arm: string;
    seed: number;
    index: number;
    total: number;
    status: 'done' | 'resume' | 'start';
  }) => void;
  events?: TrainEvents;
  shouldStop?: () => boolean;
}

/** One finished run's figures. */
export interface RunResult {
  arm: string;
  setting: string;
  cardinality: number;
  seed: number;
  epochs: { epoch: number; trainLoss: number; trainTop1: number; testTop1: number }[];
}

/** The folder of one arm's run for one seed. */
export function runDir(outDir: string, armLabel: string, seed: number): string {
  return join(outDir, 'runs', armLabel, `seed-${seed}`);
}

/** The training recipe every arm shares. */
export function armConfig(a: Arm, seed: number, o: Omit<ExperimentOptions, 'data' | 'outDir'>): TrainConfig {
  return {
    model: a.variant.name,
    data: o.dataSpec,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    optimizer: 'sgd',
    momentum: 0.9,
    nesterov: true,
    weightDecay: 5e-4,
    schedule: 'cosine',
    warmupEpochs: o.warmupEpochs,
    milestones: [],
    gamma: 0.1,
    labelSmoothing: 0,
    seed,
    augment: true,
    limitTrain: o.limitTrain,
    limitTest: o.limitTest,
    prefetch: 2,
  };
}

/**
 * Trains every arm for every seed (seed-major, so an interrupted experiment has whole seeds done),
 * resuming an interrupted run and skipping finished ones. Resolves with all results, or null when
 * `shouldStop` ended it early (every run so far is checkpointed).
 */
export async function runExperiment(family: Family, o: ExperimentOptions): Promise<RunResult[] | null> {
  checkFamily(family, familyCosts(family, o.data.train.shape, o.data.train.classNames.length));
  const results: RunResult[] = [];
  const total = family.arms.length * o.seeds.length;
  let index = 0;
  for (const seed of o.seeds) {
    for (const a of family.arms) {
      index++;
      const dir = runDir(o.outDir, a.label, seed);
      const files = runFiles(dir);
      const hasCheckpoint = existsSync(files.checkpoint);
      const cfg = armConfig(a, seed, o);
      const status = !hasCheckpoint ? 'start' : readLog(files.log).length >= o.epochs ? 'done' : 'resume';
      o.onRun?.({ arm: a.label, seed, index, total, status });
      const { records, stopped } = await train(cfg, o.data, dir, {
        resume: hasCheckpoint,
        overwrite: !hasCheckpoint,
        variant: a.variant,
        events: o.events,
        shouldStop: o.shouldStop,
      });
      if (stopped) return null;
      results.push(runResult(a, seed, records));
    }
  }
  return results;
}

function runResult(a: Arm, seed: number, records: readonly EpochRecord[]): RunResult {
  return {
    arm: a.label,
    setting: a.setting,
    cardinality: a.cardinality,
    seed,
    epochs: records.map((r) => ({
      epoch: r.epoch,
      trainLoss: r.trainLoss,
      trainTop1: r.trainAcc,
      testTop1: r.testTop1,
    })),
  };
}
