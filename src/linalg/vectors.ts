/**
 * Dense vector operations of the iterative solvers: dot products, the Lanczos basis operations
 * (Gram–Schmidt against a basis, combinations of basis vectors) and the CG recurrence's updates.
 *
 * Each runs in the WebAssembly kernel (assembly/vectors.ts) when that kernel set is in use and
 * every array it touches lives in the kernel memory (the solvers allocate theirs there), else in
 * the TypeScript reference below. Both do the same operations in the same order and give the same
 * bits: a sum keeps two partial sums, over even and odd entries (the two lanes of an f64x2), added
 * at the end; an element-wise update is the same expression per entry. Offsets (ao, wo, …) are in
 * entries.
 */
import { inKernelMemory, kernelSet, scratchCopy, wasmKernels, type WasmKernels } from '../util/kernels.ts';

/** The wasm kernels when in use and a, b (and c) are in the kernel memory, else null. */
function wasmFor(a: Float64Array, b: Float64Array, c?: Float64Array, d?: Float64Array): WasmKernels | null {
  if (kernelSet() !== 'wasm' || !inKernelMemory(a) || !inKernelMemory(b)) return null;
  if ((c && !inKernelMemory(c)) || (d && !inKernelMemory(d))) return null;
  return wasmKernels();
}

const at = (a: Float64Array, offset: number) => a.byteOffset + 8 * offset;

/** a[ao..ao+n) · b[bo..bo+n). */
export function dotAt(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  const k = wasmFor(a, b);
  if (k) return k.dot(at(a, ao), at(b, bo), n);
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) { s0 += a[ao + i] * b[bo + i]; s1 += a[ao + i + 1] * b[bo + i + 1]; }
  if (i < n) s0 += a[ao + i] * b[bo + i];
  return s0 + s1;
}

export function dot(a: Float64Array, b: Float64Array): number {
  return dotAt(a, 0, b, 0, a.length);
}

/** y[yo..yo+n) += s·x[xo..xo+n). */
export function axpyAt(s: number, x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): void {
  const k = wasmFor(x, y);
  if (k) { k.axpy(s, at(x, xo), at(y, yo), n); return; }
  for (let i = 0; i < n; i++) y[yo + i] += s * x[xo + i];
}

/** d += c·x; returns w·d (the updated d): one pass of the L-BFGS two-loop recursion. */
export function axpyDot(c: number, x: Float64Array, d: Float64Array, w: Float64Array): number {
  const n = d.length;
  const k = wasmFor(x, d, w);
  if (k) return k.axpyDot(c, x.byteOffset, d.byteOffset, w.byteOffset, n);
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const v0 = d[i] + c * x[i], v1 = d[i + 1] + c * x[i + 1];
    d[i] = v0; d[i + 1] = v1;
    s0 += w[i] * v0; s1 += w[i + 1] * v1;
  }
  if (i < n) {
    const v0 = d[i] + c * x[i];
    d[i] = v0;
    s0 += w[i] * v0;
  }
  return s0 + s1;
}

/** c[j] += V_j · W[wo..wo+n) for from ≤ j < to (V_j = V[j·n..(j+1)·n)), four basis vectors per sweep. */
export function basisDots(V: Float64Array, from: number, to: number, n: number, W: Float64Array, wo: number, c: Float64Array): void {
  if (to <= from) return;
  const k = wasmFor(V, W, c);
  if (k) { k.basisDots(at(V, from * n), to - from, n, at(W, wo), at(c, from)); return; }
  let j = from;
  for (; j + 4 <= to; j += 4) {
    const a0 = j * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
    let e0 = 0, e1 = 0, e2 = 0, e3 = 0, o0 = 0, o1 = 0, o2 = 0, o3 = 0;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const we = W[wo + i], wd = W[wo + i + 1];
      e0 += V[a0 + i] * we; o0 += V[a0 + i + 1] * wd;
      e1 += V[a1 + i] * we; o1 += V[a1 + i + 1] * wd;
      e2 += V[a2 + i] * we; o2 += V[a2 + i + 1] * wd;
      e3 += V[a3 + i] * we; o3 += V[a3 + i + 1] * wd;
    }
    if (i < n) {
      const wi = W[wo + i];
      e0 += V[a0 + i] * wi; e1 += V[a1 + i] * wi; e2 += V[a2 + i] * wi; e3 += V[a3 + i] * wi;
    }
    c[j] += e0 + o0; c[j + 1] += e1 + o1; c[j + 2] += e2 + o2; c[j + 3] += e3 + o3;
  }
  for (; j < to; j++) c[j] += dotAt(V, j * n, W, wo, n);
}

/** W[wo..wo+n) −= Σ_j c[j]·V_j for from ≤ j < to. */
export function basisSubtract(V: Float64Array, from: number, to: number, n: number, W: Float64Array, wo: number, c: Float64Array): void {
  if (to <= from) return;
  const k = wasmFor(V, W, c);
  if (k) { k.basisSubtract(at(V, from * n), to - from, n, at(W, wo), at(c, from)); return; }
  let j = from;
  for (; j + 4 <= to; j += 4) {
    const a0 = j * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
    const c0 = c[j], c1 = c[j + 1], c2 = c[j + 2], c3 = c[j + 3];
    for (let i = 0; i < n; i++) W[wo + i] -= c0 * V[a0 + i] + c1 * V[a1 + i] + c2 * V[a2 + i] + c3 * V[a3 + i];
  }
  for (; j < to; j++) axpyAt(-c[j], V, j * n, W, wo, n);
}

