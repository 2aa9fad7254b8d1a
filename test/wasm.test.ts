// The wasm backend (first stage): the committed module is the one binary.ts carries, its GEMM
// handles every edge of its blocking against the reference, and a buffer beyond wasm's 4 GiB is a
// clear error. Its kernels also run in the conformance, PyTorch-fixture and overfit suites (every
// loadable backend) and in the page's tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { referenceBackend } from '../src/backend/reference';
import { KERNELS_THREADS_WASM_BASE64 } from '../src/backend/wasm/binary';
import '../src/backend/node'; // the Node entry: wasm threads over worker_threads
import {
  setWasmThreads,
  wasmBackend,
  wasmBytes,
  wasmKernels,
  wasmThreadStatus,
  wasmThreads,
} from '../src/backend/wasm';
import { Generator } from '../src/tensor/random';
import { assertClose, ROOT } from './helpers';

const rand = (n: number, seed: number) => {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.random() * 2 - 1);
};

describe('wasm backend', () => {
  it('binary.ts carries exactly both committed modules (CI also rebuilds them from wasm/kernels.c)', () => {
    assert.deepEqual(Buffer.from(wasmBytes()), readFileSync(join(ROOT, 'wasm', 'kernels.wasm')));
    assert.deepEqual(
      Buffer.from(KERNELS_THREADS_WASM_BASE64, 'base64'),
      readFileSync(join(ROOT, 'wasm', 'kernels-threads.wasm')),
    );
  });
  it('matmul equals the reference at shapes across the GEMM blocking (rows of 4, columns of 8, depth of 256)', () => {
    const k = wasmBackend.kernels,
      ref = referenceBackend.kernels;
    for (const [m, kd, n] of [
      [1, 1, 1],
      [4, 8, 8],
      [5, 300, 13],
      [9, 257, 17],
      [33, 600, 7],
    ])
      for (const ta of [false, true])
        for (const tb of [false, true]) {
          const a = rand(m * kd, m + kd),
            b = rand(kd * n, n + 7);
          assertClose(
            k.matmul(a, b, m, kd, n, ta, tb),
            ref.matmul(a, b, m, kd, n, ta, tb),
            1e-4,
            `${m}x${kd}x${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''}`,
          );
        }
  });
  it('an im2col buffer beyond the 4 GiB of wasm memory is an error naming the op and the size', () => {
    // 100,000 channels of 1x1 padded by 600: a tiny input whose 3x3 unfolding needs 1.3e12 floats
    const g = { n: 1, c: 100000, h: 1, w: 1, o: 1, kh: 3, kw: 3, oh: 1199, ow: 1199, strideH: 1, strideW: 1 };
    const geometry = { ...g, padH: 600, padW: 600, dilH: 1, dilW: 1, groups: 1 };
    assert.throws(
      () => wasmBackend.kernels.conv2d(new Float32Array(100000), new Float32Array(900000), null, geometry),
      /wasm backend: conv2d needs a work buffer \(im2col or packing\) of \d+ floats \([\d.]+ GiB\), more than the 4 GiB/,
    );
    // the module still works after the refusal
    const y = wasmBackend.kernels.matmul(Float32Array.from([1, 2]), Float32Array.from([3, 4]), 1, 2, 1, false, false);
    assert.deepEqual(Array.from(y), [11]);
  });
  it('the multiply-add probe runs (bench/wasm-peak.js times it)', () => {
    assert.ok(Number.isFinite(wasmKernels().madd_probe(1000)));
  });
});

