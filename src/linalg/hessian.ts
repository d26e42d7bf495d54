/**
 * The Hessian as a symmetric sparse matrix of 3×3 blocks: storage, the product H·z, dense form and
 * diagonal blocks. No physics here: the blocks are assembled from a configuration's pairs by
 * src/measure/hessian.ts.
 *
 * Storage: block compressed rows, upper triangle only (block columns j ≥ i; the diagonal block is
 * the first of every row). Rows are in the system's particle order, which prepared glasses keep
 * spatially sorted (neighbors close in memory). The product applies each off-diagonal block and
 * its transpose: 3.2 ns/block against 4.8 for full storage (measured at N = 10976).
 */
import type { LinearOperator } from './operator.ts';
import { inKernelMemory, kernelSet, releaseArray, scratchArray, scratchCopy, wasmKernels } from '../util/kernels.ts';
import { addThreadVectors, runParallel, splitRows, threadArgs, threadBounds, threadBuffer, threadCount } from '../util/threads.ts';

export interface BlockHessian {
  /** Number of particles (block rows); the matrix is 3n × 3n. */
  n: number;
  /** Blocks of row i are rowStart[i] .. rowStart[i+1]; the first is the diagonal block. */
  rowStart: Int32Array;
  /** Block column of each block (≥ its row: upper triangle). */
  colIndex: Int32Array;
  /** 9 numbers per block, row-major. */
  values: Float64Array;
  /** Only the upper triangle is stored; H_ji = H_ijᵀ is implied. */
  storage: 'upper';
}

/**
 * y = H·x (y overwritten), by the WebAssembly kernel when that kernel set is in use and H lives in
 * the kernel memory (x and y are staged through it when they do not: 2·3n copies against 9 numbers
 * per block).
 */
export function hessianMultiply(H: BlockHessian, x: Float64Array, y: Float64Array): void {
  if (kernelSet() === 'wasm' && inKernelMemory(H.values) && inKernelMemory(H.colIndex) && inKernelMemory(H.rowStart)) {
    const xs = inKernelMemory(x) ? x : scratchCopy('hessian x', x);
    const ys = inKernelMemory(y) ? y : scratchArray('hessian y', y.length);
    if (threadCount() > 1) threadedMultiply(H, xs, ys);
    else wasmKernels().hessianMultiply(0, H.n, H.n, H.rowStart.byteOffset, H.colIndex.byteOffset, H.values.byteOffset, xs.byteOffset, ys.byteOffset);
    if (ys !== y) y.set(ys);
    return;
  }
  hessianMultiplyJs(H, x, y);
}

/**
 * The product on threadCount() threads: thread k takes the block rows of about 1/T of the stored
 * blocks into its own vector (thread 0 into y); as a row's transposed blocks land in later rows,
 * the vectors are then added in thread order.
 */
function threadedMultiply(H: BlockHessian, x: Float64Array, y: Float64Array): void {
  const T = threadCount(), n = H.n;
  const rows = splitRows(H.rowStart, n, threadBounds('hessian'));
  for (let t = 0; t < T; t++) {
    const a = threadArgs(t);
    a[0] = rows[t]; a[1] = rows[t + 1]; a[2] = n;
    a[3] = H.rowStart.byteOffset; a[4] = H.colIndex.byteOffset; a[5] = H.values.byteOffset;
    a[6] = x.byteOffset; a[7] = (t === 0 ? y : threadBuffer('hessian', t, 3 * n)).byteOffset;
  }
  runParallel('hessianMultiply');
  addThreadVectors('hessian', y, rows, n);
}

/** The TypeScript reference of hessianMultiply. */
export function hessianMultiplyJs(H: BlockHessian, x: Float64Array, y: Float64Array): void {
  const { n, rowStart, colIndex, values: v } = H;
  y.fill(0);
  for (let i = 0; i < n; i++) {
    const i3 = 3 * i;
    const xi0 = x[i3], xi1 = x[i3 + 1], xi2 = x[i3 + 2];
    const first = rowStart[i], end = rowStart[i + 1];
    let b = 9 * first;
    let y0 = v[b] * xi0 + v[b + 1] * xi1 + v[b + 2] * xi2;
    let y1 = v[b + 3] * xi0 + v[b + 4] * xi1 + v[b + 5] * xi2;
    let y2 = v[b + 6] * xi0 + v[b + 7] * xi1 + v[b + 8] * xi2;
    for (let k = first + 1; k < end; k++) {
      const j = 3 * colIndex[k];
      b = 9 * k;
      const xj0 = x[j], xj1 = x[j + 1], xj2 = x[j + 2];
      const a0 = v[b], a1 = v[b + 1], a2 = v[b + 2], a3 = v[b + 3], a4 = v[b + 4], a5 = v[b + 5], a6 = v[b + 6], a7 = v[b + 7], a8 = v[b + 8];
      y0 += a0 * xj0 + a1 * xj1 + a2 * xj2;
      y1 += a3 * xj0 + a4 * xj1 + a5 * xj2;
      y2 += a6 * xj0 + a7 * xj1 + a8 * xj2;
      // the transposed block for row j (lower triangle, not stored)
      y[j] += a0 * xi0 + a3 * xi1 + a6 * xi2;
      y[j + 1] += a1 * xi0 + a4 * xi1 + a7 * xi2;
      y[j + 2] += a2 * xi0 + a5 * xi1 + a8 * xi2;
    }
    y[i3] += y0; y[i3 + 1] += y1; y[i3 + 2] += y2;
  }
}

export function hessianOperator(H: BlockHessian): LinearOperator {
  return { dim: 3 * H.n, apply: (x, y) => hessianMultiply(H, x, y) };
}

/** The n diagonal 3×3 blocks, 9 per particle row-major (for block preconditioners). */
export function hessianDiagonalBlocks(H: BlockHessian): Float64Array {
  const out = new Float64Array(9 * H.n);
  for (let i = 0; i < H.n; i++) out.set(H.values.subarray(9 * H.rowStart[i], 9 * H.rowStart[i] + 9), 9 * i);
  return out;
}

/** The full 3n × 3n matrix, row-major (small systems in tests only). */
export function hessianToDense(H: BlockHessian): Float64Array {
  const m = 3 * H.n;
  const A = new Float64Array(m * m);
  for (let i = 0; i < H.n; i++) {
    for (let k = H.rowStart[i]; k < H.rowStart[i + 1]; k++) {
      const j = H.colIndex[k];
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        const v = H.values[9 * k + 3 * a + b];
        A[(3 * i + a) * m + 3 * j + b] = v;
        if (j !== i) A[(3 * j + b) * m + 3 * i + a] = v;
      }
    }
  }
  return A;
}

/** Number of stored 3×3 blocks (diagonal + upper off-diagonal). */
export function hessianBlockCount(H: BlockHessian): number {
  return H.rowStart[H.n];
}

/**
 * Give H's storage back to the kernel memory now. Loops that assemble a Hessian per step (shear,
 * Newton) call it: garbage collection alone frees the blocks too late, and the memory never shrinks.
 */
export function releaseHessian(H: BlockHessian): void {
  releaseArray(H.values);
  releaseArray(H.colIndex);
  releaseArray(H.rowStart);
}
