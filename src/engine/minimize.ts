/**
 * Energy minimisers working in place on a System. All converge on the largest force component
 * (max_i,α |F_iα| < ftol) and report whether they did.
 *
 * - FIRE (Bitzek et al. 2006) with a cap on each particle's step: robust far from a minimum, used to
 *   remove the core overlaps of the initial lattice. The FIRE 2.0 variant (Guénolé et al. 2020:
 *   half-step back-off on uphill motion, mixing after the velocity update) is selectable.
 * - Nonlinear conjugate gradient (Polak–Ribière+ or Hager–Zhang β) and L-BFGS, sharing one line
 *   search on the directional force g(α) = d·F(x + αd): secant steps towards g = 0, accepted once
 *   |g(α)| ≤ lineTol·g(0). It never compares energies, whose differences lose all precision near
 *   a minimum; forces keep theirs. The first trial of each search is the minimiser of the quadratic
 *   with the curvature along the previous direction, so that most searches end at their first trial.
 *   L-BFGS that stalls goes on once more with its initial inverse Hessian scaled per particle by the
 *   particle's stiffness, which resolves the weakly caged particles of steep repulsive glasses.
 */
import { computeForces, maxForceComponent } from './forces.ts';
import { buildPairTable } from './pair-table.ts';
import type { System } from './system.ts';
import { axpyAt, axpyDot, dot } from '../linalg/vectors.ts';
import { kernelArray, releaseArray } from '../util/kernels.ts';

export interface MinimizeResult {
  converged: boolean;
  iterations: number;
  forceEvaluations: number;
  maxForce: number;
  energy: number;
  /** Why the minimiser stopped. */
  reason: 'ftol' | 'stop-condition' | 'max-iterations' | 'stalled';
  /** Iteration at which L-BFGS, stalled, went on preconditioned by each particle's stiffness (null: never). */
  preconditionedAt: number | null;
}

export interface FireOptions {
  ftol?: number;
  maxIterations?: number;
  /** 'fire' (Bitzek et al. 2006, default) or 'fire2' (FIRE 2.0: half-step back-off, delayed dt growth, mixing after the velocity update). */
  variant?: 'fire' | 'fire2';
  dtStart?: number;
  dtMax?: number;
  /** Largest displacement of any particle in one step (λ). */
  maxStep?: number;
  /** Stop early when this returns true (checked each step). */
  stopWhen?: (sys: System) => boolean;
}

export function minimizeFire(sys: System, opts: FireOptions = {}): MinimizeResult {
  const ftol = opts.ftol ?? 1e-10;
  const maxIter = opts.maxIterations ?? 100000;
  const dtMax = opts.dtMax ?? 0.02;
  const maxStep = opts.maxStep ?? 0.05;
  const fire2 = opts.variant === 'fire2';
  let dt = opts.dtStart ?? 0.002;
  const dtMin = fire2 ? 0.02 * dt : 0;
  const nMin = fire2 ? 20 : 5, fInc = 1.1, fDec = 0.5, alphaStart = fire2 ? 0.25 : 0.1, fAlpha = 0.99;
  let alpha = alphaStart;
  let sincePositive = 0;
  const pos = sys.positions;
  const f = sys.forces;
  const v = new Float64Array(pos.length);
  const evals0 = sys.forceEvaluations;
  computeForces(sys);
  let iter = 0;
  let reason: MinimizeResult['reason'] = 'max-iterations';
  for (; iter < maxIter; iter++) {
    if (maxForceComponent(f) < ftol) { reason = 'ftol'; break; }
    if (opts.stopWhen?.(sys)) { reason = 'stop-condition'; break; }
    let power = 0;
    for (let k = 0; k < f.length; k++) power += f[k] * v[k];
    if (power > 0) {
      if (!fire2) mixVelocity(v, f, alpha);
      if (++sincePositive > nMin) { dt = Math.min(dt * fInc, dtMax); alpha *= fAlpha; }
    } else {
      if (fire2) for (let k = 0; k < v.length; k++) pos[k] -= 0.5 * dt * v[k]; // back off the uphill half step
      v.fill(0);
      sincePositive = 0;
      dt = Math.max(dt * fDec, dtMin);
      alpha = alphaStart;
    }
    if (fire2) {
      for (let k = 0; k < v.length; k++) v[k] += dt * f[k];
      mixVelocity(v, f, alpha);
    }
    // semi-implicit Euler step with a per-particle displacement cap
    const kick = fire2 ? 0 : dt;
    for (let i = 0; i < v.length; i += 3) {
      let vx = v[i] + kick * f[i], vy = v[i + 1] + kick * f[i + 1], vz = v[i + 2] + kick * f[i + 2];
      const step = dt * Math.sqrt(vx * vx + vy * vy + vz * vz);
      if (step > maxStep) {
        const c = maxStep / step;
        vx *= c; vy *= c; vz *= c;
      }
      v[i] = vx; v[i + 1] = vy; v[i + 2] = vz;
      pos[i] += dt * vx; pos[i + 1] += dt * vy; pos[i + 2] += dt * vz;
    }
    computeForces(sys);
    if (!Number.isFinite(sys.energy)) throw new Error(`FIRE diverged at iteration ${iter}: energy is ${sys.energy}`);
  }
  return { converged: reason === 'ftol', iterations: iter, forceEvaluations: sys.forceEvaluations - evals0, maxForce: maxForceComponent(f), energy: sys.energy, reason, preconditionedAt: null };
}

