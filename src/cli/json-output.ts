// The shapes of every command's --json output, as TypeScript interfaces: the documented contract
// for scripts that read them (each command builds its output as one of these).
import type { SummaryData } from '../summary';
import type { PaperTable } from '../models/paper';
import type { Family, ModelName } from '../models/variants';
import type { WeightsUsage } from '../io/usage';
import type { NativeStatus } from '../backend/contract';

export type { ConvParamReport as ConvParamsJson } from '../nn/conv-arithmetic';

/**
 * `resnext bench --json`: timing statistics of repeated steps. `gflopPerImage` counts a multiply-add as 2 FLOPs; a training
 * step counts 3 forward passes (forward, backward-data, backward-weights), the usual convention.
 */
export interface BenchJson {
  model: string;
  backend: string;
  mode: 'inference' | 'train';
  /** What the fused convolutions ran in ('fp32' when training). */
  precision: 'fp32' | 'bf16' | 'int8';
  batch: number;
  input: number[];
  steps: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  imagesPerSecond: number;
  gflopPerImage: number;
  gflopPerSecond: number;
  /** Peak resident memory of the process (MiB), warm-up included. */
  peakRssMiB: number;
  /** Most memory kernel outputs held at once during a timed step (MiB; backends with a buffer pool). */
  peakStepMiB?: number;
  /** With --profile: kernel calls the backend declined and the reference backend ran, by kernel. */
  fallbacks?: Record<string, number>;
}

/** `resnext summary --json`: the table's rows (hidden ones too), torchinfo's totals, and input warnings. */
export type SummaryJson = SummaryData;

/** `resnext models --json`: one entry per registered model. */
export interface ModelsJsonEntry {
  name: ModelName;
  family: Family;
  description: string;
  params: number;
  /** Mult-adds for one image of `inputSize` (PyTorch's count). */
  multAddsPerImage: number;
  /** [C, H, W]. */
  inputSize: number[];
  /** The paper's published error for this architecture, where it reports one. */
  paperError: { metric: 'ImageNet top-1' | 'CIFAR-10'; error: number } | null;
}

/** `resnext paper --json`. */
export interface PaperJson {
  citation: string;
  tables: PaperTable[];
}

/** `resnext eval --json`: accuracies are fractions in [0, 1]; top5 is null for 5 classes or fewer. */
export interface EvalJson {
  images: number;
  /** What the fused convolutions ran in (after any fallback to fp32). */
  precision: 'fp32' | 'bf16' | 'int8';
  loss: number;
  top1: number;
  top5: number | null;
  classes: string[];
  /** Per true class (NaN, printed as null, for a class with no test images). */
  perClassAccuracy: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
}

/** `resnext predict --json`: one entry per image, classes best first (at most the class count). */
export type PredictJson = { image: string; top: { index: number; label: string; probability: number }[] }[];

/** `resnext doctor --json`. */
export interface DoctorJson {
  activeBackend: string;
  backends: string[];
  native: NativeStatus;
  /** The wasm backend: whether it compiles here (SIMD), its threads, and why it has one only. */
  wasm: { available: boolean; reason: string; threads?: number; threadsAvailable?: boolean; threadsReason?: string };
  node: string;
  env: { RESNEXT_BACKEND: string | null; RESNEXT_THREADS: string | null; OMP_NUM_THREADS: string | null };
}

/** `resnext inspect --json`: what a weights file or checkpoint holds. */
export interface InspectJson {
  file: string;
  format: string;
  /** Model tensors (a checkpoint's optimizer state not counted) and their values. */
  tensors: number;
  values: number;
  usage: WeightsUsage;
  /** A training checkpoint's position (null for other files). */
  run: { epoch: number; batch: number; step: number; config: Record<string, unknown> } | null;
  /** Registered models whose every parameter and buffer the file holds with the right shape. */
  fits: ModelName[];
}
