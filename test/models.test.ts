// The model zoo: every registered model's parameters and mult-adds equal PyTorch's; a forward
// pass of each has the expected shape and no NaN; state-dict names match torchvision/the tutorial.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metaBackend } from '../src/backend/meta';
import { loadableBackends } from '../src/backend/node';
import { noGrad } from '../src/autograd/engine';
import { prepareForInference } from '../src/nn/inference';
import { buildModel, createModel, getVariant, listModels, modelName, templateVariant } from '../src/models/registry';
import { summary } from '../src/summary';
import { randn } from '../src/tensor/create';
import { Generator } from '../src/tensor/random';
import { modelStatsFixture } from './helpers';
import { getDefaultBackend } from '../src/backend/slot';
import { profileBackend } from '../src/backend/profile';
import { crossEntropy } from '../src/tensor/ops';
import { traceOps } from '../src/tensor/trace';
import { SGD } from '../src/train/optim';

/** How many times the fused convolution kernel ran during `run`. */
function fusedCalls(run: () => unknown, backend = getDefaultBackend()): number {
  const profile = profileBackend(backend);
  try {
    run();
  } finally {
    profile.stop();
  }
  return profile
    .rows()
    .filter((r) => r.kernel === 'conv2dFused')
    .reduce((s, r) => s + r.calls, 0);
}

/** The op names a trace records while `run` runs. */
function traceOpsCounting(ops: string[], run: () => unknown): void {
  traceOps((op) => ops.push(op.op), run);
}

const fx = modelStatsFixture().models;

describe('parameter counts and mult-adds equal PyTorch (torchvision 0.14)', () => {
  it('the registry and the fixture list the same models', () => {
    assert.deepEqual(
      listModels()
        .map((m) => m.name)
        .sort(),
      Object.keys(fx).sort(),
    );
  });
  for (const v of listModels()) {
    it(v.name, () => {
      const m = createModel(v.name, { backend: metaBackend });
      assert.equal(m.numParameters(), fx[v.name].params);
      assert.equal(summary(m, [1, ...v.inputSize]).totals.totalMultAdds, fx[v.name].multAddsPerImage);
    });
  }
  it("the published figures: torchvision's and the paper's", () => {
    assert.equal(fx.resnext50_32x4d.params, 25_028_904);
    assert.equal(fx.resnext101_32x8d.params, 88_791_336);
    assert.equal(fx.resnext101_64x4d.params, 83_455_272);
    assert.equal(fx.resnext50.params, 25_028_904);
    assert.equal(fx.resnext101.params, 44_177_704);
    assert.equal((fx.resnext29_8x64d.params / 1e6).toFixed(1), '34.4');
  });
});

describe('every model runs forward (reference backend, eval, 1x3x64x64 or 1x3x32x32)', () => {
  for (const v of listModels()) {
    it(v.name, () => {
      const m = createModel(v.name, { seed: 1, numClasses: 7 }).eval();
      const size = v.family === 'cifar' ? 32 : 64;
      const y = noGrad(() => m.call(randn([1, 3, size, size], { generator: new Generator(3) })));
      assert.deepEqual(y.shape, [1, 7]);
      assert.ok(y.toArray().every(Number.isFinite));
    });
  }
});

describe('names, options and initialisation', () => {
  it('torchvision state-dict keys', () => {
    const keys = [...createModel('resnext50_32x4d', { backend: metaBackend }).stateDict().keys()];
    assert.equal(keys[0], 'conv1.weight');
    assert.ok(keys.includes('layer1.0.downsample.1.running_var'));
    assert.ok(keys.includes('layer4.2.bn3.num_batches_tracked'));
    assert.equal(keys[keys.length - 1], 'fc.bias');
  });
  it("the tutorial's state-dict keys", () => {
    const keys = [...createModel('resnext50', { backend: metaBackend }).stateDict().keys()];
    assert.equal(keys[0], 'conv1.0.weight');
    assert.ok(keys.includes('stage1.0.residual.3.weight'));
    assert.ok(keys.includes('stage2.0.projection.1.running_mean'));
    assert.ok(!keys.some((k) => k.startsWith('stage1.1.projection')));
  });
  it('strideAt moves the stride between the 1x1 and the 3x3 conv without changing parameters', () => {
    const a = createModel('resnext50', { backend: metaBackend }),
      b = createModel('resnext50', { backend: metaBackend, strideAt: '3x3' });
    assert.equal(a.numParameters(), b.numParameters());
    const conv = (m: typeof a, path: string) =>
      m.namedModules().find(([p]) => p === path)![1] as unknown as { stride: number[] };
    assert.deepEqual(conv(a, 'stage2.0.residual.0').stride, [2, 2]);
    assert.deepEqual(conv(b, 'stage2.0.residual.3').stride, [2, 2]);
  });
  it('the same seed gives the same weights; kaiming fan_out std for torchvision convs', () => {
    const w1 = createModel('resnet18', { seed: 5 }).stateDict().get('layer1.0.conv1.weight')!.toArray();
    const w2 = createModel('resnet18', { seed: 5 }).stateDict().get('layer1.0.conv1.weight')!.toArray();
    assert.deepEqual(w1, w2);
    const std = Math.sqrt(Array.from(w1).reduce((s, v) => s + v * v, 0) / w1.length);
    const want = Math.sqrt(2 / (64 * 9));
    assert.ok(Math.abs(std - want) / want < 0.05, `std ${std} vs ${want}`);
  });
  it('unknown models and bad options are clear errors', () => {
    assert.throws(() => createModel(modelName('resnext51')), /unknown model 'resnext51'; did you mean resnext50/);
    // @ts-expect-error: a misspelt literal name is a compile error (ModelName is a union of the registered names)
    assert.throws(() => createModel('resnext_smal'), /unknown model 'resnext_smal'; did you mean resnext_small/);
    assert.throws(() => createModel('resnet18', { numClasses: 0 }), /numClasses must be a positive integer/);
  });
});

