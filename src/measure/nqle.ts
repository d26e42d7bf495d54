/**
 * Nonlinear quasilocalized excitations (docs/methods.md §10): local
 * minima over directions z of the cubic barrier cost
 *
 *   b(z) = κ³/τ²,   κ = z·H·z,   τ = U‴⋮zzz,   ∇b = (6κ²/τ²)·[H·z − (κ/τ)·U‴:zz]
 *
 * so that at a solution H·π = (κ/τ)·U‴:ππ; ω² = κ(π) for the unit π, sign fixed by τ < 0, energy
 * barrier (2/3)·κ³/τ².
 *
 * Method: nonlinear conjugate gradients (Polak–Ribière+) on b, preconditioned by H⁺ (one projected
 * CG solve per step). b is homogeneous of degree 0 in z (b(cz) = b(z)), so the line search along
 * z + α·d needs no normalisation, and it is exact and cheap: κ(z + αd) is a quadratic and
 * τ(z + αd) a cubic polynomial in α whose coefficients follow from H·d and U‴:dd, and the minimum
 * is a root of (ln b)′ ∝ 3K′T − 2KT′ (a quartic) — no energy differences that lose precision.
 * With unit steps this preconditioned descent is the fixed-point map π ← H⁺·(U‴:ππ) of the
 * literature; the line search and conjugacy make it converge where that map stalls (small Q).
 * Rigid translations are projected out of every vector, and z is renormalised after every step.
 *
 * Starts: the lowest quasilocalized (low participation) harmonic modes, and the responses
 * u = H⁺·d_ij to local force dipoles (d_ij = n on j, −n on i) at the most compliant of a seeded
 * random sample of interacting pairs. Results are deduplicated by overlap |π_a·π_b| > 0.9.
 */
import { type System } from '../engine/system.ts';
import { hessianMultiply, type BlockHessian } from '../linalg/hessian.ts';
import { solveCg } from '../linalg/cg.ts';
import type { LinearOperator } from '../linalg/operator.ts';
import { dot, projectOutTranslations } from '../linalg/vectors.ts';
import { createRandom } from '../util/random.ts';
import { buildContractionTable, modeContractions, type ContractionTable } from './contractions.ts';
import { UnrelaxedConfigurationError } from './elastic.ts';
import { harmonicOf, type Harmonic } from './harmonic.ts';
import { measureModes, participationRatio, type ModesResult } from './modes.ts';

export interface NqleOptions {
  /** Number of NQLEs to report (the softest distinct ones found). */
  count: number;
  /** Lowest harmonic modes computed as candidate starts. */
  harmonicModes: number;
  /** Harmonic modes with participation ratio above this are phonon-like and not used as starts. */
  maxStartParticipation: number;
  /** Force-dipole starts used (the most compliant of dipoleCandidates random pairs). */
  dipoleStarts: number;
  dipoleCandidates: number;
  /** Seed of the random choice of dipole pairs. */
  seed: number;
  /** Converged when ‖H·π − (κ/τ)·U‴:ππ‖/‖H·π‖ ≤ residualTol and ‖∇b‖/b ≤ gradientTol (π a unit vector). */
  residualTol: number;
  gradientTol: number;
  /** Nonlinear-CG steps per start. */
  maxIterations: number;
  /** Modes with |π_a·π_b| above this are the same NQLE. */
  overlapTol: number;
  /** The configuration must be a minimum: refuse if the largest force component exceeds this (ε/λ). */
  maxForce: number;
}

export const DEFAULT_NQLE: NqleOptions = {
  count: 5,
  harmonicModes: 10,
  maxStartParticipation: 0.5,
  dipoleStarts: 5,
  dipoleCandidates: 20,
  seed: 1,
  residualTol: 1e-8,
  gradientTol: 1e-10,
  maxIterations: 400,
  overlapTol: 0.9,
  maxForce: 1e-6,
};

/** One NQLE (or the best attempt at one): a unit vector with its micromechanics. */
export interface Nqle {
  /** ω² = κ = π·H·π. */
  omega2: number;
  /** τ = U‴⋮πππ (< 0 by the sign convention). */
  tau: number;
  /** The k±/f± split of ω² (docs/methods.md §11). */
  kPlus: number;
  kMinus: number;
  fPlus: number;
  fMinus: number;
  participation: number;
  /** Cubic energy barrier (2/3)·κ³/τ² along π (ε). */
  barrier: number;
  /** ‖H·π − (κ/τ)·U‴:ππ‖/‖H·π‖. */
  residual: number;
  /** ‖∇b‖/b. */
  gradient: number;
  converged: boolean;
  iterations: number;
  /** Where the descent started: 'harmonic:k' (k-th lowest mode) or 'dipole:i-j'. */
  start: string;
  vector: Float64Array;
}