/** FIRE's velocity mixing v ← (1 − α)·v + α·|v|·F̂. */
function mixVelocity(v: Float64Array, f: Float64Array, alpha: number): void {
  let vv = 0, ff = 0;
  for (let k = 0; k < f.length; k++) { vv += v[k] * v[k]; ff += f[k] * f[k]; }
  if (!(ff > 0)) return;
  const mix = alpha * Math.sqrt(vv / ff);
  for (let k = 0; k < v.length; k++) v[k] = (1 - alpha) * v[k] + mix * f[k];
}

export type DescentMethod = 'cg-pr' | 'cg-hz' | 'lbfgs';

export interface MinimizeOptions {
  ftol?: number;
  maxIterations?: number;
  /** Search direction: L-BFGS (default), Polak–Ribière+ CG or Hager–Zhang CG. */
  method?: DescentMethod;
  /** L-BFGS memory (pairs of steps kept). */
  memory?: number;
  /** Largest displacement of any particle in the first trial step of a line search (λ). */
  maxStep?: number;
  /** Line search ends when |d·F(α)| ≤ lineTol·d·F(0) (default 0.9 for L-BFGS, 0.1 for CG, whose conjugacy needs an accurate line minimum). */
  lineTol?: number;
  /**
   * Give up as stalled after this many iterations without a new lowest max force, once that force
   * is below stallForce: the round-off floor. Above it (a plastic rearrangement can keep max |F|
   * large and non-monotonic for thousands of iterations) only maxIterations stops the search.
   */
  stallIterations?: number;
  stallForce?: number;
  /** On a stall, L-BFGS goes on with each particle's step scaled by its own stiffness (default true); only a second stall ends it. */
  preconditionOnStall?: boolean;
  onProgress?: (iteration: number, maxForce: number) => void;
}

/** Defaults chosen by bench/quench.bench.ts (docs/performance-quench.md). */
export const DEFAULT_LINE_TOL = { lbfgs: 0.9, cg: 0.1 } as const;
export const DEFAULT_LBFGS_MEMORY = 16;

