// Reference matrix multiply: C (+)= op(A)·op(B) on row-major slices, written for the JIT
// (i-k-j order with four rows of C per pass, so each row of B is loaded once per four rows).
import type { FArray } from './storage';

/** A row-major matrix slice: data, element offset and leading dimension. */
export interface MatrixRef {
  data: FArray;
  offset: number;
  ld: number;
}

/**
 * C[m,n] = beta·C + op(A)[m,k]·op(B)[k,n]. beta is 0 (overwrite) or 1 (accumulate).
 * op(A) = A or Aᵀ (transA: A stored [k,m]); op(B) = B or Bᵀ (transB: B stored [n,k]).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: MatrixRef,
  b: MatrixRef,
  c: MatrixRef,
  accumulate: boolean,
): void {
  const C = c.data;
  if (!accumulate) {
    for (let i = 0; i < m; i++) C.fill(0, c.offset + i * c.ld, c.offset + i * c.ld + n);
  }
  if (transB) {
    gemmNT(transA, m, n, k, a, b, c);
    return;
  }
  const A = a.data,
    B = b.data;
  // element (i, p) of op(A)
  const aRow = transA ? 1 : a.ld,
    aCol = transA ? a.ld : 1;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const c0 = c.offset + i * c.ld,
      c1 = c0 + c.ld,
      c2 = c1 + c.ld,
      c3 = c2 + c.ld;
    for (let p = 0; p < k; p++) {
      const ap = a.offset + p * aCol + i * aRow;
      const v0 = A[ap],
        v1 = A[ap + aRow],
        v2 = A[ap + 2 * aRow],
        v3 = A[ap + 3 * aRow];
      const bp = b.offset + p * b.ld;
      for (let j = 0; j < n; j++) {
        const bv = B[bp + j];
        C[c0 + j] += v0 * bv;
        C[c1 + j] += v1 * bv;
        C[c2 + j] += v2 * bv;
        C[c3 + j] += v3 * bv;
      }
    }
  }
  for (; i < m; i++) {
    const c0 = c.offset + i * c.ld;
    for (let p = 0; p < k; p++) {
      const v = A[a.offset + p * aCol + i * aRow];
      if (v === 0) continue;
      const bp = b.offset + p * b.ld;
      for (let j = 0; j < n; j++) C[c0 + j] += v * B[bp + j];
    }
  }
}

/** C += op(A)·Bᵀ: each element is a dot product of a row of op(A) and a row of B. */
function gemmNT(transA: boolean, m: number, n: number, k: number, a: MatrixRef, b: MatrixRef, c: MatrixRef): void {
  const A = a.data,
    B = b.data,
    C = c.data;
  const aRow = transA ? 1 : a.ld,
    aCol = transA ? a.ld : 1;
  const rowA = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) rowA[p] = A[a.offset + i * aRow + p * aCol];
    const ci = c.offset + i * c.ld;
    for (let j = 0; j < n; j++) {
      const bj = b.offset + j * b.ld;
      let s = 0;
      for (let p = 0; p < k; p++) s += rowA[p] * B[bj + p];
      C[ci + j] += s;
    }
  }
}