/** Everything the descent needs about one configuration, built once. */
export interface NqleContext {
  n: number;
  hessian: BlockHessian;
  operator: LinearOperator;
  preconditioner: LinearOperator;
  table: ContractionTable;
}

export function nqleContext(sys: System, harmonic: Harmonic = harmonicOf(sys)): NqleContext {
  const { pairs, hessian, operator, preconditioner } = harmonic;
  return { n: sys.species.length, hessian, operator, preconditioner, table: buildContractionTable(sys, pairs) };
}

/** What a caller that measured the configuration already can hand to findNqles instead of recomputing. */
export interface NqleShared {
  harmonic?: Harmonic;
  /** The lowest harmonic modes of sys; used for starts when they hold at least harmonicModes modes. */
  modes?: Pick<ModesResult, 'count' | 'omega2' | 'participation' | 'vectors'>;
}

function normalise(v: Float64Array): number {
  const norm = Math.sqrt(dot(v, v));
  for (let k = 0; k < v.length; k++) v[k] /= norm;
  return norm;
}

/**
 * The step α minimising b(z + α·d) = K(α)³/T(α)², K(α) = k0 + k1·α + k2·α², T(α) = t0 + t1·α +
 * t2·α² + t3·α³, for a descent direction d (b decreases at α = 0⁺). Since b is scale invariant,
 * the line is a great circle of directions: α runs from 0 to +∞, passes through d itself, and comes
 * back from −∞ towards 0⁻. The scan follows it (α geometric in |α|/scale from 1e-10 to 1e8) to the
 * first point where (ln b)′ = 3K′/K − 2T′/T turns from − to +, and bisects there for the root of
 * the quartic p = 3K′T − 2KT′, stepping back from any pole T = 0 (where b → ∞) in the bracket.
 */
export function cubicCostLineMinimum(k: readonly number[], t: readonly number[], scale: number): number {
  const K = (a: number) => k[0] + a * (k[1] + a * k[2]);
  const T = (a: number) => t[0] + a * (t[1] + a * (t[2] + a * t[3]));
  const p = (a: number) => 3 * (k[1] + 2 * k[2] * a) * T(a) - 2 * K(a) * (t[1] + a * (2 * t[2] + 3 * a * t[3]));
  const rising = (a: number) => p(a) / T(a) >= 0; // db/dα ≥ 0 (K > 0)
  const bisect = (lo: number, hi: number, same: (a: number) => boolean) => {
    for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(Math.abs(lo), Math.abs(hi)); it++) {
      const m = 0.5 * (lo + hi);
      if (same(m)) lo = m; else hi = m;
    }
    return [lo, hi];
  };
  let prev = 0;
  for (let step = 0; step <= 2 * 144 + 1; step++) {
    // 145 points on the positive branch, then 145 on the negative one
    const a = step <= 144 ? scale * 10 ** (-10 + step / 8) : -scale * 10 ** (8 - (step - 145) / 8);
    if (!rising(a)) { prev = a; continue; }
    if (prev > 0 && a < 0) return a; // the minimum lies at the far end of the circle, near d itself
    let right = a;
    const tLo = Math.sign(T(prev));
    if (Math.sign(T(a)) !== tLo) right = bisect(prev, a, (m) => Math.sign(T(m)) === tLo)[0];
    const pLo = Math.sign(p(prev));
    const [lo, hi] = bisect(prev, right, (m) => Math.sign(p(m)) === pLo);
    return 0.5 * (lo + hi);
  }
  return NaN;
}

/**
 * Relative residual of the H⁺·∇b solve per step. The solve only shapes the search direction: on
 * N = 2048 glasses (Q = 10, 40) loose solves (0.1) need a few more steps than tight ones (1e-3) but
 * about half the H·x products in all, reaching the same final residual.
 */
const DIRECTION_TOL = 0.1;

/** Relative residual of the dipole responses u = H⁺·d (starting points only). */
const DIPOLE_TOL = 1e-4;