export function minimize(sys: System, opts: MinimizeOptions = {}): MinimizeResult {
  const ftol = opts.ftol ?? 1e-10;
  const maxIter = opts.maxIterations ?? 1_000_000;
  const method = opts.method ?? 'lbfgs';
  const maxStep = opts.maxStep ?? 0.1;
  const lineTol = opts.lineTol ?? (method === 'lbfgs' ? DEFAULT_LINE_TOL.lbfgs : DEFAULT_LINE_TOL.cg);
  const stallIterations = opts.stallIterations ?? 2000;
  const stallForce = opts.stallForce ?? 1e-6;
  const pos = sys.positions;
  const f = sys.forces;
  const m = pos.length;
  // d and the L-BFGS history live in the kernel memory, where the vector kernels use them in place
  const d = kernelArray(Float64Array, m);
  const x0 = new Float64Array(m);
  const fOld = new Float64Array(m);
  const lbfgs = method === 'lbfgs' ? createLbfgs(m, opts.memory ?? DEFAULT_LBFGS_MEMORY) : null;
  const evals0 = sys.forceEvaluations;
  computeForces(sys);
  d.set(f);
  // curvature d·H·d/|d|² along the last direction, from its line search (0: unknown yet)
  let curvature = 0;
  let best = Infinity;
  let bestIter = 0;
  let preconditionedAt: number | null = null, refreshedAt = 0;
  let iter = 0;
  let reason: MinimizeResult['reason'] = 'max-iterations';
  try {
    for (; iter < maxIter; iter++) {
      const fmax = maxForceComponent(f);
      if (fmax < ftol) { reason = 'ftol'; break; }
      if (fmax < best) { best = fmax; bestIter = iter; } else if (best < stallForce && iter - bestIter > stallIterations) {
        // a few particles far softer than the rest (rattlers in their cages) stall plain L-BFGS near the
        // round-off floor; scaling each particle's step by its own stiffness resolves them
        if (!lbfgs || lbfgs.preconditioned || opts.preconditionOnStall === false) { reason = 'stalled'; break; }
        lbfgs.precondition(particleStiffness(sys));
        preconditionedAt = refreshedAt = bestIter = iter;
      }
      if (lbfgs?.preconditioned && iter - refreshedAt >= PRECONDITIONER_REFRESH) {
        lbfgs.precondition(particleStiffness(sys));
        refreshedAt = iter;
      }
      if (opts.onProgress && iter % 100 === 0) opts.onProgress(iter, fmax);

      let slope0 = dot(d, f); // −dE/dα at α = 0
      if (!(slope0 > 0)) { // not a descent direction: restart along the force
        d.set(f);
        slope0 = dot(f, f);
        lbfgs?.reset();
      }
      fOld.set(f);
      x0.set(pos);
      const dd = dot(d, d);
      const cap = maxStep / maxParticleNorm(d);
      // L-BFGS scales its direction to the Newton step: try α = 1 first; CG has no scale of its own
      const guess = lbfgs && lbfgs.size > 0 ? 1 : curvature > 0 ? slope0 / (curvature * dd) : cap;
      const line = lineSearch(sys, x0, d, slope0, Math.min(guess, cap), lineTol);
      if (!Number.isFinite(line.g)) throw new Error(`${method} diverged at iteration ${iter}: the directional force is ${line.g}`);
      if (line.alpha > 0 && slope0 > line.g) curvature = (slope0 - line.g) / (line.alpha * dd);
      if (lbfgs) {
        lbfgs.push(x0, pos, fOld, f);
        lbfgs.direction(f, d);
      } else {
        const beta = method === 'cg-hz' ? betaHagerZhang(f, fOld, d) : betaPolakRibiere(f, fOld);
        for (let k = 0; k < m; k++) d[k] = f[k] + beta * d[k];
      }
    }
  } finally {
    lbfgs?.release();
    releaseArray(d);
  }
  computeForces(sys); // energy and virial of the final state (the line search skipped them)
  return { converged: reason === 'ftol', iterations: iter, forceEvaluations: sys.forceEvaluations - evals0, maxForce: maxForceComponent(f), energy: sys.energy, reason, preconditionedAt };
}

/**
 * Find α > 0 with |g(α)| ≤ tol·g0 along d from x0, where g(α) = d·F(x0 + αd) and g0 = g(0) > 0,
 * starting at trial α = a. Secant steps: extrapolated (at most ×8) while g stays positive,
 * interpolated inside the bracket once g changes sign (Illinois weighting so that a stale end
 * cannot hold the bracket open). Leaves the system at the returned α with its forces.
 */
