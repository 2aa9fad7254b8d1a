// Kernel conformance: every kernel of every backend with data against direct textbook
// definitions (and the meta backend's sizes against the reference backend's).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, ConvGeometry, KernelName, Kernels } from '../src/backend/contract';
import { loadableBackends } from '../src/backend/node';
import { referenceBackend } from '../src/backend/reference';
import { resolveConvGeometry } from '../src/tensor/ops/conv';
import { Generator } from '../src/tensor/random';
import { assertClose } from './helpers';

const gen = new Generator(11);
const rand = (n: number) => Float64Array.from({ length: n }, () => gen.normal());

/** conv2d by its definition: y[n,o,i,j] = Σ_{c∈group(o),ki,kj} x[n,c,i·s−p+ki·d, j·s−p+kj·d]·w[o,c−c0,ki,kj] + b[o]. */
function directConv(x: Float64Array, w: Float64Array, b: Float64Array | null, g: ConvGeometry): Float64Array {
  const y = new Float64Array(g.n * g.o * g.oh * g.ow);
  const cg = g.c / g.groups,
    og = g.o / g.groups;
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.o; o++)
      for (let i = 0; i < g.oh; i++)
        for (let j = 0; j < g.ow; j++) {
          let s = b ? b[o] : 0;
          const c0 = Math.floor(o / og) * cg;
          for (let c = 0; c < cg; c++)
            for (let ki = 0; ki < g.kh; ki++)
              for (let kj = 0; kj < g.kw; kj++) {
                const yy = i * g.strideH - g.padH + ki * g.dilH,
                  xx = j * g.strideW - g.padW + kj * g.dilW;
                if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
                s += x[((n * g.c + c0 + c) * g.h + yy) * g.w + xx] * w[((o * cg + c) * g.kh + ki) * g.kw + kj];
              }
          y[((n * g.o + o) * g.oh + i) * g.ow + j] = s;
        }
  return y;
}

const convCases: [
  string,
  number[],
  number[],
  { stride?: number; padding?: number; groups?: number; dilation?: number },
][] = [
  ['dense 3x3', [2, 3, 7, 7], [4, 3, 3, 3], { padding: 1 }],
  ['groups 2, stride 2', [1, 4, 9, 8], [6, 2, 3, 3], { stride: 2, padding: 1, groups: 2 }],
  ['groups 4, odd size', [2, 8, 5, 7], [8, 2, 3, 3], { groups: 4 }],
  ['32 groups of 4 (ResNeXt)', [1, 128, 6, 6], [128, 4, 3, 3], { padding: 1, groups: 32 }],
  ['depthwise stride 2', [1, 6, 9, 9], [6, 1, 3, 3], { stride: 2, padding: 1, groups: 6 }],
  ['1x1 pointwise', [2, 8, 5, 5], [4, 8, 1, 1], {}],
  ['1x1 stride 2', [1, 8, 7, 7], [16, 8, 1, 1], { stride: 2 }],
  ['7x7 stride 2 pad 3', [1, 3, 11, 11], [4, 3, 7, 7], { stride: 2, padding: 3 }],
  ['dilated', [1, 4, 9, 9], [4, 2, 3, 3], { padding: 2, dilation: 2, groups: 2 }],
];

