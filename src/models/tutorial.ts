// The tutorial's ResNeXt, attribute for attribute (conv1 Sequential stem, stage1..4, Bottleneck
// with `residual` and `projection`), so its state-dict keys are the tutorial's. Expansion 2.
// `strideAt` picks where a stage's stride sits: '1x1' (the tutorial) or '3x3' (the paper).
import { BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU, AdaptiveAvgPool2d, type LayerOptions } from '../nn/layers';
import { ImageClassifier } from '../nn/classifier';
import type { Module } from '../nn/module';
import { ResidualBlock } from '../nn/residual';
import { Sequential } from '../nn/sequential';

/** Which conv of a downsampling block carries the stride. */
export type StrideAt = '1x1' | '3x3';

/** The tutorial's bottleneck: 1x1 → BN → ReLU → 3x3 grouped → BN → ReLU → 1x1 (×2) → BN, plus shortcut, then ReLU. */
export class TutorialBottleneck extends ResidualBlock {
  static readonly pytorchName = 'Bottleneck';
  static readonly expansion = 2;
  readonly residual: Sequential;
  readonly relu: ReLU;
  readonly projection: Sequential | null;

  constructor(
    inChannels: number,
    innerChannels: number,
    cardinality: number,
    stride = 1,
    projection: Sequential | null = null,
    strideAt: StrideAt = '1x1',
    opts: LayerOptions = {},
  ) {
    super();
    const s1 = strideAt === '1x1' ? stride : 1,
      s3 = strideAt === '3x3' ? stride : 1;
    this.residual = this.registerModule(
      'residual',
      new Sequential(
        new Conv2d(inChannels, innerChannels, 1, { stride: s1, bias: false, ...opts }),
        new BatchNorm2d(innerChannels, opts),
        new ReLU({ inplace: true }),
        new Conv2d(innerChannels, innerChannels, 3, {
          stride: s3,
          padding: 1,
          groups: cardinality,
          bias: false,
          ...opts,
        }),
        new BatchNorm2d(innerChannels, opts),
        new ReLU({ inplace: true }),
        new Conv2d(innerChannels, innerChannels * TutorialBottleneck.expansion, 1, { bias: false, ...opts }),
        new BatchNorm2d(innerChannels * TutorialBottleneck.expansion, opts),
      ),
    );
    this.relu = this.registerModule('relu', new ReLU({ inplace: true }));
    this.projection = projection ? this.registerModule('projection', projection) : null;
  }

  get shortcut(): Sequential | null {
    return this.projection;
  }

  /** The `residual` Sequential: 1x1 → BN → ReLU → 3x3 grouped → BN → ReLU → 1x1 → BN. */
  path(): readonly Module[] {
    return [this.residual];
  }
}

/** Options of the tutorial's ResNeXt. */
export interface TutorialResNeXtOptions extends LayerOptions {
  blocks: number[];
  cardinality: number;
  /** Inner width of stage 1 (128 in the tutorial: 32 groups × 4); doubles per stage. */
  baseWidth?: number;
  numClasses?: number;
  strideAt?: StrideAt;
  inChannels?: number;
}

/** The tutorial's ResNeXt network. */
export class TutorialResNeXt extends ImageClassifier {
  static readonly pytorchName = 'ResNeXt';
  private inChannels = 64;
  readonly conv1: Sequential;
  readonly maxpool: MaxPool2d;
  readonly stages: Sequential[];
  readonly avgpool: AdaptiveAvgPool2d;
  readonly fc: Linear;

  constructor(readonly options: TutorialResNeXtOptions) {
    super();
    const { blocks, cardinality, baseWidth = 128, numClasses = 1000, strideAt = '1x1', inChannels = 3 } = options;
    if (blocks.length !== 4) throw new Error(`ResNeXt: expected 4 stage depths, got [${blocks}]`);
    const lo: LayerOptions = { backend: options.backend, generator: options.generator };
    this.conv1 = this.registerModule(
      'conv1',
      new Sequential(
        new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false, ...lo }),
        new BatchNorm2d(64, lo),
        new ReLU({ inplace: true }),
      ),
    );
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    this.stages = blocks.map((n, i) =>
      this.registerModule(
        `stage${i + 1}`,
        this.makeStage(baseWidth * 2 ** i, n, i === 0 ? 1 : 2, cardinality, strideAt, lo),
      ),
    );
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(baseWidth * 8 * TutorialBottleneck.expansion, numClasses, lo));
  }

  private makeStage(
    inner: number,
    count: number,
    stride: number,
    cardinality: number,
    strideAt: StrideAt,
    lo: LayerOptions,
  ): Sequential {
    const out = inner * TutorialBottleneck.expansion;
    const projection =
      this.inChannels !== out || stride !== 1
        ? new Sequential(new Conv2d(this.inChannels, out, 1, { stride, bias: false, ...lo }), new BatchNorm2d(out, lo))
        : null;
    const layers: Module[] = [];
    for (let i = 0; i < count; i++) {
      layers.push(
        i === 0
          ? new TutorialBottleneck(this.inChannels, inner, cardinality, stride, projection, strideAt, lo)
          : new TutorialBottleneck(this.inChannels, inner, cardinality, 1, null, strideAt, lo),
      );
      this.inChannels = out;
    }
    return new Sequential(...layers);
  }

  /** conv1 (conv → BN → ReLU) → maxpool → stage1..4 → avgpool. */
  featureLayers(): readonly Module[] {
    return [this.conv1, this.maxpool, ...this.stages, this.avgpool];
  }
}