function lineSearch(sys: System, x0: Float64Array, d: Float64Array, g0: number, a: number, tol: number): { alpha: number; g: number } {
  let lo = 0, gLo = g0; // g > 0 side
  let hi = Infinity, gHi = 0; // g < 0 side
  let aPrev = 0, gPrev = g0; // last two points while unbracketed
  let side = 0;
  let g = lineEval(sys, x0, d, a);
  for (let k = 0; k < 60; k++) {
    if (!Number.isFinite(g)) { // overshot into a core: step back inside what is known
      hi = a; gHi = -Infinity;
      a = lo + 0.25 * (a - lo);
      g = lineEval(sys, x0, d, a);
      continue;
    }
    if (Math.abs(g) <= tol * g0) break;
    if (g > 0) {
      if (side === 1 && Number.isFinite(gHi)) gHi *= 0.5;
      lo = a; gLo = g; side = 1;
    } else {
      if (side === -1) gLo *= 0.5;
      hi = a; gHi = g; side = -1;
    }
    if (hi === Infinity) {
      // no sign change yet: secant through the last two points, at least ×1.5 and at most ×8
      const next = gPrev > g ? a + (a - aPrev) * g / (gPrev - g) : 8 * a;
      aPrev = a; gPrev = g;
      a = Math.min(8 * a, Math.max(1.5 * a, next));
    } else if (Number.isFinite(gHi)) {
      // secant, but at least a thousandth of the bracket from either end: an end whose g is orders
      // of magnitude larger (a trial deep in a steep core) would otherwise hold every step at the other
      const width = hi - lo;
      a = Math.min(hi - MIN_BRACKET_STEP * width, Math.max(lo + MIN_BRACKET_STEP * width, (lo * gHi - hi * gLo) / (gHi - gLo)));
    } else {
      a = 0.5 * (lo + hi);
    }
    g = lineEval(sys, x0, d, a);
  }
  return { alpha: a, g };
}

function betaPolakRibiere(f: Float64Array, fOld: Float64Array): number {
  let num = 0, den = 0;
  for (let k = 0; k < f.length; k++) { num += f[k] * (f[k] - fOld[k]); den += fOld[k] * fOld[k]; }
  return Math.max(0, num / den);
}

/** Hager–Zhang β (2005) with their lower bound η_k, for gradient g = −F and y = g_new − g_old. */
function betaHagerZhang(f: Float64Array, fOld: Float64Array, d: Float64Array): number {
  let dy = 0, yy = 0, yg = 0, dg = 0, dd = 0, gOld2 = 0;
  for (let k = 0; k < f.length; k++) {
    const y = fOld[k] - f[k];
    dy += d[k] * y; yy += y * y; yg -= y * f[k]; dg -= d[k] * f[k]; dd += d[k] * d[k]; gOld2 += fOld[k] * fOld[k];
  }
  if (!(dy !== 0)) return 0;
  const beta = (yg - 2 * (yy / dy) * dg) / dy;
  const etaK = -1 / (Math.sqrt(dd) * Math.min(0.01, Math.sqrt(gOld2)));
  return Math.max(beta, etaK);
}

interface Lbfgs {
  size: number;
  /** Whether the initial inverse Hessian is scaled per particle (see precondition). */
  preconditioned: boolean;
  /** Scale the initial inverse Hessian of particle i by 1/stiffness[i] from now on. */
  precondition(stiffness: Float64Array): void;
  reset(): void;
  push(x0: Float64Array, x1: Float64Array, f0: Float64Array, f1: Float64Array): void;
  direction(f: Float64Array, d: Float64Array): void;
  /** Give the history's kernel memory back (the state is unusable afterwards). */
  release(): void;
}