interface Evaluation {
  kappa: number;
  tau: number;
  residual: number;
  gradient: number;
}

/**
 * Descend from the direction `start` to an NQLE. `known` holds converged NQLEs found before: a
 * descent that comes within overlap 0.99 of one stops early and reports `duplicateOf`.
 */
export function refineNqle(
  ctx: NqleContext, start: Float64Array, options: Partial<NqleOptions> = {}, known: readonly Float64Array[] = [],
): { vector: Float64Array; converged: boolean; iterations: number; residual: number; gradient: number; duplicateOf: number } {
  const opts = { ...DEFAULT_NQLE, ...options };
  const dim = 3 * ctx.n;
  if (start.length !== dim) throw new RangeError(`start vector has length ${start.length}, expected 3N = ${dim}`);
  const z = start.slice();
  projectOutTranslations(z);
  if (!(normalise(z) > 0)) throw new RangeError('start vector is zero (or a rigid translation)');

  const hz = new Float64Array(dim), g = new Float64Array(dim), grad = new Float64Array(dim);
  const hd = new Float64Array(dim), udd = new Float64Array(dim), d = new Float64Array(dim);
  let s = new Float64Array(dim), sPrev = new Float64Array(dim);
  let gsPrev = 0;
  let restart = true;

  const evaluate = (): Evaluation => {
    const c = modeContractions(ctx.table, z, g);
    hessianMultiply(ctx.hessian, z, hz);
    const ratio = c.kappa / c.tau;
    const pref = 6 * c.kappa * c.kappa / (c.tau * c.tau);
    let r2 = 0, h2 = 0;
    for (let k = 0; k < dim; k++) {
      const r = hz[k] - ratio * g[k];
      grad[k] = pref * r;
      r2 += r * r;
      h2 += hz[k] * hz[k];
    }
    // ‖∇b‖/b = 6‖r‖/κ
    return { kappa: c.kappa, tau: c.tau, residual: Math.sqrt(r2 / h2), gradient: 6 * Math.sqrt(r2) / Math.abs(c.kappa) };
  };

  let ev = evaluate();
  let it = 0;
  const isConverged = (e: Evaluation) => e.residual <= opts.residualTol && e.gradient <= opts.gradientTol;
  let best = { residual: Infinity, stall: 0 };
  while (!isConverged(ev) && it < opts.maxIterations) {
    if (!Number.isFinite(ev.gradient) || !(ev.kappa > 0)) break;
    // preconditioned gradient s ≈ H⁺·∇b; CG iterates always give a descent direction (∇b·s > 0)
    const sol = solveCg(ctx.operator, grad, { tol: DIRECTION_TOL, preconditioner: ctx.preconditioner });
    s.set(sol.x);
    const gs = dot(grad, s);
    // Polak–Ribière+ with restart whenever the result is not a descent direction
    let beta = restart ? 0 : Math.max(0, (gs - dot(grad, sPrev)) / gsPrev);
    for (let k = 0; k < dim; k++) d[k] = -s[k] + beta * d[k];
    if (!(dot(grad, d) < 0)) {
      beta = 0;
      for (let k = 0; k < dim; k++) d[k] = -s[k];
    }
    projectOutTranslations(d);

    // exact line search on b(z + α·d) from the polynomial coefficients of κ and τ
    hessianMultiply(ctx.hessian, d, hd);
    const dc = modeContractions(ctx.table, d, udd);
    const zhd = dot(z, hd), dhd = dot(d, hd), gd = dot(g, d), zudd = dot(z, udd);
    const alpha = cubicCostLineMinimum(
      [ev.kappa, 2 * zhd, dhd], [ev.tau, 3 * gd, 3 * zudd, dc.tau], 1 / Math.sqrt(dot(d, d)),
    );
    if (!Number.isFinite(alpha) || alpha === 0) break;
    // a step past d (α < 0) is a large rotation: the previous direction says nothing there
    restart = alpha < 0;
    for (let k = 0; k < dim; k++) z[k] += alpha * d[k];
    projectOutTranslations(z);
    const norm = normalise(z);
    for (let k = 0; k < dim; k++) d[k] /= norm;

    [sPrev, s] = [s, sPrev];
    gsPrev = gs;
    it++;
    ev = evaluate();
    // stagnation at the round-off floor: no progress in the residual over 30 steps
    if (ev.residual < 0.5 * best.residual) best = { residual: ev.residual, stall: 0 };
    else if (++best.stall >= 30) break;
    for (let m = 0; m < known.length; m++) {
      if (it >= 3 && Math.abs(dot(z, known[m])) > 0.99) {
        return { vector: z, converged: false, iterations: it, residual: ev.residual, gradient: ev.gradient, duplicateOf: m };
      }
    }
  }
  return { vector: z, converged: isConverged(ev), iterations: it, residual: ev.residual, gradient: ev.gradient, duplicateOf: -1 };
}

