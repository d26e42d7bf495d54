/**
 * The lowest eigenpairs of a large sparse symmetric positive semi-definite operator: thick-restart
 * Lanczos (Wu & Simon, SIAM J. Matrix Anal. Appl. 22, 602 (2000)).
 *
 * - Single vector (blockSize 1, the default): the three-term recurrence (arrowhead after a
 *   restart) with partial reorthogonalisation (Simon, Math. Comp. 42, 115 (1984)): a full
 *   Gram–Schmidt pass against the Lanczos chain only when the ω-recurrence estimates a loss of
 *   orthogonality above η ≈ 0.1·tol (that vector and the next). The coefficients that pass removes are
 *   added to T: they are entries of the projection the recurrence missed, and dropping them would
 *   leave the kept Ritz vectors' Lanczos relations wrong, a residual floor the estimates cannot see.
 *   The overlaps of new vectors with the kept Ritz vectors of a thick restart are measured instead
 *   of estimated (every step, or every few while they stay far below η) and removed when above η.
 *   Ritz values and vectors are then as accurate as with full reorthogonalisation, at a fraction
 *   of its cost.
 * - Block (blockSize b > 1): b vectors per step, fully reorthogonalised. A Krylov space grown from
 *   b vectors holds up to b copies of an eigenvalue, one grown from a single vector only one (more
 *   appear only from rounding, late and incompletely): exactly degenerate eigenvalues (the
 *   plane-wave multiplets of a crystal) need b above their multiplicity. This is detected and
 *   handled automatically: when a result repeats an eigenvalue (to within the residuals) b times
 *   or more — or at all for b = 1 — the solve is repeated with a larger block. Disordered samples
 *   have no exact degeneracies; their split multiplets are resolved by the single-vector method.
 *
 * The Rayleigh–Ritz problem is small and dense (eigen-tridiagonal.ts). Convergence is tested on
 * every wanted pair by its residual bound, and the returned pairs are then checked explicitly:
 * the k Ritz vectors are orthonormalised, a final Rayleigh–Ritz step on their span is done, and
 * ‖Aψ − θψ‖ is computed for each; `converged` is true only if every one is below tol·‖A‖.
 * Vectors an operator must not act on (the translations of a periodic Hessian) are removed by the
 * `project` callback from every new vector: the search runs in their orthogonal complement exactly.
 */
import type { LinearOperator } from './operator.ts';
import { symmetricEigen, symmetricEigenLastComponents } from './eigen-tridiagonal.ts';
import { createRandom } from '../util/random.ts';
import { kernelArray, releaseArray } from '../util/kernels.ts';
import { axpyAt, basisDots, basisSubtract, combineRows, dotAt } from './vectors.ts';

export interface LanczosOptions {
  /** Number of lowest eigenpairs wanted. */
  count: number;
  /** A pair is converged when ‖Aψ − θψ‖ ≤ tol·‖A‖ (‖A‖ estimated by the largest Ritz value). */
  tol?: number;
  /** Vectors per Lanczos step (> 1 only for exactly degenerate spectra, see above). */
  blockSize?: number;
  /** Largest basis (vectors) before a thick restart. */
  basisSize?: number;
  /** Ritz vectors kept at a thick restart (≥ count). */
  keep?: number;
  /** Give up (converged: false) after this many operator applications. */
  maxMatvecs?: number;
  /** Orthogonal projector onto the space searched (removes known null vectors), in place. */
  project?: (v: Float64Array) => void;
  /** Seed of the random start vector(s). */
  seed?: number;
  /** Repeat with a larger block when the result shows a repeated eigenvalue (default true). */
  growBlock?: boolean;
}

