/**
 * A symmetric linear operator on R^dim, applied into a caller-owned output (no allocation per
 * product): the common interface of the stored Hessian, the matrix-free Hessian, preconditioners
 * and the iterative solvers built on them.
 */
export interface LinearOperator {
  readonly dim: number;
  /** y = A·x (y is overwritten; x and y must not alias). */
  apply(x: Float64Array, y: Float64Array): void;
}

/** Remove the three rigid translations (the mean of the x, y and z components) in place. */
export function projectOutTranslations(v: Float64Array): void {
  const n = v.length / 3;
  let mx = 0, my = 0, mz = 0;
  for (let i = 0; i < v.length; i += 3) { mx += v[i]; my += v[i + 1]; mz += v[i + 2]; }
  mx /= n; my /= n; mz /= n;
  for (let i = 0; i < v.length; i += 3) { v[i] -= mx; v[i + 1] -= my; v[i + 2] -= mz; }
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}