for (const backend of loadableBackends() as Backend<unknown>[]) {
  const name = backend.name;
  const k = backend.kernels as Kernels<unknown>;
  // the reference backend is checked in float64 (exact to rounding); a fast backend in float32, the
  // dtype its own kernels run (native declines float64 to the reference kernels: testing it in
  // float64 would test those), and its fallback count must not move
  const exact = name === 'reference' || name === 'meta';
  const dtype = exact ? 'float64' : 'float32';
  const tol = exact ? 1e-12 : 1e-4,
    adjointTol = exact ? 1e-9 : 1e-4;
  const put = (v: ArrayLike<number>) => backend.fromValues(dtype, v);
  const get = (s: unknown) => backend.read(s);

  describe(`conformance: ${name} backend`, () => {
    if (!backend.hasData) {
      it('produces storages of the reference sizes', () => {
        const g = resolveConvGeometry([2, 8, 9, 9], [8, 2, 3, 3], { stride: 2, padding: 1, groups: 4 });
        const ref = referenceBackend.kernels,
          size = backend.size.bind(backend);
        const rx = referenceBackend.zeros('float32', 2 * 8 * 81),
          rw = referenceBackend.zeros('float32', 8 * 2 * 9);
        const mx = backend.zeros('float32', 2 * 8 * 81),
          mw = backend.zeros('float32', 8 * 2 * 9);
        assert.equal(size(k.conv2d(mx, mw, null, g)), ref.conv2d(rx, rw, null, g).length);
        const ry = ref.conv2d(rx, rw, null, g),
          my = k.conv2d(mx, mw, null, g);
        assert.equal(size(k.conv2dBackwardWeight(my, mx, g)), ref.conv2dBackwardWeight(ry, rx, g).length);
        assert.equal(size(k.conv2dBackwardData(my, mw, g)), ref.conv2dBackwardData(ry, rw, g).length);
      });
      return;
    }
    for (const [label, xs, ws, opts] of convCases) {
      it(`conv2d ${label}: forward, fused and both backward kernels in ${dtype} against the definition`, () => {
        const fellBack = new Map(backend.fallbacks?.() ?? []);
        const g = resolveConvGeometry(xs, ws, opts);
        const x = rand(xs.reduce((a, b) => a * b)),
          w = rand(ws.reduce((a, b) => a * b)),
          b = rand(g.o);
        const y = directConv(x, w, b, g);
        assertClose(get(k.conv2d(put(x), put(w), put(b), g)), y, tol, 'forward');
        // the fused inference epilogue: relu?(conv + bias + residual?)
        const res = rand(y.length);
        assertClose(
          get(k.conv2dFused(put(x), put(w), put(b), put(res), true, g)),
          y.map((v, i) => Math.max(v + res[i], 0)),
          tol,
          'fused + residual + relu',
        );
        assertClose(get(k.conv2dFused(put(x), put(w), put(b), null, false, g)), y, tol, 'fused, no epilogue');
        // backward kernels via the adjoint identity <dy, conv(x, w)> = <conv_bwd_data(dy), x> = <conv_bwd_weight(dy, x), w>
        const dy = rand(y.length);
        const dot = (a: ArrayLike<number>, c: ArrayLike<number>) => {
          let s = 0;
          for (let i = 0; i < a.length; i++) s += a[i] * c[i];
          return s;
        };
        const lhs = dot(dy, directConv(x, w, null, g));
        const scale = Math.abs(lhs) + Math.sqrt(dot(dy, dy) * dot(x, x) * dot(w, w)) * 1e-3;
        assert.ok(
          Math.abs(dot(get(k.conv2dBackwardData(put(dy), put(w), g)), x) - lhs) < adjointTol * scale,
          'backward data',
        );
        assert.ok(
          Math.abs(dot(get(k.conv2dBackwardWeight(put(dy), put(x), g)), w) - lhs) < adjointTol * scale,
          'backward weights',
        );
        assert.deepEqual(new Map(backend.fallbacks?.() ?? []), fellBack, `every call ran on ${name} (no fallback)`);
      });
    }
    if (name !== 'reference') {
      it('float32 kernels match the reference backend to 1e-4 (conv cases above, groups 32, depthwise, odd sizes)', () => {
        const ref = referenceBackend.kernels;
        const f = (n: number) => Float32Array.from(rand(n));
        for (const [label, xs, ws, opts] of [
          ...convCases,
          ['32 groups, stride 2, odd', [2, 128, 9, 11], [128, 4, 3, 3], { stride: 2, padding: 1, groups: 32 }] as const,
        ]) {
          const g = resolveConvGeometry(xs, ws, opts);
          const x = f(xs.reduce((a, b) => a * b)),
            w = f(ws.reduce((a, b) => a * b)),
            b = f(g.o),
            dy = f(g.n * g.o * g.oh * g.ow);
          const own = (a: ArrayLike<number>) => backend.fromValues('float32', a);
          assertClose(get(k.conv2d(own(x), own(w), own(b), g)), ref.conv2d(x, w, b, g), 1e-4, `${label} forward`);
          const res = f(dy.length);
          for (const [r, relu] of [
            [res, true],
            [res, false],
            [null, true],
          ] as const) {
            assertClose(
              get(k.conv2dFused(own(x), own(w), own(b), r && own(r), relu, g)),
              ref.conv2dFused(x, w, b, r, relu, g),
              1e-4,
              `${label} fused ${r ? 'residual' : ''} ${relu ? 'relu' : ''}`,
            );
          }
          assertClose(
            get(k.conv2dBackwardData(own(dy), own(w), g)),
            ref.conv2dBackwardData(dy, w, g),
            1e-4,
            `${label} backward data`,
          );
          assertClose(
            get(k.conv2dBackwardWeight(own(dy), own(x), g)),
            ref.conv2dBackwardWeight(dy, x, g),
            1e-4,
            `${label} backward weights`,
          );
        }
        const xs = f(2 * 5 * 12),
          gm = f(5),
          bt = f(5),
          dys = f(2 * 5 * 12),
          geo = { n: 2, c: 5, hw: 12 };
        const own = (a: ArrayLike<number>) => backend.fromValues('float32', a);
        assertClose(get(k.relu(own(xs))), ref.relu(xs), 0, 'relu');
        assertClose(get(k.reluBackward(own(dys), own(xs))), ref.reluBackward(dys, xs), 0, 'reluBackward');
        assertClose(get(k.addScaled(own(xs), own(dys), 0.5, -2)), ref.addScaled(xs, dys, 0.5, -2), 1e-6, 'addScaled');
        // the in-place kernels write their result over their first input and return it
        const xo = own(xs),
          ao = own(xs);
        assert.equal(k.reluInPlace(xo), xo, 'reluInPlace returns its input');
        assertClose(get(xo), ref.relu(xs), 0, 'reluInPlace');
        assert.equal(k.addInPlace(ao, own(dys)), ao, 'addInPlace returns its first input');
        assertClose(get(ao), ref.addScaled(xs, dys, 1, 1), 0, 'addInPlace');
        assertClose(get(k.channelSum(own(xs), geo)), ref.channelSum(xs, geo), 1e-5, 'channelSum');
        const st = k.batchNormStats(own(xs), geo),
          rs = ref.batchNormStats(xs, geo);
        assertClose(get(st.mean), rs.mean, 1e-5, 'bn mean');
        assertClose(get(st.variance), rs.variance, 1e-5, 'bn var');
        assertClose(
          get(k.batchNormForward(own(xs), st.mean, st.variance, own(gm), own(bt), 1e-5, geo)),
          ref.batchNormForward(xs, rs.mean, rs.variance, gm, bt, 1e-5, geo),
          1e-5,
          'bn forward',
        );
        for (const batchStats of [true, false]) {
          const a = k.batchNormBackward(own(dys), own(xs), st.mean, st.variance, own(gm), 1e-5, batchStats, geo),
            r = ref.batchNormBackward(dys, xs, rs.mean, rs.variance, gm, 1e-5, batchStats, geo);
          assertClose(get(a.dx), r.dx, 1e-4, `bn dx ${batchStats}`);
          assertClose(get(a.dgamma), r.dgamma, 1e-4, 'bn dgamma');
          assertClose(get(a.dbeta), r.dbeta, 1e-4, 'bn dbeta');
        }
        const px = f(2 * 3 * 9 * 8),
          pg = { n: 2, c: 3, h: 9, w: 8, oh: 5, ow: 4, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
        const pdy = f(2 * 3 * 5 * 4);
        assertClose(get(k.maxPool2d(own(px), pg)), ref.maxPool2d(px, pg), 0, 'maxPool2d');
        assertClose(
          get(k.maxPool2dBackward(own(pdy), own(px), pg)),
          ref.maxPool2dBackward(pdy, px, pg),
          1e-6,
          'maxPool2dBackward',
        );
        const ag = { ...pg, oh: 4, ow: 3, kh: 0, kw: 0, strideH: 0, strideW: 0, padH: 0, padW: 0 },
          ady = f(2 * 3 * 4 * 3);
        assertClose(get(k.adaptiveAvgPool2d(own(px), ag)), ref.adaptiveAvgPool2d(px, ag), 1e-6, 'adaptiveAvgPool2d');
        assertClose(
          get(k.adaptiveAvgPool2dBackward(own(ady), ag)),
          ref.adaptiveAvgPool2dBackward(ady, ag),
          1e-6,
          'adaptiveAvgPool2dBackward',
        );
        const lx = f(4 * 7),
          ldy = f(4 * 7),
          ly = ref.logSoftmax(lx, 4, 7);
        assertClose(get(k.logSoftmax(own(lx), 4, 7)), ly, 1e-6, 'logSoftmax');
        assertClose(
          get(k.logSoftmaxBackward(own(ldy), own(ly), 4, 7)),
          ref.logSoftmaxBackward(ldy, ly, 4, 7),
          1e-5,
          'logSoftmaxBackward',
        );
        const rb = f(7);
        assertClose(get(k.addRowBias(own(lx), own(rb), 4, 7)), ref.addRowBias(lx, rb, 4, 7), 1e-6, 'addRowBias');
        assertClose(get(k.mul(own(lx), own(ldy))), ref.mul(lx, ldy), 1e-6, 'mul');
        for (const h of [
          { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-2, nesterov: true },
          { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
        ]) {
          const pr = f(12),
            gr = f(12),
            bf = f(12);
          for (const buf of h.momentum ? [null, bf] : [null]) {
            const a = k.sgdStep(own(pr), own(gr), buf && own(buf), h),
              r = ref.sgdStep(pr, gr, buf, h);
            assertClose(get(a.param), r.param, 1e-6, 'sgd param');
            if (r.momentumBuffer) assertClose(get(a.momentumBuffer!), r.momentumBuffer, 1e-6, 'sgd buffer');
          }
        }
        for (const [ta, tb] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ]) {
          const a = f(6 * 7),
            bm = f(7 * 5);
          assertClose(
            get(k.matmul(backend.fromValues('float32', a), backend.fromValues('float32', bm), 6, 7, 5, ta, tb)),
            ref.matmul(a, bm, 6, 7, 5, ta, tb),
            1e-5,
            `matmul ${ta} ${tb}`,
          );
        }
      });
    }
    it('matmul in all transpose combinations', () => {
      const a = rand(6),
        b = rand(12);
      // A [2,3], B [3,4]
      const want = new Float64Array(8);
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 4; j++) for (let p = 0; p < 3; p++) want[i * 4 + j] += a[i * 3 + p] * b[p * 4 + j];
      const at = new Float64Array(6),
        bt = new Float64Array(12);
      for (let i = 0; i < 2; i++) for (let p = 0; p < 3; p++) at[p * 2 + i] = a[i * 3 + p];
      for (let p = 0; p < 3; p++) for (let j = 0; j < 4; j++) bt[j * 3 + p] = b[p * 4 + j];
      assertClose(get(k.matmul(put(a), put(b), 2, 3, 4, false, false)), want, tol, 'NN');
      assertClose(get(k.matmul(put(at), put(b), 2, 3, 4, true, false)), want, tol, 'TN');
      assertClose(get(k.matmul(put(a), put(bt), 2, 3, 4, false, true)), want, tol, 'NT');
      assertClose(get(k.matmul(put(at), put(bt), 2, 3, 4, true, true)), want, tol, 'TT');
    });
    it('batch norm statistics and forward', () => {
      const x = rand(2 * 3 * 4),
        g = { n: 2, c: 3, hw: 4 };
      const { mean, variance } = k.batchNormStats(put(x), g);
      const m = get(mean),
        v = get(variance);
      for (let c = 0; c < 3; c++) {
        const vals = [0, 1].flatMap((n) => Array.from(x.subarray((n * 3 + c) * 4, (n * 3 + c + 1) * 4)));
        const mu = vals.reduce((a, b) => a + b) / 8;
        assert.ok(Math.abs(m[c] - mu) < tol * 10);
        assert.ok(Math.abs(v[c] - vals.reduce((a, b) => a + (b - mu) ** 2, 0) / 8) < tol * 10);
      }
      const y = get(k.batchNormForward(put(x), mean, variance, put([1, 2, 3]), put([0, 1, 0]), 1e-5, g));
      assert.ok(Math.abs(y[5] - (((x[5] - m[1]) / Math.sqrt(v[1] + 1e-5)) * 2 + 1)) < tol * 10);
    });
    it('pooling: max with padding, average, adaptive windows', () => {
      const x = Float64Array.from({ length: 16 }, (_, i) => i); // one 4x4 plane, 0..15
      const g = { n: 1, c: 1, h: 4, w: 4, oh: 2, ow: 2, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
      assert.deepEqual(Array.from(get(k.maxPool2d(put(x), g))), [5, 7, 13, 15]);
      // windows: rows {0,1}|{1,2,3} × cols {0,1}|{1,2,3}; sums 10, 24, 51, 90
      assertClose(get(k.avgPool2d(put(x), g, true)), [10 / 9, 24 / 9, 51 / 9, 90 / 9], tol, 'avg, padding counted');
      assertClose(
        get(k.avgPool2d(put(x), g, false)),
        [10 / 4, 24 / 6, 51 / 6, 90 / 9],
        tol,
        'avg, padding not counted',
      );
      const ga = { ...g, oh: 3, ow: 1, kh: 0, kw: 0, strideH: 0, strideW: 0, padH: 0, padW: 0 };
      // rows [0,2), [1,3), [2,4) of a 4-row plane; all columns
      assert.deepEqual(Array.from(get(k.adaptiveAvgPool2d(put(x), ga))), [3.5, 7.5, 11.5]);
    });
    it('log-softmax, nll with smoothing, relu, sums', () => {
      const x = [1, 2, 3, 0, 0, 0];
      const lsm = get(k.logSoftmax(put(x), 2, 3));
      const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
      assertClose(lsm, [1 - lse, 2 - lse, 3 - lse, -Math.log(3), -Math.log(3), -Math.log(3)], tol, 'logSoftmax');
      const loss = get(k.nllLoss(put(lsm), Int32Array.from([2, 0]), 2, 3, 0.3));
      assert.ok(Math.abs(loss[0] - (-0.7 * lsm[2] - 0.1 * (lsm[0] + lsm[1] + lsm[2]))) < tol * 10);
      assert.deepEqual(Array.from(get(k.relu(put([-1, 0, 2])))), [0, 0, 2]);
      assert.deepEqual(Array.from(get(k.sumAll(put([1, 2, 3.5])))), [6.5]);
      assert.deepEqual(Array.from(get(k.channelSum(put([1, 2, 3, 4, 5, 6, 7, 8]), { n: 2, c: 2, hw: 2 }))), [
        1 + 2 + 5 + 6,
        3 + 4 + 7 + 8,
      ]);
    });
  });
}

it('the kernel table is complete on every backend', () => {
  const names = Object.keys(referenceBackend.kernels) as KernelName[];
  for (const b of loadableBackends()) assert.deepEqual(Object.keys(b.kernels).sort(), [...names].sort());
});