export interface EigenResult {
  /** Ascending eigenvalue estimates (Rayleigh quotients of the returned vectors). */
  values: Float64Array;
  /** count × dim, row r the unit eigenvector of values[r]; orthonormal. */
  vectors: Float64Array;
  /** ‖Aψ − θψ‖ per pair, computed explicitly. */
  residuals: Float64Array;
  /** Per pair: residual ≤ tolerance. */
  pairConverged: boolean[];
  /** Every pair converged, and no eigenvalue may be missing copies (multiplicityResolved). */
  converged: boolean;
  /** Block size of the final solve, and solves done (more than one when the block had to grow). */
  blockSize: number;
  runs: number;
  /** Most copies of one eigenvalue among the returned ones (equal to within the residuals). */
  largestMultiplicity: number;
  /** largestMultiplicity < blockSize (or both 1): no copies can be missing. */
  multiplicityResolved: boolean;
  /** The absolute residual bound used: tol·‖A‖. */
  tolerance: number;
  /** Estimate of ‖A‖ (largest Ritz value seen). */
  normEstimate: number;
  /** Operator applications (vectors), over all solves. */
  matvecs: number;
  /** Lanczos steps (blocks) taken, over all solves. */
  iterations: number;
  restarts: number;
  /** Gram–Schmidt passes over the Lanczos chain (single vector: when ω asks; block: every step). */
  reorthogonalizations: number;
}

/**
 * Defaults, chosen by measurement on Q = 240 glass Hessians (N = 2048, 10976; bench/modes.bench.ts):
 * for 20 modes a 160-vector basis keeping 30 at restarts was fastest (100 vectors needed 11–31 % more
 * products, 400 vectors 9–14 % fewer but cost more in orthogonalisation and restarts); tol 1e-10
 * costs ~3 % more products than 1e-9.
 */
export const LANCZOS_DEFAULTS = {
  tol: 1e-10,
  blockSize: 1,
  /** basisSize = max(basisMin, basisPerWanted·count) */
  basisMin: 160,
  basisPerWanted: 8,
  /** keep = count + max(keepExtraMin, keepExtraPerWanted·count) */
  keepExtraMin: 10,
  keepExtraPerWanted: 0.5,
  maxMatvecs: 200_000,
  seed: 1,
} as const;

const EPS = 2 ** -52;
/**
 * Threshold η of partial reorthogonalisation: the basis is kept orthogonal to within η. Simon's
 * η = √ε keeps Ritz values exact, but Ritz vectors built from a basis only that orthogonal have
 * residuals down to ~0.1·η·‖A‖ and no lower (seen on a chain operator: 3e-10·‖A‖ at η = √ε), so
 * η = 0.1·tol, within [ε^(3/4), √ε], puts that floor under the tolerance asked for at the fewest passes.
 */
function orthogonalityThreshold(tol: number): number {
  return Math.min(Math.sqrt(EPS), Math.max(EPS ** 0.75, 0.1 * tol));
}
/** Overlaps with the kept Ritz vectors are measured every `keptCheck` steps, up to this many. */
const MAX_KEPT_CHECK_INTERVAL = 8;
/** Explicit checks that may contradict the residual estimates before a solve gives up as unconverged. */
const MAX_FAILED_CHECKS = 3;
/** Single-vector steps between cheap convergence checks. */
const CHECK_EVERY = 20;

/**
 * The `count` lowest eigenpairs. With growBlock (default), a result holding an eigenvalue repeated
 * (to within the residuals) as often as the block size allows — or, in single-vector mode, at all —
 * may be missing copies: the solve is repeated with a block larger than the repetition until every
 * repeated eigenvalue occurs fewer times than the block size.
 */
export function lanczosSmallest(op: LinearOperator, opts: LanczosOptions): EigenResult {
  const k = opts.count;
  let b = opts.blockSize ?? LANCZOS_DEFAULTS.blockSize;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`count must be a positive integer; got ${k}`);
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`blockSize must be a positive integer; got ${b}`);
  const maxBlock = Math.floor((op.dim - 3) / 8);
  const totals = { matvecs: 0, iterations: 0, restarts: 0, reorthogonalizations: 0 };
  for (let runs = 1; ; runs++) {
    const r = lanczosRun(op, { ...opts, blockSize: b });
    totals.matvecs += r.matvecs;
    totals.iterations += r.iterations;
    totals.restarts += r.restarts;
    totals.reorthogonalizations += r.reorthogonalizations;
    const repeated = largestMultiplicity(r.values, r.residuals);
    const resolved = repeated < b || (b === 1 && repeated === 1);
    if (resolved || !r.converged || opts.growBlock === false || b >= maxBlock) {
      return { ...r, ...totals, blockSize: b, runs, largestMultiplicity: repeated, multiplicityResolved: resolved, converged: r.converged && resolved };
    }
    b = Math.min(maxBlock, Math.max(2 * b, repeated + 1));
  }
}

