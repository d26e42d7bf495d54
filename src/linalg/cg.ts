/**
 * Preconditioned conjugate gradients for A·x = b with A symmetric positive semi-definite whose null
 * space holds the three rigid translations (a Hessian of a periodic system). With
 * projectTranslations (the default) b, every iterate, residual, preconditioned residual and search
 * direction are projected orthogonal to the translations, so CG runs on the subspace where A is
 * positive definite and returns the pseudo-inverse solution x = A⁺·b.
 *
 * Convergence is judged on the true relative residual ‖b − A·x‖/‖b‖ (b projected), recomputed
 * from A·x when the recurrence says it is met, so rounding drift in the recurrence never makes an
 * unconverged x look converged. Every exit reports converged, iterations and that residual.
 */
import type { BlockHessian } from './hessian.ts';
import { hessianDiagonalBlocks } from './hessian.ts';
import type { LinearOperator } from './operator.ts';
import { blockDiagonalApply, cgAdvance, cgDirection, dot, projectOutTranslations } from './vectors.ts';
import { kernelArray, kernelCopy, releaseArray } from '../util/kernels.ts';

export interface CgOptions {
  /** Relative residual ‖b − A·x‖/‖b‖ to reach (default 1e-10). */
  tol?: number;
  /** Default max(200, 2·dim). */
  maxIterations?: number;
  /** An approximate inverse of A, symmetric positive definite: z = M⁻¹·r. */
  preconditioner?: LinearOperator;
  /** Work orthogonal to rigid translations (default true; dim must be 3N). */
  projectTranslations?: boolean;
  /** Starting guess (default 0). */
  x0?: Float64Array;
}

export interface CgResult {
  x: Float64Array;
  converged: boolean;
  iterations: number;
  /** True relative residual ‖b − A·x‖/‖b‖ of the returned x (b projected when projecting). */
  residual: number;
  /** Why the solver stopped: tol reached; iteration limit; A or M not positive on a direction; NaN/∞. */
  reason: 'converged' | 'max-iterations' | 'breakdown' | 'non-finite' | 'stagnated';
}

export const DEFAULT_CG_TOL = 1e-10;

export function solveCg(op: LinearOperator, b: Float64Array, opts: CgOptions = {}): CgResult {
  return solveCgMany(op, [b], opts)[0];
}

/**
 * Several independent solves A·x_k = b_k advanced in lockstep, each with its own recurrence (results
 * equal to solveCg's for each b_k, bit for bit): the products of one round are requested together,
 * the place where a product over several vectors at once would serve them (a JavaScript one streamed
 * the matrix once per round but measured no faster, so each product is applied on its own).
 */
export function solveCgMany(op: LinearOperator, bs: readonly Float64Array[], opts: CgOptions = {}): CgResult[] {
  const n = op.dim;
  for (const b of bs) if (b.length !== n) throw new RangeError(`solveCg: right-hand side has length ${b.length}, operator dimension ${n}`);
  const tol = opts.tol ?? DEFAULT_CG_TOL;
  if (!(tol > 0)) throw new RangeError(`solveCg: tol must be > 0; got ${tol}`);
  const project = opts.projectTranslations ?? true;
  if (project && n % 3 !== 0) throw new RangeError(`solveCg: projecting translations needs dim = 3N; got ${n}`);
  const solves = bs.map((b) => cgRecurrence(op.dim, b, tol, opts));
  const results: CgResult[] = new Array(bs.length);
  let pending = solves.map((s) => s.next());
  for (;;) {
    const xs: Float64Array[] = [], ys: Float64Array[] = [], waiting: number[] = [];
    pending.forEach((step, k) => {
      if (step.done) results[k] = step.value;
      else { xs.push(step.value.x); ys.push(step.value.y); waiting.push(k); }
    });
    if (waiting.length === 0) return results;
    for (let k = 0; k < xs.length; k++) op.apply(xs[k], ys[k]);
    pending = pending.map((step, k) => (waiting.includes(k) ? solves[k].next() : step));
  }
}

