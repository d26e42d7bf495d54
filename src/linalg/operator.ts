/**
 * A symmetric linear operator on R^dim, applied into a caller-owned output (no allocation per
 * product): the common interface of the stored Hessian, the matrix-free Hessian, preconditioners
 * and the iterative solvers built on them.
 */
export interface LinearOperator {
  readonly dim: number;
  /** y = A·x (y is overwritten; x and y must not alias). */
  apply(x: Float64Array, y: Float64Array): void;
  /** Give the kernel memory it holds back now, for operators made once per step of a long loop (unusable afterwards). */
  release?(): void;
}