/** L-BFGS two-loop recursion on the last `memory` steps s = Δx, y = Δ∇E = −ΔF (pairs with s·y ≤ 0 skipped). */
function createLbfgs(m: number, memory: number): Lbfgs {
  const s = Array.from({ length: memory }, () => kernelArray(Float64Array, m));
  const y = Array.from({ length: memory }, () => kernelArray(Float64Array, m));
  const rho = new Float64Array(memory);
  const a = new Float64Array(memory);
  let head = 0; // next slot
  let inverseStiffness: Float64Array | null = null;
  const state: Lbfgs = {
    size: 0,
    preconditioned: false,
    precondition(stiffness) {
      if (!inverseStiffness) { inverseStiffness = new Float64Array(stiffness.length); state.reset(); }
      for (let i = 0; i < stiffness.length; i++) inverseStiffness[i] = 1 / stiffness[i];
      state.preconditioned = true;
    },
    reset() { state.size = 0; },
    release() { for (const v of [...s, ...y]) releaseArray(v); },
    push(x0, x1, f0, f1) {
      const sk = s[head], yk = y[head];
      let sy = 0;
      for (let k = 0; k < m; k++) { sk[k] = x1[k] - x0[k]; yk[k] = f0[k] - f1[k]; sy += sk[k] * yk[k]; }
      if (!(sy > 0)) return;
      rho[head] = 1 / sy;
      head = (head + 1) % memory;
      state.size = Math.min(state.size + 1, memory);
    },
    direction(f, d) {
      // d = H⁻¹·F by the two-loop recursion; each pass over memory applies one update and takes
      // the next dot product, so that the vectors are streamed m + 1 times per loop instead of 2m
      d.set(f);
      const n = state.size;
      if (n === 0) return;
      const slot = (i: number) => (head - 1 - i + 2 * memory) % memory; // i = 0: newest
      let next = rho[slot(0)] * dot(s[slot(0)], d);
      for (let i = 0; i < n; i++) {
        const j = slot(i);
        const ai = next;
        a[j] = ai;
        const yj = y[j];
        if (i + 1 < n) next = rho[slot(i + 1)] * axpyDot(-ai, yj, d, s[slot(i + 1)]);
        else axpyAt(-ai, yj, 0, d, 0, m);
      }
      const newest = slot(0);
      let yd = 0;
      const yOld = y[slot(n - 1)];
      if (inverseStiffness) {
        // H₀ = γ·P⁻¹ with γ = s·y / y·P⁻¹·y, P the per-particle stiffness
        const yn = y[newest];
        let yPy = 0;
        for (let k = 0; k < m; k++) yPy += yn[k] * yn[k] * inverseStiffness[(k / 3) | 0];
        const gamma = 1 / (rho[newest] * yPy);
        for (let k = 0; k < m; k++) { const v = gamma * inverseStiffness[(k / 3) | 0] * d[k]; d[k] = v; yd += yOld[k] * v; }
      } else {
        const gamma = 1 / (rho[newest] * dot(y[newest], y[newest]));
        for (let k = 0; k < m; k++) { const v = gamma * d[k]; d[k] = v; yd += yOld[k] * v; }
      }
      for (let i = n - 1; i >= 0; i--) {
        const j = slot(i);
        const c = a[j] - rho[j] * yd;
        const sj = s[j];
        if (i > 0) yd = axpyDot(c, sj, d, y[slot(i - 1)]);
        else axpyAt(c, sj, 0, d, 0, m);
      }
    },
  };
  return state;
}

/** Smallest step inside a line-search bracket, as a fraction of its width. */
const MIN_BRACKET_STEP = 1e-3;

/** Iterations between refreshes of the per-particle stiffness of a preconditioned L-BFGS. */
const PRECONDITIONER_REFRESH = 100;
/** Floor of a particle's stiffness, relative to the median particle's, so that no step is unbounded. */
const STIFFNESS_FLOOR = 1e-6;

/**
 * Per particle, the sum over its pairs of |φ″| + 2|φ′/r|, the absolute trace of the pair blocks of
 * the Hessian, floored at STIFFNESS_FLOOR of the median.
 */
function particleStiffness(sys: System): Float64Array {
  const pairs = buildPairTable(sys);
  const c = new Float64Array(sys.species.length);
  for (let p = 0; p < pairs.count; p++) {
    const k = Math.abs(pairs.d2phi[p]) + 2 * Math.abs(pairs.dphiOverR[p]);
    c[pairs.i[p]] += k;
    c[pairs.j[p]] += k;
  }
  const floor = STIFFNESS_FLOOR * Float64Array.from(c).sort()[c.length >> 1];
  for (let i = 0; i < c.length; i++) c[i] = Math.max(c[i], floor);
  return c;
}

/** Move to x0 + α·d, evaluate forces, return the directional force d·F. */
function lineEval(sys: System, x0: Float64Array, d: Float64Array, alpha: number): number {
  const pos = sys.positions;
  for (let k = 0; k < pos.length; k++) pos[k] = x0[k] + alpha * d[k];
  computeForces(sys, false);
  return dot(d, sys.forces);
}

function maxParticleNorm(d: Float64Array): number {
  let m = 0;
  for (let k = 0; k < d.length; k += 3) m = Math.max(m, d[k] * d[k] + d[k + 1] * d[k + 1] + d[k + 2] * d[k + 2]);
  return Math.sqrt(m);
}