describe("the paper's template by name (resnext<depth>_<C>x<d>d)", () => {
  it('builds the same network as the registered model of that name, and refuses other shapes of name', () => {
    const stats = (v: ReturnType<typeof templateVariant>) =>
      summary(buildModel(v!, { backend: metaBackend }), [1, 3, 224, 224]).totals;
    for (const name of ['resnext50_32x4d', 'resnext101_8x14d', 'resnext101_64x4d']) {
      const registered = summary(createModel(modelName(name), { backend: metaBackend }), [1, 3, 224, 224]).totals;
      assert.deepEqual(stats(templateVariant(name)), registered, name);
    }
    assert.equal(templateVariant('resnext18_2x4d'), null);
    assert.equal(templateVariant('resnext50_0x4d'), null);
    assert.equal(getVariant('resnext152_4x16d').layers.join(','), '3,8,36,3');
  });
});

describe('inference fusion (conv + folded BatchNorm + residual + ReLU as one kernel)', () => {
  const x = randn([2, 3, 40, 40], { generator: new Generator(5) });
  // largest difference relative to the largest magnitude
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0,
      scale = 1e-12;
    for (let i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return m / scale;
  };
  const fusedOps = (run: () => unknown) => {
    const ops: string[] = [];
    traceOpsCounting(ops, run);
    return ops;
  };
  // on every backend with data: wasm keeps folded weights resident in its memory (holdConstant)
  for (const backend of loadableBackends().filter((b) => b.hasData && b.name !== 'reference'))
    for (const name of ['resnext_tiny', 'resnet18', 'resnext_small'] as const) {
      it(`${name} on ${backend.name}: fused eval equals the plain forward, before and after an SGD step`, () => {
        const xb = x.to(backend);
        const model = prepareForInference(createModel(name, { seed: 3, backend }));
        model.train();
        noGrad(() => model.call(xb)); // non-trivial running statistics
        model.eval();
        const plain = () => model.call(xb).toArray(); // autograd on: modules run one by one
        const fused = () => noGrad(() => model.call(xb)).toArray();
        assert.ok(maxDiff(fused(), plain()) < 1e-5, 'fused vs plain');
        // an in-place optimizer step must invalidate the folded weights
        const opt = new SGD(model.namedParameters(), { lr: 0.5, momentum: 0.9 });
        model.train();
        crossEntropy(model.call(xb), [1, 2]).backward();
        opt.step();
        model.eval();
        const after = plain();
        assert.ok(maxDiff(fused(), after) < 1e-5, 'fused vs plain after a step');
        assert.ok(fusedCalls(() => noGrad(() => model.call(xb)), backend) > 0, 'the fused kernel ran');
      });
    }
  it('runs only on a model prepared for it: the model files run module by module', () => {
    const model = createModel('resnext_tiny', { seed: 1 }).eval();
    assert.equal(
      fusedCalls(() => noGrad(() => model.call(x))),
      0,
      'not prepared: no fusion',
    );
    const plain = noGrad(() => model.call(x)).toArray();
    prepareForInference(model);
    // conv1 stem, and per block the three conv/bn pairs and the projection: every conv of the model is fused
    const convs = model.namedModules().filter(([, m]) => m.typeName === 'Conv2d').length;
    assert.equal(
      fusedCalls(() => noGrad(() => model.call(x))),
      convs,
      `${convs} convolutions, each fused`,
    );
    assert.ok(maxDiff(noGrad(() => model.call(x)).toArray(), plain) < 1e-5);
  });
  it('stands aside for hooks, traces and training mode', () => {
    const model = prepareForInference(createModel('resnext_tiny', { seed: 1 }));
    model.eval();
    assert.ok(fusedCalls(() => noGrad(() => model.call(x))) > 0);
    assert.ok(!fusedOps(() => noGrad(() => model.call(x))).includes('conv2dFused'), 'a trace sees every op');
    const seen = new Set<string>();
    const handles = model.namedModules().map(([, m]) =>
      m.registerForwardHook((mod) => {
        seen.add(mod.typeName);
      }),
    );
    assert.equal(
      fusedCalls(() => noGrad(() => model.call(x))),
      0,
      'no fusion under hooks',
    );
    assert.ok(seen.has('BatchNorm2d') && seen.has('ReLU'), 'hooks see every layer');
    for (const h of handles) h.remove();
    model.train();
    assert.equal(
      fusedCalls(() => noGrad(() => model.call(x))),
      0,
      'training mode uses batch statistics',
    );
  });
});