/** The most times one eigenvalue occurs among the sorted values, equal meaning |θ_i − θ_j| ≤ r_i + r_j. */
export function largestMultiplicity(values: ArrayLike<number>, residuals: ArrayLike<number>): number {
  let best = values.length > 0 ? 1 : 0;
  let start = 0;
  for (let i = 1; i < values.length; i++) {
    if (values[i] - values[start] > residuals[i] + residuals[start]) start = i;
    best = Math.max(best, i - start + 1);
  }
  return best;
}

type RunResult = Omit<EigenResult, 'blockSize' | 'runs' | 'largestMultiplicity' | 'multiplicityResolved'>;

/** One thick-restart Lanczos solve at a fixed block size. */
function lanczosRun(op: LinearOperator, opts: LanczosOptions & { blockSize: number }): RunResult {
  const n = op.dim;
  const k = opts.count;
  const b = opts.blockSize;
  const tol = opts.tol ?? LANCZOS_DEFAULTS.tol;
  const keepWanted = opts.keep ?? k + Math.max(LANCZOS_DEFAULTS.keepExtraMin, Math.round(LANCZOS_DEFAULTS.keepExtraPerWanted * k));
  // a block method needs a deeper basis: a few blocks beyond the kept vectors
  const mWanted = opts.basisSize ?? Math.max(LANCZOS_DEFAULTS.basisMin, LANCZOS_DEFAULTS.basisPerWanted * k, keepWanted + 6 * b);
  const maxMatvecs = opts.maxMatvecs ?? LANCZOS_DEFAULTS.maxMatvecs;
  const project = opts.project;
  if (!(tol > 0 && tol < 1)) throw new RangeError(`tol must be in (0, 1); got ${tol}`);
  if (keepWanted < k) throw new RangeError(`keep (${keepWanted}) must be at least count (${k})`);
  // the basis cannot outgrow the space (minus a margin for the null vectors the projector removes)
  const m = Math.min(Math.max(mWanted, keepWanted + 2 * b), n - 3 - b);
  const keep = Math.min(keepWanted, m - 2 * b);
  if (k > keep || m < 2 * b) {
    throw new RangeError(`count ${k} with block size ${b} is too large for an operator of dimension ${n}: at most ${Math.max(0, n - 3 - 3 * b)}`);
  }

  // the basis lives in the kernel memory: the products and the vector kernels use it in place
  const V = kernelArray(Float64Array, (m + b) * n);
  const W = kernelArray(Float64Array, b * n);
  const T = new Float64Array(m * m);
  const R = new Float64Array(b * b);
  const h = new Float64Array(m + b);
  const corr = kernelArray(Float64Array, m + b);
  const releaseBasis = () => { releaseArray(V); releaseArray(W); releaseArray(corr); };
  const rng = createRandom(opts.seed ?? LANCZOS_DEFAULTS.seed);
  // partial reorthogonalisation state (single vector): ω estimates of v_{j−1}, v_j against the basis
  let omegaPrev = new Float64Array(m + 1);
  let omegaCur = new Float64Array(m + 1);
  let omegaNext = new Float64Array(m + 1);
  const eps1 = EPS * Math.sqrt(n);
  const eta = orthogonalityThreshold(tol);
  let reorthNext = false;
  let keptCheck = 1;
  let sinceKeptCheck = 0;

  let cur = 0;
  let kept = 0;
  let matvecs = 0;
  let iterations = 0;
  let restarts = 0;
  let reorthogonalizations = 0;
  /** Largest Ritz value: the scale of the residual bound. */
  let normA = 0;
  /** Gershgorin-type bound of ‖A‖ from T: the scale of rounding in the ω-recurrence. */
  let normBound = 0;
  let sinceCheck = 0;
  /** Explicit checks that found the estimates too optimistic; each tightens the estimate test 10×. */
  let failedChecks = 0;

  for (let i = 0; i < b * n; i++) W[i] = rng.normal();
  for (let c = 0; c < b; c++) project?.(W.subarray(c * n, (c + 1) * n));
  orthonormalizeBlock(W, b, n, V, 0, R, rng, project);
  V.set(W, 0);

  for (;;) {
    for (let c = 0; c < b; c++) {
      const w = W.subarray(c * n, (c + 1) * n);
      op.apply(V.subarray((cur + c) * n, (cur + c + 1) * n), w);
      project?.(w);
    }
    matvecs += b;
    iterations++;
    const total = cur + b;
    // local recurrence: the new block couples to itself, the previous block and (first step after
    // a restart) the kept Ritz vectors — modified Gram–Schmidt against those
    const localStart = cur === kept ? 0 : cur - b;
    for (let c = 0; c < b; c++) {
      const wo = c * n;
      h.fill(0, 0, total);
      for (let j = localStart; j < total; j++) {
        const s = dotAt(V, j * n, W, wo, n);
        h[j] += s;
        axpyAt(-s, V, j * n, W, wo, n);
      }
      if (b > 1) {
        reorthogonalizations++;
        reorthogonalize(V, 0, total, n, W, wo, corr);
        for (let j = 0; j < total; j++) h[j] += corr[j];
      } else {
        // the kept Ritz vectors: overlaps measured (see the header) and removed when above the
        // threshold; the Lanczos chain: reorthogonalised when the ω-recurrence says so
        if (kept > 0 && (cur === kept || ++sinceKeptCheck >= keptCheck)) {
          sinceKeptCheck = 0;
          corr.fill(0, 0, kept);
          basisDots(V, 0, kept, n, W, wo, corr);
          const nw = Math.sqrt(dotAt(W, wo, W, wo, n));
          let worst = 0;
          for (let i = 0; i < kept; i++) worst = Math.max(worst, Math.abs(corr[i]));
          worst /= nw;
          if (worst > eta) {
            reorthogonalize(V, 0, kept, n, W, wo, corr);
            omegaNext.fill(eps1, 0, kept);
          } else {
            for (let i = 0; i < kept; i++) omegaNext[i] = corr[i] / nw;
          }
          // the overlaps grow slowly (about linearly: they come from the kept vectors' inexact
          // Lanczos relation): measure less often while they stay far below the threshold
          keptCheck = worst < 0.01 * eta ? Math.min(2 * keptCheck, MAX_KEPT_CHECK_INTERVAL) : 1;
        } else if (kept > 0) {
          omegaNext.set(omegaCur.subarray(0, kept));
        }
        const beta = Math.sqrt(dotAt(W, 0, W, 0, n));
        normBound = Math.max(normBound, Math.abs(h[cur]) + beta + (cur > kept ? Math.abs(h[cur - 1]) : 0));
        const worst = cur === kept ? 0 : estimateOrthogonality(T, m, cur, kept, h[cur], h[cur - 1], beta, omegaCur, omegaPrev, omegaNext, normBound, eps1);
        const chainPass: boolean = reorthNext || worst > eta;
        reorthNext = !reorthNext && chainPass;
        if (chainPass) {
          reorthogonalizations++;
          reorthogonalize(V, kept, total, n, W, wo, corr);
          // the removed components are entries v_i·A·v_j of the projection the recurrence missed:
          // dropping them leaves the kept Ritz vectors' Lanczos relation wrong by their size, which
          // accumulates over restarts into a residual floor the estimates cannot see
          for (let j = kept; j < total; j++) h[j] += corr[j];
          omegaNext.fill(eps1, kept, total);
        }
      }
      for (let j = 0; j < total; j++) T[j * m + cur + c] = h[j];
    }
    // T is symmetric: mirror the new columns into rows (the block's own square averaged)
    for (let c = 0; c < b; c++) for (let j = 0; j < total; j++) {
      if (j >= cur && j - cur > c) continue;
      const s = j >= cur ? 0.5 * (T[j * m + cur + c] + T[(cur + c) * m + j]) : T[j * m + cur + c];
      T[j * m + cur + c] = s;
      T[(cur + c) * m + j] = s;
    }
    if (b === 1) {
      if (cur === kept) omegaNext.fill(eps1, 0, total);
      const t = omegaPrev; omegaPrev = omegaCur; omegaCur = omegaNext; omegaNext = t;
      omegaCur[total] = 1;
    }
    cur = total;
    orthonormalizeBlock(W, b, n, V, cur, R, rng, project);
    V.set(W, cur * n);
    sinceCheck += b;

    const basisFull = cur + b > m;
    const budgetSpent = matvecs >= maxMatvecs;
    if (!basisFull && !budgetSpent && sinceCheck < (b === 1 ? CHECK_EVERY : Math.max(10, 2 * b))) continue;
    sinceCheck = 0;
    const estimateBound = () => tol * normA * 0.1 ** failedChecks;
    if (cur >= k && !basisFull && b === 1) {
      // cheap test: eigenvalues and last eigenvector components of T's arrowhead-tridiagonal part
      const ritz = symmetricEigenLastComponents(structuredPrincipal(T, m, cur, kept), cur);
      normA = Math.max(normA, ritz.values[cur - 1]);
      let ok = true;
      for (let i = 0; i < k && ok; i++) ok = Math.abs(R[0] * ritz.vectors[i]) <= estimateBound();
      if (!ok && !budgetSpent) continue;
    }
    const ritz = symmetricEigen(principal(T, m, cur), cur);
    normA = Math.max(normA, ritz.values[cur - 1]);
    let ok = cur >= k;
    for (let i = 0; i < k && ok; i++) ok = blockResidual(ritz.vectors, i, cur, b, R) <= estimateBound();
    if (ok || budgetSpent) {
      const result = finalize(op, V, ritz.vectors, cur, k, n, tol * normA, project);
      if (result.converged || matvecs + result.matvecs >= maxMatvecs) {
        releaseBasis();
        return {
          ...result, normEstimate: normA, matvecs: matvecs + result.matvecs,
          iterations, restarts, reorthogonalizations,
        };
      }
      matvecs += result.matvecs; // the explicit check failed: keep iterating, trusting estimates less
      if (++failedChecks >= MAX_FAILED_CHECKS) {
        releaseBasis();
        return { ...result, normEstimate: normA, matvecs, iterations, restarts, reorthogonalizations };
      }
    }
    if (!basisFull) continue;
    // thick restart: the lowest `keep` Ritz vectors, then the pending block
    restarts++;
    const X = kernelArray(Float64Array, keep * n);
    combineRows(V, cur, n, ritz.vectors, 0, cur, keep, X, 0);
    V.copyWithin(keep * n, cur * n, (cur + b) * n);
    V.set(X, 0);
    releaseArray(X);
    // the pending block was only semi-orthogonal to the old basis: make it orthogonal to the kept
    // vectors, so that the restarted recurrence starts from clean ω estimates
    for (let c = 0; c < b; c++) {
      const wo = (keep + c) * n;
      reorthogonalize(V, 0, keep, n, V, wo, corr);
      const nv = Math.sqrt(dotAt(V, wo, V, wo, n));
      for (let i = 0; i < n; i++) V[wo + i] /= nv;
    }
    T.fill(0);
    for (let r = 0; r < keep; r++) T[r * m + r] = ritz.values[r];
    cur = kept = keep;
    reorthNext = false;
    keptCheck = 1;
    omegaCur.fill(eps1, 0, keep);
    omegaCur[keep] = 1;
  }
}

