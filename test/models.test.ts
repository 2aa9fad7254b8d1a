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
import { stepScope } from '../src/train/step-scope';
import { BatchNorm2d, Conv2d, ReLU } from '../src/nn/layers';
import { Module } from '../src/nn/module';
import { Sequential } from '../src/nn/sequential';
import { relu } from '../src/tensor/ops/elementwise';
import type { Tensor } from '../src/tensor/tensor';

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
  // inside a step scope a plan gives each intermediate back to the pool after its last reader
  for (const backend of loadableBackends().filter((b) => b.bufferScope?.stats)) {
    it(`on ${backend.name}, gives its intermediates back to the step's pool, never an array still read`, () => {
      const xb = x.to(backend);
      const scope = backend.bufferScope!;
      const run = (model: Module) => {
        scope.resetPeak?.();
        const out = stepScope(model, null, () => noGrad(() => model.call(xb)).toArray());
        return { out, peak: scope.stats!().peakLiveBytes };
      };
      const plain = createModel('resnext_small', { seed: 3, backend }).eval();
      const expected = noGrad(() => plain.call(xb)).toArray();
      const model = prepareForInference(createModel('resnext_small', { seed: 3, backend })).eval();
      // an observer (calibration) is handed every output: nothing is given back early
      const observed = prepareForInference(createModel('resnext_small', { seed: 3, backend }), {
        observe: () => {},
      }).eval();
      for (let i = 0; i < 2; i++) assert.ok(maxDiff(run(model).out, expected) < 1e-5, `step ${i}: reused arrays`);
      const recycled = run(model).peak,
        kept = run(observed).peak;
      assert.ok(recycled < 0.6 * kept, `peak live outputs ${recycled} vs ${kept} bytes without recycling`);
    });
    it(`on ${backend.name}, keeps the input of a layer it does not know (it may hold on to it)`, () => {
      class Stash extends Module {
        seen: Tensor | null = null;
        forward(t: Tensor): Tensor {
          this.seen = t;
          return relu(t);
        }
      }
      const stash = new Stash();
      const net = new Sequential(
        new Conv2d(3, 16, 3, { padding: 1, backend }),
        new BatchNorm2d(16, { backend }),
        new ReLU(),
        stash,
        new Conv2d(16, 16, 3, { padding: 1, backend }),
        new BatchNorm2d(16, { backend }),
      );
      net.eval();
      const xb = x.to(backend);
      noGrad(() => net.call(xb)); // not prepared yet: module by module
      const wanted = stash.seen!.toArray();
      prepareForInference(net);
      stepScope(net, null, () => {
        noGrad(() => net.call(xb));
        noGrad(() => net.call(xb)); // a second pass would reuse an array given back too early
        assert.ok(maxDiff(stash.seen!.toArray(), wanted) < 1e-5, 'the stashed input is intact');
      });
      assert.ok(fusedCalls(() => noGrad(() => net.call(xb)), backend) > 0, 'the plan ran');
    });
  }
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
