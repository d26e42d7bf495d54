/**
 * Small dense symmetric eigenproblems, for inside the iterative eigensolvers (Rayleigh–Ritz on a
 * Krylov basis of a few hundred vectors at most): Householder reduction to tridiagonal form and the
 * implicit QL algorithm with Wilkinson-type shifts (the EISPACK tred2/tql2 pair, as in JAMA).
 * Matrices are row-major Float64Array; eigenvalues come back ascending and eigenvector j is row j of
 * `vectors` (contiguous, so that the rotations of the QL sweep run along memory).
 */

export interface SymmetricEigen {
  /** Ascending. */
  values: Float64Array;
  /** n×n row-major; row j is the unit eigenvector of values[j]. Empty when not requested. */
  vectors: Float64Array;
}

/** QL sweeps allowed per eigenvalue before giving up (typically 1–3 are needed). */
const MAX_QL_SWEEPS = 60;

/** sqrt(a² + b²) without overflow or destructive underflow. */
function hypot2(a: number, b: number): number {
  const aa = Math.abs(a), ab = Math.abs(b);
  if (aa > ab) { const r = ab / aa; return aa * Math.sqrt(1 + r * r); }
  if (ab === 0) return 0;
  const r = aa / ab;
  return ab * Math.sqrt(1 + r * r);
}

/**
 * Eigen-decomposition of the symmetric tridiagonal matrix with diagonal `diag` (length n) and
 * off-diagonal `off` (length n − 1, off[i] couples i and i + 1). Inputs are not modified.
 */
export function tridiagonalEigen(diag: ArrayLike<number>, off: ArrayLike<number>, wantVectors = true): SymmetricEigen {
  const n = diag.length;
  if (off.length < n - 1) throw new RangeError(`off-diagonal needs ${n - 1} entries; got ${off.length}`);
  const d = Float64Array.from(diag);
  const e = new Float64Array(n);
  for (let i = 0; i + 1 < n; i++) e[i] = off[i];
  let z = new Float64Array(0);
  if (wantVectors) {
    z = new Float64Array(n * n);
    for (let i = 0; i < n; i++) z[i * n + i] = 1;
  }
  implicitQl(d, e, wantVectors ? z : null, n, n);
  return sortAscending(d, z, n, wantVectors ? n : 0);
}

/**
 * Eigen-decomposition of a dense symmetric n×n matrix (row-major; only symmetric input is
 * meaningful — the lower triangle is what is read). The input is not modified.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, wantVectors = true): SymmetricEigen {
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const { v, d, e } = reduce(a, n, wantVectors);
  if (!wantVectors) {
    implicitQl(d, e, null, n, 0);
    return sortAscending(d, new Float64Array(0), n, 0);
  }
  // rotations act on rows: transpose the accumulated Householder transform (columns → rows)
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    const t = v[i * n + j]; v[i * n + j] = v[j * n + i]; v[j * n + i] = t;
  }
  implicitQl(d, e, v, n, n);
  return sortAscending(d, v, n, n);
}

/**
 * Eigenvalues of a dense symmetric n×n matrix and the last component of each unit eigenvector
 * (`vectors` holds n numbers: vectors[j] = component n−1 of eigenvector j). This is what a Lanczos
 * convergence test needs, at O(n²) beyond the reduction: the Householder reduction runs from the
 * last row up, so its transform leaves the last coordinate alone, and the QL rotations need only
 * be applied to one number per eigenvector. Rows that are already tridiagonal are skipped by the
 * reduction, so a tridiagonal matrix with a small dense leading block costs little more than that block.
 */
export function symmetricEigenLastComponents(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const { d, e } = reduce(a, n, false);
  const z = new Float64Array(n);
  z[n - 1] = 1;
  implicitQl(d, e, z, n, 1);
  return sortAscending(d, z, n, 1);
}

/** Householder reduction of a copy of a; d, e ready for implicitQl (e[i] couples i and i+1). */
function reduce(a: ArrayLike<number>, n: number, accumulate: boolean): { v: Float64Array; d: Float64Array; e: Float64Array } {
  if (a.length < n * n) throw new RangeError(`matrix needs ${n * n} entries for n = ${n}; got ${a.length}`);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) v[i] = a[i];
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  householderTridiagonal(v, d, e, n, accumulate);
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  return { v, d, e };
}

/**
 * Householder reduction of the symmetric matrix v (overwritten by the orthogonal transform Q,
 * columns, when accumulating) to tridiagonal form: diagonal d, sub-diagonal e[1..n−1] (e[i]
 * couples i−1 and i).
 */
function householderTridiagonal(v: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i - 1; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      // row i is already tridiagonal: nothing to annihilate
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[j * n + i] = f;
        g = e[j] + v[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j] * d[k];
          e[k] += v[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) v[k * n + j] -= f * e[k] + g * d[k];
        d[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  if (!accumulate) {
    for (let j = 0; j < n; j++) d[j] = v[j * n + j];
    e[0] = 0;
    return;
  }
  // accumulate the transformations
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i];
    v[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1] * v[k * n + j];
        for (let k = 0; k <= i; k++) v[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j];
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * Implicit QL on the tridiagonal (d, e) with e[i] coupling i and i+1. When z is given (n rows of
 * `width` numbers), the rotations are applied to its rows: starting from the identity or the
 * transposed Householder transform, row j ends as the eigenvector of d[j] (or the chosen
 * components of it).
 */
function implicitQl(d: Float64Array, e: Float64Array, z: Float64Array | null, n: number, width: number): void {
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let sweeps = 0;
      do {
        if (++sweeps > MAX_QL_SWEEPS) throw new Error(`implicit QL did not converge for eigenvalue ${l} of ${n} in ${MAX_QL_SWEEPS} sweeps`);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot2(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot2(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (z) {
            const ri = i * width, rj = (i + 1) * width;
            for (let k = 0; k < width; k++) {
              const zh = z[rj + k];
              const zi = z[ri + k];
              z[rj + k] = s * zi + c * zh;
              z[ri + k] = c * zi - s * zh;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

function sortAscending(d: Float64Array, z: Float64Array, n: number, width: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a] - d[b]);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = d[order[i]];
  const vectors = new Float64Array(n * width);
  for (let i = 0; i < n; i++) vectors.set(z.subarray(order[i] * width, order[i] * width + width), i * width);
  return { values, vectors };
}