/**
 * Partial reorthogonalisation: estimates ω_{j+1,i} ≈ v_{j+1}·v_i of the next vector from those of
 * v_j (omegaCur) and v_{j−1} (omegaPrev), by the Lanczos relation written for every basis vector:
 * A·v_i = Σ_q T_iq·v_q over its neighbours q in T (kept Ritz vector i: itself and the first vector
 * after the restart; that vector: all kept ones and its chain neighbours; chain vectors: i−1, i, i+1).
 * Rounding is represented by a term ε‖A‖/β of the sign that makes things worse. Returns max |ω|.
 */
function estimateOrthogonality(T: Float64Array, m: number, j: number, kept: number, alpha: number, betaPrev: number, beta: number,
  omegaCur: Float64Array, omegaPrev: Float64Array, omegaNext: Float64Array, normA: number, eps1: number): number {
  let worst = 0;
  const noise = (2 * EPS * normA) / beta;
  // omegaNext[0..kept) holds the measured overlaps with the kept vectors
  for (let i = kept; i <= j - 2; i++) {
    let g: number;
    if (i === kept) {
      g = T[i * m + i] * omegaCur[i] + T[i * m + i + 1] * omegaCur[i + 1];
      for (let q = 0; q < kept; q++) g += T[i * m + q] * omegaCur[q];
    } else {
      g = T[i * m + i - 1] * omegaCur[i - 1] + T[i * m + i] * omegaCur[i] + T[i * m + i + 1] * omegaCur[i + 1];
    }
    let w = (g - alpha * omegaCur[i] - betaPrev * omegaPrev[i]) / beta;
    w += w >= 0 ? noise : -noise;
    omegaNext[i] = w;
    const a = Math.abs(w);
    if (a > worst) worst = a;
  }
  omegaNext[j - 1] = eps1;
  omegaNext[j] = eps1;
  return worst;
}