/** One preconditioned CG solve as a coroutine: it yields each product y = A·x it needs and resumes once y holds it. */
function* cgRecurrence(n: number, b: Float64Array, tol: number, opts: CgOptions): Generator<{ x: Float64Array; y: Float64Array }, CgResult, void> {
  const maxIt = opts.maxIterations ?? Math.max(200, 2 * n);
  const project = opts.projectTranslations ?? true;
  const P = project ? projectOutTranslations : (_v: Float64Array) => {};
  const M = opts.preconditioner;

  // the vectors live in the kernel memory, where the products and vector kernels use them in place
  const bp = kernelCopy(Float64Array, b);
  P(bp);
  const bnorm = Math.sqrt(dot(bp, bp));
  const x = opts.x0 ? kernelCopy(Float64Array, opts.x0) : kernelArray(Float64Array, n);
  if (!Number.isFinite(bnorm)) return { x, converged: false, iterations: 0, residual: NaN, reason: 'non-finite' };
  if (bnorm === 0) return { x: new Float64Array(n), converged: true, iterations: 0, residual: 0, reason: 'converged' };
  P(x);
  const r = kernelArray(Float64Array, n), q = kernelArray(Float64Array, n), z = kernelArray(Float64Array, n), p = kernelArray(Float64Array, n);

  // r = b − A·x after a `yield* trueResidual()`
  function* trueResidual(): Generator<{ x: Float64Array; y: Float64Array }, number, void> {
    yield { x, y: q };
    P(q);
    for (let k = 0; k < n; k++) r[k] = bp[k] - q[k];
    return Math.sqrt(dot(r, r)) / bnorm;
  }
  const precondition = (): number => {
    if (M) M.apply(r, z); else z.set(r);
    P(z);
    return dot(r, z);
  };
  const done = (reason: CgResult['reason'], iterations: number, residual: number): CgResult => ({
    x, converged: reason === 'converged', iterations, residual, reason,
  });

  try {
    let residual = yield* trueResidual();
    let it = 0;
    // Restarts happen only when the recurrence residual drifted below tol while the true one did not.
    for (let restart = 0; restart < 10; restart++) {
      if (residual <= tol) return done('converged', it, residual);
      if (it >= maxIt) return done('max-iterations', it, residual);
      let rz = precondition();
      if (!(rz > 0)) return done(Number.isFinite(rz) ? 'breakdown' : 'non-finite', it, residual);
      p.set(z);
      while (it < maxIt) {
        yield { x: p, y: q };
        P(q);
        const pq = dot(p, q);
        if (!(pq > 0)) return done(Number.isFinite(pq) ? 'breakdown' : 'non-finite', it, yield* trueResidual());
        const rr = Math.sqrt(cgAdvance(rz / pq, x, p, r, q)) / bnorm;
        it++;
        if (!Number.isFinite(rr)) return done('non-finite', it, rr);
        if (rr <= tol) break;
        const rzNew = precondition();
        if (!(rzNew > 0)) return done(Number.isFinite(rzNew) ? 'breakdown' : 'non-finite', it, yield* trueResidual());
        cgDirection(rzNew / rz, z, p);
        rz = rzNew;
      }
      residual = yield* trueResidual();
    }
    return done(residual <= tol ? 'converged' : 'stagnated', it, residual);
  } finally {
    for (const v of [bp, r, q, z, p]) releaseArray(v);
  }
}

/**
 * Block-Jacobi preconditioner z_i = (H_ii)⁻¹·r_i from 9 numbers per particle. A block that is not
 * positive definite (possible where compressed pairs dominate, or an isolated particle) falls back
 * to a multiple of the identity, |trace/3|⁻¹ or 1, so that the preconditioner stays SPD.
 */
export function blockJacobiFromBlocks(blocks: Float64Array): LinearOperator {
  const n = blocks.length / 9;
  const inv = kernelArray(Float64Array, 9 * n);
  for (let i = 0; i < n; i++) {
    const o = 9 * i;
    const a = blocks[o], b = blocks[o + 1], c = blocks[o + 2];
    const d = blocks[o + 4], e = blocks[o + 5], f = blocks[o + 8];
    // symmetric [[a b c] [b d e] [c e f]]: positive definite iff the leading minors are positive
    const c00 = d * f - e * e, c01 = c * e - b * f, c02 = b * e - c * d;
    const det = a * c00 + b * c01 + c * c02;
    if (a > 0 && a * d - b * b > 0 && det > 0) {
      const s = 1 / det;
      inv[o] = c00 * s; inv[o + 1] = c01 * s; inv[o + 2] = c02 * s;
      inv[o + 3] = c01 * s; inv[o + 4] = (a * f - c * c) * s; inv[o + 5] = (b * c - a * e) * s;
      inv[o + 6] = c02 * s; inv[o + 7] = (b * c - a * e) * s; inv[o + 8] = (a * d - b * b) * s;
    } else {
      const tr = Math.abs(a + d + f) / 3;
      const s = tr > 0 ? 1 / tr : 1;
      inv[o] = inv[o + 4] = inv[o + 8] = s;
    }
  }
  return { dim: 3 * n, apply: (x, y) => blockDiagonalApply(inv, x, y), release: () => releaseArray(inv) };
}

/** Block-Jacobi preconditioner of a stored Hessian (inverse 3×3 diagonal blocks). */
export function blockJacobiPreconditioner(H: BlockHessian): LinearOperator {
  return blockJacobiFromBlocks(hessianDiagonalBlocks(H));
}
