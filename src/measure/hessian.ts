/**
 * The Hessian H = ∂²U/∂x∂x of a pair-potential configuration: the physics side of the sparse
 * Hessian (its storage and products are src/linalg/hessian.ts). This module is the one home of the
 * pair stiffness block; everything that turns a pair table into Hessian entries or Hessian-like
 * products (assembly, the matrix-free product, the strain derivative Ξ in elastic.ts) goes through
 * pairStiffnessBlock. Its only other copy is the WebAssembly assembly kernel (assembly/stiffness.ts).
 *
 * Per interacting pair ⟨ij⟩, d = r_j − r_i, r = |d|, the pair stiffness block is
 *
 *   M = φ″·n nᵀ + (φ′/r)·(I − n nᵀ) = (φ′/r)·I + (φ″ − φ′/r)·d dᵀ/r²
 *
 * and it enters H_ii += M, H_jj += M, H_ij = H_ji = −M.
 */
import { buildPairTable, type PairTable } from '../engine/pair-table.ts';
import type { System } from '../engine/system.ts';
import type { BlockHessian } from '../linalg/hessian.ts';
import type { LinearOperator } from '../linalg/operator.ts';
import { kernelArray, kernelCopy, kernelSet, releaseArray, wasmKernels, type KernelArray, type KernelArrayType } from '../util/kernels.ts';

/** M of pair p, 9 numbers row-major, into out[at .. at + 9). */
export function pairStiffnessBlock(pairs: PairTable, p: number, out: Float64Array, at: number): void {
  const d = pairs.d;
  const dx = d[3 * p], dy = d[3 * p + 1], dz = d[3 * p + 2];
  const g = pairs.dphiOverR[p];
  const c = (pairs.d2phi[p] - g) / pairs.r2[p];
  const mxy = c * dx * dy, mxz = c * dx * dz, myz = c * dy * dz;
  out[at] = g + c * dx * dx; out[at + 1] = mxy; out[at + 2] = mxz;
  out[at + 3] = mxy; out[at + 4] = g + c * dy * dy; out[at + 5] = myz;
  out[at + 6] = mxz; out[at + 7] = myz; out[at + 8] = g + c * dz * dz;
}

/**
 * Assemble the sparse Hessian of sys at its current positions (pairs inside the cutoff only), by
 * the WebAssembly kernel when that kernel set is in use, by assembleHessianJs otherwise.
 */
export function assembleHessian(sys: System, pairs: PairTable = buildPairTable(sys)): BlockHessian {
  const n = sys.species.length;
  if (kernelSet() !== 'wasm') return assembleHessianJs(n, pairs);
  const H = hessianStorage(n, pairs);
  // the kernel reads the table from the kernel memory: copies for the call, given back at once
  const [i, j, d, r2, g, k] = [pairs.i, pairs.j, pairs.d, pairs.r2, pairs.dphiOverR, pairs.d2phi].map((a) => kernelCopy(a.constructor as KernelArrayType<KernelArray>, a));
  const fill = kernelArray(Int32Array, n);
  wasmKernels().assembleHessian(
    n, pairs.count, i.byteOffset, j.byteOffset, d.byteOffset, r2.byteOffset, g.byteOffset, k.byteOffset,
    H.rowStart.byteOffset, H.colIndex.byteOffset, H.values.byteOffset, fill.byteOffset,
  );
  for (const a of [i, j, d, r2, g, k, fill]) releaseArray(a);
  return H;
}

/** Block rows of the pairs' pattern (row i: its diagonal block, then one block per pair ⟨ij⟩), values zero. */
function hessianStorage(n: number, pairs: PairTable): BlockHessian {
  const rowStart = kernelArray(Int32Array, n + 1);
  for (let p = 0; p < pairs.count; p++) rowStart[pairs.i[p] + 1]++;
  for (let i = 0; i < n; i++) rowStart[i + 1] += rowStart[i] + 1; // + 1: the diagonal block
  const blocks = rowStart[n];
  return { n, rowStart, colIndex: kernelArray(Int32Array, blocks), values: kernelArray(Float64Array, 9 * blocks), storage: 'upper' };
}

/** The TypeScript reference of assembleHessian for n particles. */
export function assembleHessianJs(n: number, pairs: PairTable): BlockHessian {
  const H = hessianStorage(n, pairs);
  const { rowStart, colIndex, values } = H;
  const fill = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    colIndex[rowStart[i]] = i;
    fill[i] = rowStart[i] + 1;
  }
  for (let p = 0; p < pairs.count; p++) {
    const i = pairs.i[p], j = pairs.j[p];
    const k = fill[i]++;
    colIndex[k] = j;
    const b = 9 * k, a = 9 * rowStart[i], c = 9 * rowStart[j];
    pairStiffnessBlock(pairs, p, values, b);
    for (let e = 0; e < 9; e++) {
      const m = values[b + e];
      values[a + e] += m;
      values[c + e] += m;
      values[b + e] = -m;
    }
  }
  return H;
}

/**
 * out = H·z without a stored matrix, from the pair table (docs/methods.md §9): per pair,
 * h = M·(z_j − z_i), added to j, subtracted from i.
 */
export function hessianMatrixFree(pairs: PairTable, z: Float64Array, out: Float64Array): void {
  const m = blockScratch;
  out.fill(0);
  for (let p = 0; p < pairs.count; p++) {
    const i3 = 3 * pairs.i[p], j3 = 3 * pairs.j[p];
    pairStiffnessBlock(pairs, p, m, 0);
    const ux = z[j3] - z[i3], uy = z[j3 + 1] - z[i3 + 1], uz = z[j3 + 2] - z[i3 + 2];
    const hx = m[0] * ux + m[1] * uy + m[2] * uz;
    const hy = m[3] * ux + m[4] * uy + m[5] * uz;
    const hz = m[6] * ux + m[7] * uy + m[8] * uz;
    out[j3] += hx; out[j3 + 1] += hy; out[j3 + 2] += hz;
    out[i3] -= hx; out[i3 + 1] -= hy; out[i3 + 2] -= hz;
  }
}
const blockScratch = new Float64Array(9);

/** The matrix-free product as an operator (for solvers that should not store H). */
export function hessianMatrixFreeOperator(sys: System): LinearOperator {
  const table = buildPairTable(sys);
  return { dim: 3 * sys.species.length, apply: (x, y) => hessianMatrixFree(table, x, y) };
}
