// Published figures of the ResNeXt paper (Xie et al., "Aggregated Residual Transformations for
// Deep Neural Networks", CVPR 2017, arXiv:1611.05431), beside the registry names that build
// each architecture. Facts only: errors are ImageNet-1K val top-1/top-5 (%), CIFAR test error (%).

/** A published row and the registered model (if any) that builds its architecture. */
export interface PaperRow {
  label: string;
  model: string | null;
  /** Table 3 only: the ResNet-101-based model of the same setting. */
  model101?: string;
  params?: number;
  flops?: number;
  top1?: number;
  top5?: number;
  top1At101?: number;
  cifar10?: number;
  cifar100?: number;
}

/** One table of the paper. */
export interface PaperTable {
  id: string;
  title: string;
  note: string;
  rows: PaperRow[];
}

/**
 * Table 2's (C, d) settings: cardinality and bottleneck width that keep about the complexity of the
 * ResNet-50 template (the same settings as Table 3's rows); the group conv is C·d wide.
 */
export const TABLE2_SETTINGS: readonly (readonly [cardinality: number, width: number])[] = [
  [1, 64],
  [2, 40],
  [4, 24],
  [8, 14],
  [32, 4],
];

/** Tables 1, 3, 4 and 7. */
export const PAPER_TABLES: readonly PaperTable[] = [
  {
    id: 'table1',
    title: 'Table 1: ResNet-50 vs ResNeXt-50 (32x4d) at equal complexity',
    note: 'Same parameters and FLOPs (multiply-adds per 224x224 image) within a few percent.',
    rows: [
      { label: 'ResNet-50', model: 'resnet50', params: 25.5e6, flops: 4.1e9 },
      { label: 'ResNeXt-50 (32x4d)', model: 'resnext50_32x4d', params: 25.0e6, flops: 4.2e9 },
    ],
  },
  {
    id: 'table3',
    title: 'Table 3: cardinality vs width at about the same complexity (top-1 error %)',
    note: 'More groups of narrower width lower the error at the same cost, on ResNet-50 and on ResNet-101 alike.',
    rows: [
      { label: '1x64d', model: 'resnext50_1x64d', model101: 'resnext101_1x64d', top1: 23.9, top1At101: 22.0 },
      { label: '2x40d', model: 'resnext50_2x40d', model101: 'resnext101_2x40d', top1: 23.0, top1At101: 21.7 },
      { label: '4x24d', model: 'resnext50_4x24d', model101: 'resnext101_4x24d', top1: 22.6, top1At101: 21.4 },
      { label: '8x14d', model: 'resnext50_8x14d', model101: 'resnext101_8x14d', top1: 22.3, top1At101: 21.3 },
      { label: '32x4d', model: 'resnext50_32x4d', model101: 'resnext101_32x4d', top1: 22.2, top1At101: 21.2 },
    ],
  },
  {
    id: 'table4',
    title: 'Table 4: twice the complexity of ResNet-101 (top-1 / top-5 error %)',
    note: 'Deeper (ResNet-200) or wider (1x100d) helps less than more groups (2x64d, 64x4d).',
    rows: [
      { label: 'ResNet-101 (reference), 1x64d', model: 'resnet101', top1: 22.0, top5: 6.0 },
      { label: 'ResNeXt-101 (reference), 32x4d', model: 'resnext101_32x4d', top1: 21.2, top5: 5.6 },
      { label: 'ResNet-200, 1x64d', model: 'resnet200', top1: 21.7, top5: 5.8 },
      { label: 'ResNet-101, wider, 1x100d', model: 'resnet101_1x100d', top1: 21.3, top5: 5.7 },
      { label: 'ResNeXt-101, 2x64d', model: 'resnext101_2x64d', top1: 20.7, top5: 5.5 },
      { label: 'ResNeXt-101, 64x4d', model: 'resnext101_64x4d', top1: 20.4, top5: 5.3 },
    ],
  },
  {
    id: 'table7',
    title: 'Table 7: CIFAR (test error %)',
    note: 'Wide ResNet-28-10 is not in the registry; its row is the published figure only.',
    rows: [
      { label: 'Wide ResNet', model: null, params: 36.5e6, cifar10: 4.17, cifar100: 20.5 },
      { label: 'ResNeXt-29, 8x64d', model: 'resnext29_8x64d', params: 34.4e6, cifar10: 3.65, cifar100: 17.77 },
      { label: 'ResNeXt-29, 16x64d', model: 'resnext29_16x64d', params: 68.1e6, cifar10: 3.58, cifar100: 17.31 },
    ],
  },
];

/** Where the figures come from. */
export const PAPER_CITATION =
  'Xie, Girshick, Dollár, Tu, He. Aggregated Residual Transformations for Deep Neural Networks. CVPR 2017 (arXiv:1611.05431).';

/** The paper's published error for a registered model's architecture (ImageNet top-1, or CIFAR-10 test), if it reports one. */
export function paperError(model: string): { metric: 'ImageNet top-1' | 'CIFAR-10'; error: number } | null {
  for (const t of PAPER_TABLES) {
    for (const r of t.rows) {
      if (r.model === model && r.top1 !== undefined) return { metric: 'ImageNet top-1', error: r.top1 };
      if (r.model101 === model && r.top1At101 !== undefined) return { metric: 'ImageNet top-1', error: r.top1At101 };
      if (r.model === model && r.cifar10 !== undefined) return { metric: 'CIFAR-10', error: r.cifar10 };
    }
  }
  return null;
}
