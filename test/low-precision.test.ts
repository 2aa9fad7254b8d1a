// bf16 and int8 inference arithmetic: the reference definitions (rounding, integer accumulation,
// requantisation) against hand-computed values, and the native backend's oneDNN kernels held to
// them on single convolutions and on a chain (blocked layouts, residual, max pooling between).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, ConvGeometry, Int8Conv, LowPrecision } from '../src/backend/contract';
import '../src/backend/node'; // registers the Node entry's backends
import { getBackend } from '../src/backend/slot';
import { nativeLayoutOf, nativeStatus } from '../src/backend/native';
import { referenceBackend, type FArray } from '../src/backend/reference';
import { quantize, roundHalfEven, roundToBf16 } from '../src/backend/rounding';
import { noGrad } from '../src/autograd/engine';
import { int8ModelFile, isInt8File, readInt8ModelFile } from '../src/io/int8-weights';
import { readSafetensors, serializeSafetensors } from '../src/io/safetensors';
import { createModel } from '../src/models/registry';
import { prepareForInference } from '../src/nn/inference';
import { Conv2d } from '../src/nn/layers';
import { calibrate, quantizeModel } from '../src/nn/quantize';
import { randn, tensor } from '../src/tensor/create';
import { resolveConvGeometry } from '../src/tensor/ops/conv';
import type { Tensor } from '../src/tensor/tensor';
import { assertClose, cosine } from './helpers';
import { Generator } from '../src/tensor/random';

const native = nativeStatus();
/** Why a native bf16/int8 test cannot run here: no addon, or a CPU without the instructions (then oneDNN has other kernels or none). */
function skipUnlessFast(kind: 'bf16' | 'int8'): string | false {
  if (!native.available) return `native backend unavailable: ${native.reason}`;
  const fast = getBackend('native').fastPrecisions?.();
  return fast?.[kind] ? false : `this CPU has no fast ${kind} kernels (${fast?.hardware})`;
}
const ref = referenceBackend.kernels;

describe('low-precision reference arithmetic', () => {
  it('bf16 rounds float32 to nearest, ties to even', () => {
    const ulp = 2 ** -7; // bf16 keeps 7 fraction bits
    assert.equal(roundToBf16(1), 1);
    assert.equal(roundToBf16(1 + ulp / 2), 1, 'a tie goes to the even neighbour (1)');
    assert.equal(roundToBf16(1 + 1.5 * ulp), 1 + 2 * ulp, 'a tie goes to the even neighbour (1 + 2 ulp)');
    assert.equal(roundToBf16(1 + 0.51 * ulp), 1 + ulp);
    assert.equal(roundToBf16(-3.3), -3.296875, '211 steps of 2^-6');
    assert.equal(roundToBf16(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(roundToBf16(Number.NaN)));
  });
  it('integers round half to even and saturate to u8/s8', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
    assert.equal(quantize(300, 1, false), 255);
    assert.equal(quantize(-3, 1, false), 0);
    assert.equal(quantize(-300, 1, true), -128);
    assert.equal(quantize(0.75, 0.5, true), 2, '1.5 steps → 2');
    assert.equal(quantize(1.25, 0.5, true), 2, '2.5 steps → 2');
  });
  it('int8: exact integer sums, bias in accumulator units, residual rescaled, ReLU, saturation', () => {
    // 1x1 conv, 2 inputs → 2 outputs, one pixel: acc = Σ qx·qw
    const g = resolveConvGeometry([1, 2, 1, 1], [2, 2, 1, 1], {});
    const p: Int8Conv = {
      kind: 'int8',
      id: 1,
      srcScale: 0.5,
      srcSigned: false,
      dstScale: 0.25,
      dstSigned: false,
      residualScale: 1,
      residualSigned: true,
      weightScales: Float32Array.of(0.1, 0.2),
    };
    const x = Float32Array.of(3, 1); // q = 6, 2
    const w = Float32Array.of(10, -20, 127, 127); // integers
    const b = Float32Array.of(0.05, -100);
    const r = Float32Array.of(-2, 1); // q = -2, 1
    const y = ref.conv2dFused(x, w, b, r, true, g, p);
    // o=0: acc = 60 − 40 = 20; real = 20·0.5·0.1 + 0.05 − 2 = −0.95 → ReLU → 0
    // o=1: acc = 127·8 = 1016; real = 1016·0.1 − 100 + 1 = 2.6 → 2.6 / 0.25 = 10.4 → q 10 → 2.5
    assert.deepEqual([...y], [0, 2.5]);
    const big = ref.conv2dFused(Float32Array.of(200, 200), w, Float32Array.of(0, 1000), null, false, g, p);
    assert.equal(big[1], 255 * 0.25, 'the output saturates at 255 steps');
    assert.throws(
      () => ref.conv2dFused(x, Float32Array.of(0.5, 1, 1, 1), b, null, false, g, p),
      /weight\[0\] is 0.5, expected an integer in \[-127, 127\]/,
    );
  });
});