/** Entries per chunk of combineRows: a chunk of a 100-vector basis stays in a 1 MB L2 cache. */
const COMBINE_CHUNK = 512;

/**
 * X_r = Σ_j Y[yo + r·yStride + j]·V_j for r < rows, j < count (X_r = X[xo + r·n ..)): the basis is
 * swept once, chunk by chunk, each chunk reused for every output row while it is in cache.
 */
export function combineRows(
  V: Float64Array, count: number, n: number, Y: Float64Array, yo: number, yStride: number, rows: number, X: Float64Array, xo: number,
): void {
  const k = wasmFor(V, X);
  if (k) {
    // the coefficients (a small dense eigensolver's output) are copied into the kernel memory
    const ys = inKernelMemory(Y) ? at(Y, yo) : scratchCopy('combineRows', Y.subarray(yo, yo + (rows - 1) * yStride + count)).byteOffset;
    k.combineRows(V.byteOffset, count, n, ys, yStride, rows, at(X, xo));
    return;
  }
  X.fill(0, xo, xo + rows * n);
  for (let i0 = 0; i0 < n; i0 += COMBINE_CHUNK) {
    const i1 = Math.min(n, i0 + COMBINE_CHUNK);
    for (let r = 0; r < rows; r++) {
      const x0 = xo + r * n, y = yo + r * yStride;
      let j = 0;
      // eight basis vectors per sweep of the output chunk (measured 20 % faster than four)
      for (; j + 8 <= count; j += 8) {
        const a0 = j * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n, a4 = a3 + n, a5 = a4 + n, a6 = a5 + n, a7 = a6 + n;
        const y0 = Y[y + j], y1 = Y[y + j + 1], y2 = Y[y + j + 2], y3 = Y[y + j + 3];
        const y4 = Y[y + j + 4], y5 = Y[y + j + 5], y6 = Y[y + j + 6], y7 = Y[y + j + 7];
        for (let i = i0; i < i1; i++) {
          X[x0 + i] += y0 * V[a0 + i] + y1 * V[a1 + i] + y2 * V[a2 + i] + y3 * V[a3 + i] +
            y4 * V[a4 + i] + y5 * V[a5 + i] + y6 * V[a6 + i] + y7 * V[a7 + i];
        }
      }
      for (; j < count; j++) {
        const a0 = j * n, y0 = Y[y + j];
        for (let i = i0; i < i1; i++) X[x0 + i] += y0 * V[a0 + i];
      }
    }
  }
}

/** CG step: x += α·p, r −= α·q; returns r·r. */
export function cgAdvance(alpha: number, x: Float64Array, p: Float64Array, r: Float64Array, q: Float64Array): number {
  const n = x.length;
  const k = wasmFor(x, p, r, q);
  if (k) return k.cgAdvance(n, alpha, x.byteOffset, p.byteOffset, r.byteOffset, q.byteOffset);
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    x[i] += alpha * p[i]; x[i + 1] += alpha * p[i + 1];
    const r0 = r[i] - alpha * q[i], r1 = r[i + 1] - alpha * q[i + 1];
    r[i] = r0; r[i + 1] = r1;
    s0 += r0 * r0; s1 += r1 * r1;
  }
  if (i < n) {
    x[i] += alpha * p[i];
    const r0 = r[i] - alpha * q[i];
    r[i] = r0;
    s0 += r0 * r0;
  }
  return s0 + s1;
}

/** CG direction: p = z + β·p. */
export function cgDirection(beta: number, z: Float64Array, p: Float64Array): void {
  const k = wasmFor(z, p);
  if (k) { k.cgDirection(p.length, beta, z.byteOffset, p.byteOffset); return; }
  for (let i = 0; i < p.length; i++) p[i] = z[i] + beta * p[i];
}

/** Remove the three rigid translations (the mean of the x, y and z components) in place. */
export function projectOutTranslations(v: Float64Array): void {
  const count = v.length / 3;
  if (kernelSet() === 'wasm' && inKernelMemory(v)) { wasmKernels().projectOutTranslations(v.byteOffset, count); return; }
  let mx = 0, my = 0, mz = 0;
  for (let i = 0; i < v.length; i += 3) { mx += v[i]; my += v[i + 1]; mz += v[i + 2]; }
  mx /= count; my /= count; mz /= count;
  for (let i = 0; i < v.length; i += 3) { v[i] -= mx; v[i + 1] -= my; v[i + 2] -= mz; }
}

/** y_i = B_i·x_i for the 3×3 blocks B (9 numbers per block, row-major). */
export function blockDiagonalApply(B: Float64Array, x: Float64Array, y: Float64Array): void {
  const count = B.length / 9;
  const k = wasmFor(B, x, y);
  if (k) { k.blockDiagonalApply(count, B.byteOffset, x.byteOffset, y.byteOffset); return; }
  for (let i = 0; i < count; i++) {
    const o = 9 * i, x0 = x[3 * i], x1 = x[3 * i + 1], x2 = x[3 * i + 2];
    y[3 * i] = B[o] * x0 + B[o + 1] * x1 + B[o + 2] * x2;
    y[3 * i + 1] = B[o + 3] * x0 + B[o + 4] * x1 + B[o + 5] * x2;
    y[3 * i + 2] = B[o + 6] * x0 + B[o + 7] * x1 + B[o + 8] * x2;
  }
}