export interface NqleStart {
  vector: Float64Array;
  /** 'harmonic:k' or 'dipole:i-j'. */
  label: string;
}

/** Force-dipole responses u = H⁺·d_ij at the most compliant (largest d·H⁺·d) of a random sample of pairs. */
export function dipoleStarts(ctx: NqleContext, options: Partial<NqleOptions> = {}): NqleStart[] {
  const opts = { ...DEFAULT_NQLE, ...options };
  const { table } = ctx;
  if (opts.dipoleStarts <= 0 || table.count === 0) return [];
  const rng = createRandom(opts.seed);
  const chosen = new Set<number>();
  const wanted = Math.min(table.count, Math.max(opts.dipoleCandidates, opts.dipoleStarts));
  while (chosen.size < wanted) chosen.add(rng.below(table.count));
  const responses: Array<{ compliance: number; start: NqleStart }> = [];
  const d = new Float64Array(3 * ctx.n);
  for (const p of chosen) {
    const i = table.i[p], j = table.j[p], r = table.r[p];
    d.fill(0);
    for (let a = 0; a < 3; a++) {
      const na = table.d[3 * p + a] / r;
      d[3 * j + a] = na;
      d[3 * i + a] = -na;
    }
    const sol = solveCg(ctx.operator, d, { tol: DIPOLE_TOL, preconditioner: ctx.preconditioner });
    responses.push({ compliance: dot(d, sol.x), start: { vector: sol.x, label: `dipole:${i}-${j}` } });
  }
  responses.sort((a, b) => b.compliance - a.compliance);
  return responses.slice(0, opts.dipoleStarts).map((r) => r.start);
}

/** The micromechanics record of a unit vector π (sign fixed so that τ ≤ 0). */
export function nqleRecord(
  ctx: NqleContext, vector: Float64Array,
  descent: { converged: boolean; iterations: number; residual: number; gradient: number }, start: string,
): Nqle {
  const v = vector.slice();
  let c = modeContractions(ctx.table, v);
  if (c.tau > 0) {
    for (let k = 0; k < v.length; k++) v[k] = -v[k];
    c = modeContractions(ctx.table, v);
  }
  return {
    omega2: c.kappa, tau: c.tau, kPlus: c.kPlus, kMinus: c.kMinus, fPlus: c.fPlus, fMinus: c.fMinus,
    participation: participationRatio(v), barrier: (2 / 3) * c.kappa ** 3 / (c.tau * c.tau),
    residual: descent.residual, gradient: descent.gradient, converged: descent.converged,
    iterations: descent.iterations, start, vector: v,
  };
}

export interface NqleSearch {
  /** The softest distinct NQLEs (ascending ω²), converged ones first; at most `count`. */
  modes: Nqle[];
  /** Descents run, and how they ended. */
  descents: { total: number; converged: number; duplicates: number; unconverged: number };
}

/**
 * Descend from every start; keep the distinct results (overlap ≤ overlapTol with every mode kept
 * before). A descent that joins a converged NQLE found earlier is a duplicate.
 */
export function searchNqles(
  ctx: NqleContext, starts: readonly NqleStart[], options: Partial<NqleOptions> = {},
  onProgress?: (done: number, total: number) => void,
): NqleSearch {
  const opts = { ...DEFAULT_NQLE, ...options };
  const converged: Nqle[] = [], unconverged: Nqle[] = [];
  let duplicates = 0;
  const overlaps = (v: Float64Array, list: readonly Nqle[]) => list.some((m) => Math.abs(dot(v, m.vector)) > opts.overlapTol);
  starts.forEach((start, k) => {
    const descent = refineNqle(ctx, start.vector, opts, converged.map((m) => m.vector));
    if (descent.duplicateOf >= 0 || overlaps(descent.vector, converged)) duplicates++;
    else if (descent.converged) converged.push(nqleRecord(ctx, descent.vector, descent, start.label));
    else if (overlaps(descent.vector, unconverged)) duplicates++;
    else unconverged.push(nqleRecord(ctx, descent.vector, descent, start.label));
    onProgress?.(k + 1, starts.length);
  });
  // an unconverged descent that ended near a converged NQLE found later is that NQLE
  const remaining = unconverged.filter((m) => !overlaps(m.vector, converged));
  duplicates += unconverged.length - remaining.length;
  const byOmega = (a: Nqle, b: Nqle) => a.omega2 - b.omega2;
  converged.sort(byOmega);
  remaining.sort(byOmega);
  return {
    modes: [...converged, ...remaining].slice(0, opts.count),
    descents: { total: starts.length, converged: converged.length, duplicates, unconverged: remaining.length },
  };
}