/** bf16 closeness: every value within 2 bf16 steps of its magnitude (one for the output rounding,
 * one for float32 sums in another order) plus an absolute floor for values that cancel. */
function assertBf16Close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const tol = 2 * 2 ** -8 * Math.abs(expected[i]) + 1e-3 * scale;
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** int8 closeness: stored values are multiples of `step`; at most one step apart, and nearly all equal. */
function assertInt8Close(actual: ArrayLike<number>, expected: ArrayLike<number>, step: number, what: string): void {
  let equal = 0;
  for (let i = 0; i < expected.length; i++) {
    const steps = Math.abs(actual[i] - expected[i]) / step;
    assert.ok(steps <= 1 + 1e-6, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (${steps.toFixed(2)} steps)`);
    if (steps < 1e-6) equal++;
  }
  assert.ok(equal >= 0.99 * expected.length, `${what}: only ${equal} of ${expected.length} values equal`);
}

describe('native bf16 and int8 kernels against the reference', {
  skip: !native.available && `native backend unavailable: ${native.reason}`,
}, () => {
  const gen = new Generator(7);
  const normal = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * gen.normal());
  const int8Weights = (n: number) =>
    Float32Array.from({ length: n }, () => Math.round(127 * (2 * gen.uniform(0, 1) - 1)));
  const absMax = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
  let ids = 100;
  function int8For(
    g: ConvGeometry,
    src: number,
    srcSigned: boolean,
    dst: number,
    dstSigned: boolean,
    res = 1,
    resSigned = false,
  ): Int8Conv {
    const weightScales = Float32Array.from({ length: g.o }, () => 0.002 + 0.004 * gen.uniform(0, 1));
    return {
      kind: 'int8',
      id: ids++,
      srcScale: src,
      srcSigned,
      dstScale: dst,
      dstSigned,
      residualScale: res,
      residualSigned: resSigned,
      weightScales,
    };
  }
  const cases: [string, number[], number[], { stride?: number; padding?: number; groups?: number }][] = [
    ['1x1', [2, 32, 9, 9], [64, 32, 1, 1], {}],
    ['grouped 3x3', [2, 64, 9, 9], [64, 4, 3, 3], { padding: 1, groups: 16 }],
    ['grouped 3x3, 128 channels in groups of 4', [1, 128, 5, 15], [128, 4, 3, 3], { padding: 1, groups: 32 }],
    ['grouped 3x3 stride 2', [1, 64, 10, 10], [64, 2, 3, 3], { stride: 2, padding: 1, groups: 32 }],
    ['7x7 stem', [1, 3, 20, 20], [16, 3, 7, 7], { stride: 2, padding: 3 }],
  ];
  const nb = () => getBackend('native') as Backend<FArray>;
  /** The native fused convolution on copies of the arrays (its output may stay in a oneDNN layout); float32 without `p`. */
  const nativeConv = (
    b: Backend<FArray>,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array,
    residual: Float32Array | null,
    relu: boolean,
    g: ConvGeometry,
    p?: LowPrecision,
  ) => {
    const put = (a: Float32Array) => b.fromValues('float32', a);
    return b.kernels.conv2dFused(put(x), put(w), put(bias), residual && put(residual), relu, g, p);
  };

  for (const [name, xs, ws, opts] of cases) {
    const g = resolveConvGeometry(xs, ws, opts);
    const out = g.n * g.o * g.oh * g.ow;
    it(`bf16 ${name}, with and without residual and ReLU`, { skip: skipUnlessFast('bf16') }, () => {
      const b = nb();
      const x = normal(xs.reduce((a, c) => a * c)),
        w = normal(
          ws.reduce((a, c) => a * c),
          0.2,
        ),
        bias = normal(g.o),
        r = Float32Array.from(normal(out), roundToBf16);
      const p: LowPrecision = { kind: 'bf16' };
      for (const [residual, relu] of [
        [null, true],
        [null, false],
        [r, true],
        [r, false],
      ] as const) {
        const y = nativeConv(b, x, w, bias, residual, relu, g, p);
        assert.ok(nativeLayoutOf(y) > 0, 'bf16 outputs stay in a oneDNN layout');
        assertBf16Close(b.read(y), ref.conv2dFused(x, w, bias, residual, relu, g, p), `bf16 ${name}`);
      }
    });
    it(`int8 ${name}: u8/s8 input, residual of either sign, ReLU`, { skip: skipUnlessFast('int8') }, () => {
      const b = nb();
      const signedIn = name === '7x7 stem';
      const x = signedIn ? normal(xs.reduce((a, c) => a * c)) : normal(xs.reduce((a, c) => a * c)).map(Math.abs);
      const w = int8Weights(ws.reduce((a, c) => a * c)),
        bias = normal(g.o, 0.1);
      const srcScale = absMax(x) / (signedIn ? 127 : 255);
      const plain = ref.conv2dFused(
        x,
        w.map((v) => v * 0.004),
        bias,
        null,
        false,
        g,
      );
      const dst = absMax(plain) / 127;
      const r = normal(out);
      for (const [residual, relu, rSigned] of [
        [null, true, false],
        [null, false, false],
        [r, true, true],
        [r.map(Math.abs), false, false],
      ] as const) {
        const p = int8For(g, srcScale, signedIn, dst, !relu, absMax(residual ?? [1]) / (rSigned ? 127 : 255), rSigned);
        const y = nativeConv(b, x, w, bias, residual, relu, g, p);
        assert.ok(nativeLayoutOf(y) > 0, 'int8 outputs stay in a oneDNN layout');
        assertInt8Close(b.read(y), ref.conv2dFused(x, w, bias, residual, relu, g, p), p.dstScale, `int8 ${name}`);
      }
    });
  }

  it('int8 and bf16 chains: conv → max pool → conv with the block input as residual, stored in oneDNN layouts', {
    skip: skipUnlessFast('int8') || skipUnlessFast('bf16'),
  }, () => {
    const b = nb();
    const g1 = resolveConvGeometry([2, 16, 12, 12], [32, 16, 1, 1], {});
    const pg = { n: 2, c: 32, h: 12, w: 12, oh: 6, ow: 6, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
    const g2 = resolveConvGeometry([2, 32, 6, 6], [32, 4, 3, 3], { padding: 1, groups: 8 });
    const x = normal(2 * 16 * 144).map(Math.abs),
      w1 = int8Weights(32 * 16),
      w2 = int8Weights(32 * 4 * 9),
      b1 = normal(32, 0.1),
      b2 = normal(32, 0.1);
    const s1 = 0.02,
      s2 = 0.03;
    const p1 = int8For(g1, absMax(x) / 255, false, s1, false);
    const p2 = int8For(g2, s1, false, s2, false, s1, false);
    const run = (
      k: Backend<FArray>['kernels'],
      wrap: (a: Float32Array) => FArray,
      a: LowPrecision,
      c: LowPrecision,
    ) => {
      const y1 = k.conv2dFused(wrap(x), wrap(w1), wrap(b1), null, true, g1, a);
      const pooled = k.maxPool2d(y1, pg);
      return k.conv2dFused(pooled, wrap(w2), wrap(b2), pooled, true, g2, c);
    };
    const y = run(b.kernels, (a) => b.fromValues('float32', a), p1, p2);
    assert.ok(nativeLayoutOf(y) > 0);
    assertInt8Close(
      b.read(y),
      run(ref, (a) => a, p1, p2),
      s2,
      'int8 chain',
    );
    const h: LowPrecision = { kind: 'bf16' };
    const wf1 = w1.map((v) => v / 127),
      wf2 = w2.map((v) => v / 127);
    const yb = (k: Backend<FArray>['kernels'], wrap: (a: Float32Array) => FArray) => {
      const y1 = k.conv2dFused(wrap(x), wrap(wf1), wrap(b1), null, true, g1, h);
      const pooled = k.maxPool2d(y1, pg);
      return k.conv2dFused(pooled, wrap(wf2), wrap(b2), pooled, true, g2, h);
    };
    assertBf16Close(
      b.read(yb(b.kernels, (a) => b.fromValues('float32', a))),
      yb(ref, (a) => a),
      'bf16 chain',
    );
  });

  it('global average pooling reads float32, bf16 and int8 activations where they lie: the values of pooling their NCHW copy', {
    skip: skipUnlessFast('int8') || skipUnlessFast('bf16'),
  }, () => {
    const b = nb();
    const g = resolveConvGeometry([2, 16, 7, 7], [64, 16, 1, 1], {});
    const pg = { n: 2, c: 64, h: 7, w: 7, oh: 1, ow: 1, kh: 7, kw: 7, strideH: 7, strideW: 7, padH: 0, padW: 0 };
    const x = normal(2 * 16 * 49).map(Math.abs),
      w = normal(64 * 16, 0.2),
      wq = int8Weights(64 * 16),
      bias = normal(64);
    const dst = 0.05;
    const stored: [string, FArray][] = [
      ['float32', nativeConv(b, x, w, bias, null, false, g)],
      ['bf16', nativeConv(b, x, w, bias, null, false, g, { kind: 'bf16' })],
      ['int8, unsigned', nativeConv(b, x, wq, bias, null, true, g, int8For(g, absMax(x) / 255, false, dst, false))],
      ['int8, signed', nativeConv(b, x, wq, bias, null, false, g, int8For(g, absMax(x) / 255, false, dst, true))],
    ];
    for (const [name, y] of stored) {
      assert.ok(nativeLayoutOf(y) > 0, `${name}: the convolution's output stays in a oneDNN layout`);
      // bit for bit: the same values summed in the same order as the reference pools the NCHW copy
      assert.deepEqual(
        Array.from(b.kernels.adaptiveAvgPool2d(y, pg)),
        Array.from(ref.adaptiveAvgPool2d(b.read(y), pg)),
        name,
      );
    }
  });
});

