// The wasm backend (first stage): the committed module is the one binary.ts carries, its GEMM
// handles every edge of its blocking against the reference, and a buffer beyond wasm's 4 GiB is a
// clear error. Its kernels also run in the conformance, PyTorch-fixture and overfit suites (every
// loadable backend) and in the page's tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { referenceBackend } from '../src/backend/reference';
import { wasmBackend, wasmBytes, wasmKernels } from '../src/backend/wasm';
import { Generator } from '../src/tensor/random';
import { assertClose, ROOT } from './helpers';

const rand = (n: number, seed: number) => {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => g.random() * 2 - 1);
};

describe('wasm backend', () => {
  it('binary.ts carries exactly wasm/kernels.wasm (CI also rebuilds it from wasm/kernels.c)', () => {
    assert.deepEqual(Buffer.from(wasmBytes()), readFileSync(join(ROOT, 'wasm', 'kernels.wasm')));
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