describe('wasm backend: kernels beyond the GEMM', () => {
  const k = wasmBackend.kernels,
    ref = referenceBackend.kernels;
  it('pooling (max with NaN, average with and without padding counted, adaptive) equals the reference exactly', () => {
    const g = { n: 2, c: 3, h: 9, w: 8, oh: 5, ow: 4, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
    const x = rand(2 * 3 * 9 * 8, 3),
      dy = rand(2 * 3 * 5 * 4, 4);
    x[5] = Number.NaN; // a NaN wins its windows, forward and backward
    x[77] = Number.NaN;
    assert.deepEqual(k.maxPool2d(x, g), ref.maxPool2d(x, g));
    assert.deepEqual(k.maxPool2dBackward(dy, x, g), ref.maxPool2dBackward(dy, x, g));
    for (const pad of [true, false]) {
      assert.deepEqual(k.avgPool2d(x, g, pad), ref.avgPool2d(x, g, pad), `avg, padding counted: ${pad}`);
      assert.deepEqual(k.avgPool2dBackward(dy, g, pad), ref.avgPool2dBackward(dy, g, pad));
    }
    const ag = { ...g, oh: 4, ow: 3, kh: 0, kw: 0, strideH: 0, strideW: 0, padH: 0, padW: 0 },
      ady = rand(2 * 3 * 4 * 3, 5);
    assert.deepEqual(k.adaptiveAvgPool2d(x, ag), ref.adaptiveAvgPool2d(x, ag));
    assert.deepEqual(k.adaptiveAvgPool2dBackward(ady, ag), ref.adaptiveAvgPool2dBackward(ady, ag));
  });
  it('the direct grouped convolution with its epilogue (bias, residual, ReLU) equals the reference', () => {
    // ResNeXt's grouped 3x3 (stride 1 and 2), groups of 6 outputs (not a multiple of the 4-output block), dilation 2
    for (const [c, o, h, groups, stride, dil] of [
      [128, 128, 12, 32, 1, 1],
      [64, 64, 13, 16, 2, 1],
      [24, 24, 9, 4, 1, 2],
      [12, 24, 11, 4, 2, 1],
    ]) {
      const oh = Math.floor((h + 2 * dil - 2 * dil - 1) / stride) + 1;
      const g = { n: 2, c, h, w: h, o, kh: 3, kw: 3, oh, ow: oh, strideH: stride, strideW: stride };
      const geo = { ...g, padH: dil, padW: dil, dilH: dil, dilW: dil, groups };
      const x = rand(2 * c * h * h, c),
        w = rand((o * c * 9) / groups, o),
        b = rand(o, 1),
        r = rand(2 * o * oh * oh, 2);
      const what = `${c}->${o} g${groups} @${h} s${stride} d${dil}`;
      assertClose(k.conv2d(x, w, null, geo), ref.conv2d(x, w, null, geo), 1e-4, what);
      assertClose(k.conv2dFused(x, w, b, r, true, geo), ref.conv2dFused(x, w, b, r, true, geo), 1e-4, `${what} fused`);
    }
  });
});

describe('wasm backend: threads', { skip: !wasmThreadStatus().available && wasmThreadStatus().reason }, () => {
  const k = wasmBackend.kernels;
  const cases = {
    'dense 3x3, batch 1 (each GEMM split across threads)': [1, 16, 20, 32, 1],
    'dense 1x1, batch 4 (images across threads)': [4, 32, 10, 48, 1],
    'grouped 3x3, 8 groups (direct, groups across threads)': [2, 32, 10, 32, 8],
  };
  /** Every wasm kernel of a training step's conv, batch norm, ReLU and pooling at the current thread count. */
  const run = () =>
    Object.values(cases).flatMap(([n, c, h, o, groups]) => {
      const kh = groups > 1 || n === 1 ? 3 : 1;
      const geo = { n, c, h, w: h, o, kh, kw: kh, oh: h, ow: h, strideH: 1, strideW: 1 };
      const g = { ...geo, padH: kh >> 1, padW: kh >> 1, dilH: 1, dilW: 1, groups };
      const x = rand(n * c * h * h, 1),
        w = rand((o * c * kh * kh) / groups, 2),
        dy = rand(n * o * h * h, 3);
      const ch = { n, c: o, hw: h * h },
        st = k.batchNormStats(dy, ch);
      const pg = { n, c, h, w: h, oh: h >> 1, ow: h >> 1, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
      return [
        k.conv2d(x, w, null, g),
        k.conv2dBackwardData(dy, w, g),
        k.conv2dBackwardWeight(dy, x, g),
        st.mean,
        st.variance,
        k.batchNormBackward(dy, dy, st.mean, st.variance, null, 1e-5, true, ch).dx,
        k.relu(x),
        k.maxPool2dBackward(rand(pg.n * pg.c * pg.oh * pg.ow, 4), x, pg),
        k.matmul(x, x, c, n * h * h, c, false, true),
      ];
    });
  it('results are bit-identical on 1, 2 and 3 threads (no sum depends on how work is split)', () => {
    const before = wasmThreads();
    try {
      setWasmThreads(1);
      const one = run();
      for (const t of [2, 3]) {
        setWasmThreads(t);
        for (const [i, a] of run().entries()) assert.deepEqual(a, one[i], `output ${i} on ${t} threads`);
      }
    } finally {
      setWasmThreads(before);
    }
  });
  it('workers take part: they run chunks of a large convolution', async () => {
    const before = wasmThreads();
    setWasmThreads(2);
    try {
      const kernels = wasmKernels(),
        start = kernels.worker_chunks_run?.() ?? 0;
      const geo = { n: 1, c: 64, h: 56, w: 56, o: 64, kh: 3, kw: 3, oh: 56, ow: 56, strideH: 1, strideW: 1 };
      const g = { ...geo, padH: 1, padW: 1, dilH: 1, dilW: 1, groups: 1 };
      const x = rand(64 * 56 * 56, 1),
        w = rand(64 * 64 * 9, 2);
      // a worker boots asynchronously; until then the caller runs every chunk itself
      for (let i = 0; i < 100 && (kernels.worker_chunks_run?.() ?? 0) === start; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        k.conv2d(x, w, null, g);
      }
      assert.ok((kernels.worker_chunks_run?.() ?? 0) > start, 'a worker ran chunks');
    } finally {
      setWasmThreads(before);
    }
  });
  it('a thread count out of range is an error naming the range', () => {
    assert.throws(() => setWasmThreads(0), /wasm backend: threads must be an integer from 1 to 16, got 0/);
    assert.throws(() => setWasmThreads(17), /from 1 to 16, got 17/);
  });
});

describe('wasm backend: constants held in its memory', () => {
  it('a held storage is read in place, and its copy is freed once the storage is collected', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const geo = { n: 1, c: 64, h: 8, w: 8, o: 64, kh: 1, kw: 1, oh: 8, ow: 8, strideH: 1, strideW: 1 };
    const g = { ...geo, padH: 0, padW: 0, dilH: 1, dilW: 1, groups: 1 };
    const x = rand(64 * 64, 1),
      w = rand(64 * 64, 2);
    const fresh = wasmBackend.kernels.conv2d(x, w, null, g);
    wasmBackend.holdConstant?.(w);
    assert.deepEqual(wasmBackend.kernels.conv2d(x, w, null, g), fresh, 'the resident copy gives the same result');
    w.fill(0); // breaks the promise on purpose: the kernel reads the copy, not the array
    assert.deepEqual(wasmBackend.kernels.conv2d(x, w, null, g), fresh, 'read from wasm memory');
    // 60 held arrays of 4 MiB, each dropped: their copies come back (240 MiB would otherwise stay)
    const memory = () => wasmKernels().memory.buffer.byteLength;
    const before = memory();
    for (let i = 0; i < 60; i++) {
      wasmBackend.holdConstant?.(new Float32Array(1 << 20).fill(i));
      if (i % 5 === 4) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    assert.ok(memory() - before < 64 * 2 ** 20, `wasm memory grew by ${(memory() - before) / 2 ** 20} MiB`);
  });
});
