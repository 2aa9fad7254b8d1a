// A training run's set-up, wherever JavaScript runs: from the hyperparameters and the training
// images, the model, optimizer, normalisation, augmentation, batching, learning-rate schedule and
// what the weights record. `resnext train` (trainer.ts) and the page's worker both build their runs
// here, so the page trains exactly as the command it shows.
import type { BatchOptions } from '../data/batches';
import { channelStats, type ImageDataset } from '../data/dataset';
import { type BatchTransform, evalTransform } from '../data/transforms';
import type { WeightsUsage } from '../io/usage';
import { buildModel } from '../models/registry';
import type { ModelVariant } from '../models/variants';
import type { ImageClassifier } from '../nn/classifier';
import { AdamW, type Optimizer, SGD } from './optim';
import type { ScheduleOptions } from './schedule';

/** The hyperparameters of a run (what `resnext train`'s flags set). */
export interface RunRecipe {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adamw';
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: ScheduleOptions['kind'];
  warmupEpochs: number;
  milestones: number[];
  gamma: number;
  labelSmoothing: number;
  seed: number;
  augment: boolean;
}

/** `resnext train`'s defaults (its flags show them; the page starts from them). */
export const TRAIN_DEFAULTS: Readonly<RunRecipe> = {
  epochs: 10,
  batchSize: 128,
  lr: 0.1,
  optimizer: 'sgd',
  momentum: 0.9,
  nesterov: false,
  weightDecay: 5e-4,
  schedule: 'cosine',
  warmupEpochs: 0,
  milestones: [],
  gamma: 0.1,
  labelSmoothing: 0,
  seed: 0,
  augment: true,
};

/** What a run is made of, before its first step. */
export interface PreparedRun {
  model: ImageClassifier;
  optimizer: Optimizer;
  /** What model.safetensors (and the checkpoint) record for predict and eval: input, normalisation, class names. */
  usage: WeightsUsage;
  /** Batching of the training images (shuffled, augmented, last partial batch dropped) and of the test images. */
  trainBatches: BatchOptions;
  testBatches: BatchOptions;
  /** The learning-rate schedule, once the number of batches per epoch is known. */
  schedule(stepsPerEpoch: number): ScheduleOptions;
}

/** Builds `variant` for the training images' shape and classes, and everything its steps need. */
export function prepareRun(recipe: RunRecipe, variant: ModelVariant, trainSet: ImageDataset): PreparedRun {
  const [channels, size] = trainSet.shape;
  const model = buildModel(variant, {
    numClasses: trainSet.classNames.length,
    inChannels: channels,
    seed: recipe.seed,
  });
  const named = model.namedParameters();
  const optimizer: Optimizer =
    recipe.optimizer === 'adamw'
      ? new AdamW(named, { lr: recipe.lr, weightDecay: recipe.weightDecay })
      : new SGD(named, {
          lr: recipe.lr,
          momentum: recipe.momentum,
          nesterov: recipe.nesterov,
          weightDecay: recipe.weightDecay,
        });
  const { mean, std } = channelStats(trainSet);
  const transform: BatchTransform = {
    randomCropPadding: recipe.augment ? Math.round(size / 8) : 0,
    horizontalFlip: recipe.augment,
    mean,
    std,
  };
  const batching = { batchSize: recipe.batchSize, seed: recipe.seed };
  return {
    model,
    optimizer,
    usage: { model: variant.name, classes: [...trainSet.classNames], input: { channels, size, mean, std } },
    trainBatches: { ...batching, shuffle: true, dropLast: true, transform },
    testBatches: { ...batching, shuffle: false, dropLast: false, transform: evalTransform(transform) },
    schedule: (stepsPerEpoch) => ({
      kind: recipe.schedule,
      baseLr: recipe.lr,
      stepsPerEpoch,
      totalEpochs: recipe.epochs,
      warmupEpochs: recipe.warmupEpochs,
      milestones: recipe.milestones,
      gamma: recipe.gamma,
    }),
  };
}