/**
 * Classical Gram–Schmidt of W[wo..) against basis vectors from..to, a second pass when the first
 * cancelled much (Daniel–Gragg–Kaufman–Stewart); the coefficients removed are summed into c.
 */
function reorthogonalize(V: Float64Array, from: number, to: number, n: number, W: Float64Array, wo: number, c: Float64Array): void {
  c.fill(0, 0, to);
  const before = Math.sqrt(dotAt(W, wo, W, wo, n));
  gramSchmidtPass(V, from, to, n, W, wo, c);
  if (Math.sqrt(dotAt(W, wo, W, wo, n)) < 0.7 * before) gramSchmidtPass(V, from, to, n, W, wo, c);
}

/** One classical Gram–Schmidt pass of W[wo..) against basis vectors from..to (coefficients added to c). */
function gramSchmidtPass(V: Float64Array, from: number, to: number, n: number, W: Float64Array, wo: number, c: Float64Array): void {
  const d = passCoefficients(to);
  basisDots(V, from, to, n, W, wo, d);
  basisSubtract(V, from, to, n, W, wo, d);
  for (let j = from; j < to; j++) c[j] += d[j];
}

let coefficients: Float64Array | null = null;
/** A zeroed kernel-memory array of at least `length` numbers for one Gram–Schmidt pass, reused between passes. */
function passCoefficients(length: number): Float64Array {
  if (!coefficients || coefficients.length < length) coefficients = kernelArray(Float64Array, Math.max(length, 2 * (coefficients?.length ?? 0)));
  coefficients.fill(0, 0, length);
  return coefficients;
}