export interface NqleResult extends NqleSearch {
  /** The harmonic modes computed for starts (ascending ω²) and how many were used (participation ≤ maxStartParticipation). */
  harmonic: { omega2: number[]; participation: number[]; used: number };
  maxForce: number;
  /** Seconds. */
  timings: { setup: number; harmonicModes: number; dipoles: number; descents: number; total: number };
}

export type NqleProgress = (stage: 'harmonic' | 'dipoles' | 'descents', done: number, total: number) => void;

/** The softest NQLEs of a quenched configuration, from harmonic-mode and force-dipole starts. */
export function findNqles(sys: System, options: Partial<NqleOptions> = {}, onProgress?: NqleProgress, shared: NqleShared = {}): NqleResult {
  const opts = { ...DEFAULT_NQLE, ...options };
  if (!(Number.isInteger(opts.count) && opts.count >= 1)) throw new RangeError(`count must be a positive integer; got ${opts.count}`);
  if (!(Number.isInteger(opts.harmonicModes) && opts.harmonicModes >= 0)) throw new RangeError(`harmonicModes must be an integer ≥ 0; got ${opts.harmonicModes}`);
  if (!(Number.isInteger(opts.dipoleStarts) && opts.dipoleStarts >= 0)) throw new RangeError(`dipoleStarts must be an integer ≥ 0; got ${opts.dipoleStarts}`);
  if (opts.harmonicModes + opts.dipoleStarts === 0) throw new RangeError('no starts: harmonicModes and dipoleStarts are both 0');
  const clock = () => performance.now() / 1000;
  const t0 = clock();
  const harmonicShared = shared.harmonic ?? harmonicOf(sys);
  const maxForce = harmonicShared.maxForce;
  if (!(maxForce <= opts.maxForce)) {
    throw new UnrelaxedConfigurationError(
      `configuration is not at an energy minimum: max |F| = ${maxForce.toExponential(3)} > ${opts.maxForce.toExponential(1)} ε/λ; ` +
      'NQLEs expand the energy about a minimum — minimise the configuration first (max |F| ≲ 1e-10)',
    );
  }
  const ctx = nqleContext(sys, harmonicShared);
  const t1 = clock();

  const starts: NqleStart[] = [];
  const harmonic = { omega2: [] as number[], participation: [] as number[], used: 0 };
  if (opts.harmonicModes > 0) {
    onProgress?.('harmonic', 0, 1);
    const modes = shared.modes && shared.modes.count >= opts.harmonicModes
      ? shared.modes
      : measureModes(sys, { count: opts.harmonicModes, harmonic: harmonicShared });
    const dim = 3 * ctx.n;
    for (let k = 0; k < opts.harmonicModes; k++) {
      harmonic.omega2.push(modes.omega2[k]);
      harmonic.participation.push(modes.participation[k]);
      if (modes.participation[k] <= opts.maxStartParticipation) {
        starts.push({ vector: modes.vectors.slice(k * dim, (k + 1) * dim), label: `harmonic:${k}` });
      }
    }
    harmonic.used = starts.length;
    onProgress?.('harmonic', 1, 1);
  }
  const t2 = clock();
  onProgress?.('dipoles', 0, 1);
  starts.push(...dipoleStarts(ctx, opts));
  onProgress?.('dipoles', 1, 1);
  const t3 = clock();
  const search = searchNqles(ctx, starts, opts, (done, total) => onProgress?.('descents', done, total));
  const t4 = clock();
  return {
    ...search, harmonic, maxForce,
    timings: { setup: t1 - t0, harmonicModes: t2 - t1, dipoles: t3 - t2, descents: t4 - t3, total: t4 - t0 },
  };
}
