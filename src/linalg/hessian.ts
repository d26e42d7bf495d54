/**
 * The Hessian H = ∂²U/∂x∂x of a pair-potential configuration as a symmetric sparse matrix of 3×3
 * blocks, and the same product H·z computed matrix-free from the pair table.
 *
 * Per interacting pair ⟨ij⟩, d = r_j − r_i, r = |d|, the pair stiffness block is
 *
 *   M = φ″·n nᵀ + (φ′/r)·(I − n nᵀ) = (φ′/r)·I + (φ″ − φ′/r)·d dᵀ/r²
 *
 * and it enters H_ii += M, H_jj += M, H_ij = H_ji = −M.
 *
 * Storage: block compressed rows, upper triangle only (block columns j ≥ i; the diagonal block is
 * the first of every row). Rows are in the system's particle order, which prepared glasses keep
 * spatially sorted (neighbors close in memory). The product applies each off-diagonal block and
 * its transpose: 3.2 ns/block against 4.8 for full storage (measured at N = 10976).
 */
import type { System } from '../engine/system.ts';
import { buildPairTable, type PairTable } from '../engine/pair-table.ts';
import type { LinearOperator } from './operator.ts';
import { inKernelMemory, kernelArray, kernelSet, releaseArray, wasmKernels } from '../util/kernels.ts';

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

/** Assemble the sparse Hessian of sys at its current positions (pairs inside the cutoff only). */
export function assembleHessian(sys: System, pairs: PairTable = buildPairTable(sys)): BlockHessian {
  const n = sys.species.length;
  const rowStart = kernelArray(Int32Array, n + 1);
  for (let p = 0; p < pairs.count; p++) rowStart[pairs.i[p] + 1]++;
  for (let i = 0; i < n; i++) rowStart[i + 1] += rowStart[i] + 1; // + 1: the diagonal block
  const blocks = rowStart[n];
  const colIndex = kernelArray(Int32Array, blocks);
  const values = kernelArray(Float64Array, 9 * blocks);
  const fill = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    colIndex[rowStart[i]] = i;
    fill[i] = rowStart[i] + 1;
  }
  const { i: pi, j: pj, d, r2: r2a, dphiOverR, d2phi } = pairs;
  for (let p = 0; p < pairs.count; p++) {
    const i = pi[p], j = pj[p];
    const dx = d[3 * p], dy = d[3 * p + 1], dz = d[3 * p + 2];
    const g = dphiOverR[p];
    const c = (d2phi[p] - g) / r2a[p];
    const mxx = g + c * dx * dx, myy = g + c * dy * dy, mzz = g + c * dz * dz;
    const mxy = c * dx * dy, mxz = c * dx * dz, myz = c * dy * dz;
    const b = 9 * fill[i];
    colIndex[fill[i]++] = j;
    values[b] = -mxx; values[b + 1] = -mxy; values[b + 2] = -mxz;
    values[b + 3] = -mxy; values[b + 4] = -myy; values[b + 5] = -myz;
    values[b + 6] = -mxz; values[b + 7] = -myz; values[b + 8] = -mzz;
    for (let side = 0; side < 2; side++) {
      const a = 9 * rowStart[side === 0 ? i : j];
      values[a] += mxx; values[a + 1] += mxy; values[a + 2] += mxz;
      values[a + 3] += mxy; values[a + 4] += myy; values[a + 5] += myz;
      values[a + 6] += mxz; values[a + 7] += myz; values[a + 8] += mzz;
    }
  }
  return { n, rowStart, colIndex, values, storage: 'upper' };
}

/**
 * y = H·x (y overwritten), by the WebAssembly kernel when that kernel set is in use and H lives in
 * the kernel memory (x and y are staged through it when they do not: 2·3n copies against 9 numbers
 * per block).
 */
export function hessianMultiply(H: BlockHessian, x: Float64Array, y: Float64Array): void {
  if (kernelSet() === 'wasm' && inKernelMemory(H.values) && inKernelMemory(H.colIndex) && inKernelMemory(H.rowStart)) {
    const xs = inKernelMemory(x) ? x : stage(0, x);
    const ys = inKernelMemory(y) ? y : stage(1, y);
    wasmKernels().hessianMultiply(H.n, H.rowStart.byteOffset, H.colIndex.byteOffset, H.values.byteOffset, xs.byteOffset, ys.byteOffset);
    if (ys !== y) y.set(ys);
    return;
  }
  hessianMultiplyJs(H, x, y);
}

/** Kernel-memory vectors for hessianMultiply's operands, kept between calls. */
const staged: Float64Array[] = [];
function stage(slot: number, a: Float64Array): Float64Array {
  if (staged[slot]?.length !== a.length) staged[slot] = kernelArray(Float64Array, a.length);
  if (slot === 0) staged[slot].set(a);
  return staged[slot];
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

/**
 * out = H·z without a stored matrix, from the pair table (docs/methods.md §9):
 * per pair, z_ij = z_j − z_i, a = n·z_ij,
 *   h = φ″·a·n + (φ′/r)·(z_ij − a·n)   added to j, subtracted from i.
 */
export function hessianMatrixFree(table: PairTable, z: Float64Array, out: Float64Array): void {
  const { count, i: pi, j: pj, d, r2, dphiOverR, d2phi } = table;
  out.fill(0);
  for (let p = 0; p < count; p++) {
    const i3 = 3 * pi[p], j3 = 3 * pj[p];
    const dx = d[3 * p], dy = d[3 * p + 1], dz = d[3 * p + 2];
    const g = dphiOverR[p];
    const ux = z[j3] - z[i3], uy = z[j3 + 1] - z[i3 + 1], uz = z[j3 + 2] - z[i3 + 2];
    const c = (d2phi[p] - g) * (dx * ux + dy * uy + dz * uz) / r2[p];
    const hx = c * dx + g * ux, hy = c * dy + g * uy, hz = c * dz + g * uz;
    out[j3] += hx; out[j3 + 1] += hy; out[j3 + 2] += hz;
    out[i3] -= hx; out[i3 + 1] -= hy; out[i3 + 2] -= hz;
  }
}

/** The matrix-free product as an operator (for solvers that should not store H). */
export function hessianMatrixFreeOperator(sys: System): LinearOperator {
  const table = buildPairTable(sys);
  return { dim: 3 * sys.species.length, apply: (x, y) => hessianMatrixFree(table, x, y) };
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