describe('bf16 and int8 models (native against reference; int8 model files)', {
  skip: !native.available && `native backend unavailable: ${native.reason}`,
}, () => {
  /** resnext_small with batch-norm statistics moved off their initial values, on native and (a copy) on reference. */
  function models() {
    const nb = getBackend('native');
    const m = createModel('resnext_small', { seed: 3, backend: nb });
    const x = randn([4, 3, 32, 32], { generator: new Generator(5), backend: nb });
    m.train();
    noGrad(() => m.call(x));
    m.eval();
    const r = createModel('resnext_small', { seed: 9, backend: referenceBackend });
    r.loadStateDict(
      new Map(
        [...m.stateDict()].map(([k, t]) => [
          k,
          tensor(t.toArray(), [...t.shape], { backend: referenceBackend, dtype: t.dtype }),
        ]),
      ),
    );
    r.eval();
    return { m, r, x, xr: tensor(x.toArray(), [...x.shape], { backend: referenceBackend }) };
  }
  const logits = (model: ReturnType<typeof createModel>, x: Tensor) => noGrad(() => model.call(x)).toArray();

  it("bf16: the native model gives the reference definition's logits", { skip: skipUnlessFast('bf16') }, () => {
    const { m, r, x, xr } = models();
    const fp32 = logits(prepareForInference(m), x);
    const yn = logits(prepareForInference(m, { precision: 'bf16' }), x);
    const yr = logits(prepareForInference(r, { precision: 'bf16' }), xr);
    assertBf16Close(yn, yr, 'bf16 logits');
    assert.ok(
      yn.some((v, i) => v !== fp32[i]),
      'bf16 differs from float32',
    );
  });

  it('int8: calibrated and quantised, native logits match the reference; an int8 file round-trips', {
    skip: skipUnlessFast('int8'),
  }, () => {
    const { m, r, x, xr } = models();
    const fp32 = logits(prepareForInference(m), x);
    const quantized = quantizeModel(m, calibrate(m, [x]));
    assert.equal(
      quantized.size,
      [...m.namedModules()].filter(([, c]) => c instanceof Conv2d).length,
      'every conv has a batch norm to fold',
    );
    const yn = logits(prepareForInference(m, { precision: 'int8', quantized }), x);
    const onRef = new Map(
      [...quantized].map(([k, q]) => [
        k,
        {
          ...q,
          weight: tensor(q.weight.toArray(), [...q.weight.shape], { backend: referenceBackend }),
          bias: tensor(q.bias.toArray(), [...q.bias.shape], { backend: referenceBackend }),
        },
      ]),
    );
    const yr = logits(prepareForInference(r, { precision: 'int8', quantized: onRef }), xr);
    assertClose(yn, yr, 0.02, 'int8 native vs reference (a rare one-step difference may propagate)', 0);
    assert.ok(cosine(yn, fp32) > 0.99, `int8 vs float32 cosine ${cosine(yn, fp32)}`);
    // the file: I8 weights, scales in metadata; it reads back into the same int8 network and a float32 one
    const file = int8ModelFile(m, quantized, new Map([['note', 'kept']]));
    const bytes = serializeSafetensors(file.tensors, file.metadata, file.int8);
    const back = readSafetensors(bytes, 'q.safetensors');
    assert.ok(isInt8File(back.metadata));
    assert.equal(back.metadata.get('note'), 'kept', 'the source metadata (usage) is carried over');
    const { stateDict, quantized: loaded } = readInt8ModelFile(back.tensors, back.metadata, 'q.safetensors');
    const fresh = createModel('resnext_small', { seed: 11, backend: getBackend('native') });
    fresh.loadStateDict(stateDict); // strict: every key the model has
    fresh.eval();
    assert.deepEqual(logits(prepareForInference(fresh, { precision: 'int8', quantized: loaded }), x), yn);
    const dequantised = logits(prepareForInference(fresh), x);
    assert.ok(cosine(dequantised, fp32) > 0.999, `dequantised float32 vs float32 cosine ${cosine(dequantised, fp32)}`);
  });

  it("precision 'int8' without quantised convolutions, or naming a module that is no Conv2d, is refused", () => {
    const { m, x } = models();
    assert.throws(() => prepareForInference(m, { precision: 'int8' }), /needs the quantised convolutions/);
    const [[, q]] = [...quantizeModel(m, calibrate(m, [x]))];
    assert.throws(
      () => prepareForInference(m, { precision: 'int8', quantized: new Map([['fc', q]]) }),
      /int8 weights name 'fc', which is not a Conv2d of this model/,
    );
  });
  it('an int8 file with a weight out of range or a missing scale is refused naming the tensor', () => {
    const { m, x } = models();
    const file = int8ModelFile(m, quantizeModel(m, calibrate(m, [x])), new Map());
    const name = [...file.int8][0];
    const bad = new Map(file.tensors);
    bad.set(
      name,
      tensor(
        file.tensors
          .get(name)!
          .toArray()
          .map((v, i) => (i === 0 ? 0.5 : v)),
        [...file.tensors.get(name)!.shape],
      ),
    );
    assert.throws(
      () => readInt8ModelFile(bad, file.metadata, 'q.safetensors'),
      new RegExp(`q.safetensors.*'${name.replaceAll('.', '\\.')}' must hold integers`),
    );
    const missing = new Map(file.tensors);
    missing.delete(name.replace(/weight$/, 'weight_scale'));
    assert.throws(() => readInt8ModelFile(missing, file.metadata, 'q.safetensors'), /has no tensor '.*weight_scale'/);
  });
});