/**
 * T's leading block restricted to the thick-restart structure (kept diagonal, the arrow row of the
 * first chain vector, the tridiagonal chain), without the small entries reorthogonalisation adds:
 * the Householder reduction then skips the tridiagonal rows. Good enough for a convergence test;
 * the decision is confirmed on the full matrix.
 */
function structuredPrincipal(T: Float64Array, m: number, size: number, kept: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    out[i * size + i] = T[i * m + i];
    if (i + 1 < size && i >= kept) { out[i * size + i + 1] = T[i * m + i + 1]; out[(i + 1) * size + i] = T[(i + 1) * m + i]; }
    if (i < kept && kept < size) { out[i * size + kept] = T[i * m + kept]; out[kept * size + i] = T[kept * m + i]; }
  }
  return out;
}

function principal(T: Float64Array, m: number, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) out.set(T.subarray(i * m, i * m + size), i * size);
  return out;
}

/** Residual bound of Ritz pair i: ‖R·y_i(last block)‖ (R couples the last block to the next). */
function blockResidual(Y: Float64Array, i: number, size: number, b: number, R: Float64Array): number {
  let s2 = 0;
  for (let r = 0; r < b; r++) {
    let s = 0;
    for (let c = r; c < b; c++) s += R[r * b + c] * Y[i * size + size - b + c];
    s2 += s * s;
  }
  return Math.sqrt(s2);
}

/**
 * Orthonormalise the b columns of W among themselves (modified Gram–Schmidt, twice), writing the
 * triangular factor into R (R[r][c]: component of column c on new vector r). A column that
 * vanishes (an invariant subspace was found) is replaced by a random vector orthogonal to basis
 * vectors 0..total and to the block, with no coupling in R.
 */
