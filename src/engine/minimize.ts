/**
 * Energy minimisers working in place on a System. Both converge on the largest force component
 * (max_i,α |F_iα| < ftol) and report whether they did.
 *
 * - FIRE (Bitzek et al. 2006) with a cap on each particle's step: robust far from a minimum, used to
 *   remove the core overlaps of the initial lattice.
 * - Nonlinear conjugate gradient, Polak–Ribière (PR+), with a line search on the directional
 *   force d·F(x + αd) = 0 (secant/regula falsi). It never compares energies, whose differences lose
 *   all precision near a minimum; forces keep theirs.
 */
import { computeForces, maxForceComponent } from './forces.ts';
import type { System } from './system.ts';

export interface MinimizeResult {
  converged: boolean;
  iterations: number;
  forceEvaluations: number;
  maxForce: number;
  energy: number;
  /** Why the minimiser stopped. */
  reason: 'ftol' | 'stop-condition' | 'max-iterations' | 'stalled';
}

export interface FireOptions {
  ftol?: number;
  maxIterations?: number;
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
  let dt = opts.dtStart ?? 0.002;
  const nMin = 5, fInc = 1.1, fDec = 0.5, alphaStart = 0.1, fAlpha = 0.99;
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
    let power = 0, vv = 0, ff = 0;
    for (let k = 0; k < f.length; k++) { power += f[k] * v[k]; vv += v[k] * v[k]; ff += f[k] * f[k]; }
    if (power > 0) {
      const mix = alpha * Math.sqrt(vv / ff);
      for (let k = 0; k < v.length; k++) v[k] = (1 - alpha) * v[k] + mix * f[k];
      if (++sincePositive > nMin) { dt = Math.min(dt * fInc, dtMax); alpha *= fAlpha; }
    } else {
      v.fill(0);
      sincePositive = 0;
      dt *= fDec;
      alpha = alphaStart;
    }
    // semi-implicit Euler step with a per-particle displacement cap
    for (let i = 0; i < v.length; i += 3) {
      let vx = v[i] + dt * f[i], vy = v[i + 1] + dt * f[i + 1], vz = v[i + 2] + dt * f[i + 2];
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
  return { converged: reason === 'ftol', iterations: iter, forceEvaluations: sys.forceEvaluations - evals0, maxForce: maxForceComponent(f), energy: sys.energy, reason };
}

export interface CgOptions {
  ftol?: number;
  maxIterations?: number;
  /** Largest displacement of any particle in the first trial step of a line search (λ). */
  maxStep?: number;
  /** Line search ends when |d·F(α)| ≤ lineTol·|d·F(0)|. */
  lineTol?: number;
  /**
   * Give up as stalled after this many iterations without a new lowest max force, once that force
   * is below stallForce: the round-off floor. Above it (a plastic rearrangement can keep max |F|
   * large and non-monotonic for thousands of iterations) only maxIterations stops the search.
   */
  stallIterations?: number;
  stallForce?: number;
  onProgress?: (iteration: number, maxForce: number) => void;
}

export function minimizeCg(sys: System, opts: CgOptions = {}): MinimizeResult {
  const ftol = opts.ftol ?? 1e-10;
  const maxIter = opts.maxIterations ?? 1_000_000;
  const maxStep = opts.maxStep ?? 0.02;
  const lineTol = opts.lineTol ?? 1e-2;
  const stallIterations = opts.stallIterations ?? 2000;
  const stallForce = opts.stallForce ?? 1e-6;
  const pos = sys.positions;
  const f = sys.forces;
  const m = pos.length;
  const d = new Float64Array(m);
  const x0 = new Float64Array(m);
  const fOld = new Float64Array(m);
  const evals0 = sys.forceEvaluations;
  computeForces(sys);
  d.set(f);
  let alphaGuess = 0;
  let best = Infinity;
  let bestIter = 0;
  let iter = 0;
  let reason: MinimizeResult['reason'] = 'max-iterations';
  for (; iter < maxIter; iter++) {
    const fmax = maxForceComponent(f);
    if (fmax < ftol) { reason = 'ftol'; break; }
    if (fmax < best) { best = fmax; bestIter = iter; } else if (best < stallForce && iter - bestIter > stallIterations) { reason = 'stalled'; break; }
    if (opts.onProgress && iter % 100 === 0) opts.onProgress(iter, fmax);

    let slope0 = dot(d, f); // −dE/dα at α = 0
    if (slope0 <= 0) { d.set(f); slope0 = dot(f, f); } // not a descent direction: restart
    fOld.set(f);
    x0.set(pos);
    // line search: find α with g(α) = d·F(x0 + αd) = 0, g(0) = slope0 > 0
    const dmax = maxParticleNorm(d);
    const alphaCap = maxStep / dmax;
    let a0 = 0, g0 = slope0;
    let a1 = alphaGuess > 0 ? Math.min(alphaGuess, alphaCap) : alphaCap;
    let g1 = lineEval(sys, x0, d, a1);
    // expand until the directional force changes sign
    let expansions = 0;
    while (g1 > 0 && expansions < 40) {
      a0 = a1; g0 = g1;
      a1 *= 2;
      g1 = lineEval(sys, x0, d, a1);
      expansions++;
    }
    // regula falsi with the Illinois modification on the bracket [a0, a1]
    let a = a1, g = g1;
    let side = 0;
    for (let k = 0; k < 30 && Math.abs(g) > lineTol * slope0; k++) {
      a = (a0 * g1 - a1 * g0) / (g1 - g0);
      g = lineEval(sys, x0, d, a);
      if (g > 0) {
        a0 = a; g0 = g;
        if (side === -1) g1 *= 0.5;
        side = -1;
      } else {
        a1 = a; g1 = g;
        if (side === 1) g0 *= 0.5;
        side = 1;
      }
    }
    if (!Number.isFinite(g)) throw new Error(`CG diverged at iteration ${iter}: the directional force is ${g}`);
    alphaGuess = a;
    // Polak–Ribière+ direction update
    let num = 0, den = 0;
    for (let k = 0; k < m; k++) { num += f[k] * (f[k] - fOld[k]); den += fOld[k] * fOld[k]; }
    const beta = Math.max(0, num / den);
    for (let k = 0; k < m; k++) d[k] = f[k] + beta * d[k];
  }
  computeForces(sys); // energy and virial of the final state (the line search skipped them)
  return { converged: reason === 'ftol', iterations: iter, forceEvaluations: sys.forceEvaluations - evals0, maxForce: maxForceComponent(f), energy: sys.energy, reason };
}

/** Move to x0 + α·d, evaluate forces, return the directional force d·F. */
function lineEval(sys: System, x0: Float64Array, d: Float64Array, alpha: number): number {
  const pos = sys.positions;
  for (let k = 0; k < pos.length; k++) pos[k] = x0[k] + alpha * d[k];
  computeForces(sys, false);
  return dot(d, sys.forces);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

function maxParticleNorm(d: Float64Array): number {
  let m = 0;
  for (let k = 0; k < d.length; k += 3) m = Math.max(m, d[k] * d[k] + d[k + 1] * d[k + 1] + d[k + 2] * d[k + 2]);
  return Math.sqrt(m);
}