function orthonormalizeBlock(W: Float64Array, b: number, n: number, V: Float64Array, total: number,
  R: Float64Array, rng: { normal(): number }, project?: (v: Float64Array) => void): void {
  R.fill(0);
  const c0 = new Float64Array(Math.max(total, 1));
  for (let c = 0; c < b; c++) {
    const wo = c * n;
    let norm0 = Math.sqrt(dotAt(W, wo, W, wo, n));
    for (let attempt = 0; ; attempt++) {
      for (let pass = 0; pass < 2; pass++) {
        if (attempt > 0) reorthogonalize(V, 0, total, n, W, wo, c0);
        for (let r = 0; r < c; r++) {
          const s = dotAt(W, r * n, W, wo, n);
          if (attempt === 0) R[r * b + c] += s;
          axpyAt(-s, W, r * n, W, wo, n);
        }
      }
      // rounding in the cancellation above may hold components along the projected-out vectors:
      // remove them before normalising amplifies them
      project?.(W.subarray(wo, wo + n));
      const nw = Math.sqrt(dotAt(W, wo, W, wo, n));
      if (nw > 1e-10 * norm0 && nw > 0) {
        if (attempt === 0) R[c * b + c] = nw;
        for (let i = 0; i < n; i++) W[wo + i] /= nw;
        break;
      }
      if (attempt >= 3) throw new Error('cannot extend the Krylov basis: the search space is exhausted');
      if (attempt === 0) for (let r = 0; r <= c; r++) R[r * b + c] = 0;
      for (let i = 0; i < n; i++) W[wo + i] = rng.normal();
      project?.(W.subarray(wo, wo + n));
      norm0 = Math.sqrt(dotAt(W, wo, W, wo, n));
    }
  }
}

/**
 * The k lowest Ritz vectors from the basis, made orthonormal, a Rayleigh–Ritz step on their span
 * (k more operator applications), and the explicit residual of every pair.
 */
function finalize(op: LinearOperator, V: Float64Array, Y: Float64Array, size: number, k: number, n: number, bound: number,
  project?: (v: Float64Array) => void): Pick<EigenResult, 'values' | 'vectors' | 'residuals' | 'pairConverged' | 'converged' | 'tolerance' | 'matvecs'> {
  const X = kernelArray(Float64Array, k * n);
  combineRows(V, size, n, Y, 0, size, k, X, 0);
  for (let pass = 0; pass < 2; pass++) {
    for (let r = 0; r < k; r++) {
      for (let q = 0; q < r; q++) axpyAt(-dotAt(X, q * n, X, r * n, n), X, q * n, X, r * n, n);
      const nr = Math.sqrt(dotAt(X, r * n, X, r * n, n));
      for (let i = 0; i < n; i++) X[r * n + i] /= nr;
    }
  }
  const AX = kernelArray(Float64Array, k * n);
  for (let r = 0; r < k; r++) {
    const ax = AX.subarray(r * n, (r + 1) * n);
    op.apply(X.subarray(r * n, (r + 1) * n), ax);
    project?.(ax);
  }
  const G = new Float64Array(k * k);
  for (let r = 0; r < k; r++) for (let q = 0; q <= r; q++) {
    const g = 0.5 * (dotAt(X, r * n, AX, q * n, n) + dotAt(X, q * n, AX, r * n, n));
    G[r * k + q] = g;
    G[q * k + r] = g;
  }
  const small = symmetricEigen(G, k);
  const vectors = kernelArray(Float64Array, k * n);
  const AZ = kernelArray(Float64Array, n);
  const values = new Float64Array(k);
  const residuals = new Float64Array(k);
  const pairConverged: boolean[] = [];
  for (let r = 0; r < k; r++) {
    combineRows(X, k, n, small.vectors, r * k, k, 1, vectors, r * n);
    combineRows(AX, k, n, small.vectors, r * k, k, 1, AZ, 0);
    const theta = small.values[r];
    let s2 = 0;
    for (let i = 0; i < n; i++) { const d = AZ[i] - theta * vectors[r * n + i]; s2 += d * d; }
    values[r] = theta;
    residuals[r] = Math.sqrt(s2);
    pairConverged.push(residuals[r] <= bound);
  }
  releaseArray(X);
  releaseArray(AX);
  releaseArray(AZ);
  return { values, vectors, residuals, pairConverged, converged: pairConverged.every(Boolean), tolerance: bound, matvecs: k };
}
