/**
 * Athermal quasistatic shear (AQS): simple shear x_α += Δγ·x_β of particles and cell (tilt of the
 * upper-triangular box, planes xy, xz, yz with α < β), each step relaxed to max|F| < ftol, so
 * every state on the path is an energy minimum and σ_αβ = (1/V)·dU/dγ along it.
 *
 * A step is cheap when it is a small smooth perturbation of a minimum. Its non-affine
 * displacement is predicted by the polynomial through the last (up to three) smooth steps; where
 * that history is missing (at the start, after an event) by linear response, v = −H⁺·Ξ per unit
 * strain (Ξ = ∂²U/∂x∂γ, the solve of the linear-response shear modulus, src/measure/elastic.ts),
 * plus the second-order term of the last step if there is one. Inexact Newton iterations (H·δ = F by
 * preconditioned CG on the current Hessian) finish it: one or two per step. Near an instability the
 * prediction fails (a correction is not small, max|F| stops falling, or a solve breaks down) and the
 * nonlinear CG minimiser takes over from the affinely strained previous minimum.
 *
 * Plastic events are steps where the energy falls below the elastic work V·σ̄·Δγ by more than a
 * tolerance far above the minimiser's noise and the most the trapezoidal work can be off on a smooth
 * stretch. The stress need not drop: an event that relaxes a residual stress of the other sign
 * raises σ_αβ. Near an event the step is bisected back from the last stable state until the
 * bracket is `refineDepth` halvings of the step, so the event strain γ_c is known to
 * step/2^refineDepth; the lowest Hessian eigenvalue of the last stable state is recorded, and for
 * the first event a sweep of states at γ_c − δ (δ halving) shows λ_min ∝ (γ_c − γ)^½ of a
 * saddle-node bifurcation.
 */
import { computeForces, maxForceComponent } from '../engine/forces.ts';
import { minimize, minimizeFire } from '../engine/minimize.ts';
import { cloneSystem } from '../engine/prepare.ts';
import { buildPairTable } from '../engine/pair-table.ts';
import type { System } from '../engine/system.ts';
import { blockJacobiPreconditioner, solveCg } from '../linalg/cg.ts';
import { hessianOperator, releaseHessian } from '../linalg/hessian.ts';
import { assembleHessian } from './hessian.ts';
import { lanczosSmallest } from '../linalg/lanczos.ts';
import { dot, projectOutTranslations } from '../linalg/vectors.ts';
import { releaseArray } from '../util/kernels.ts';
import { type Box, boxVolume, deform } from '../space/box.ts';
import { createRandom } from '../util/random.ts';
import { measureElastic, simpleShear, strainForceDerivative } from './elastic.ts';
import { participationRatio } from './modes.ts';
import {
  countMoved, d2min, fieldCentre, fieldOverlap, fractionalCoordinate, nonAffineField, particleDistance, slabProfile, type SlabProfile,
} from './nonaffine.ts';
import { stressTensor, VOIGT_LABELS } from './stress.ts';

export type ShearPlane = 'xy' | 'xz' | 'yz';

/** x_α += γ·x_β: the displaced axis α, the gradient axis β, and σ_αβ's Voigt index. */
export const SHEAR_PLANES: Record<ShearPlane, { alpha: number; beta: number; voigt: number }> = {
  xy: { alpha: 0, beta: 1, voigt: 5 },
  xz: { alpha: 0, beta: 2, voigt: 4 },
  yz: { alpha: 1, beta: 2, voigt: 3 },
};

export function isShearPlane(s: string): s is ShearPlane {
  return Object.hasOwn(SHEAR_PLANES, s);
}

export interface AqsOptions {
  plane: ShearPlane;
  maxStrain: number;
  /** Strain step Δγ (> 0). */
  step: number;
  /** Every stored state has max|F| < ftol (default 1e-10). */
  ftol?: number;
  /** Linear-response shear modulus every K steps of the regular grid (0: only at γ = 0). */
  moduliEvery?: number;
  /** Bisections of the step near each event (default 8: γ_c to step/256). 0 disables refinement. */
  refineDepth?: number;
  /** A particle "moved" in an event if its non-affine displacement exceeds this (λ; default 0.1). */
  moveThreshold?: number;
  /** Strain between the reference states of the accumulated D²_min (default 0.01). */
  d2minInterval?: number;
  /** Width of the localisation slab as a share of the box along the gradient axis (default 1/4). */
  slabShare?: number;
  /** Flow stress: mean σ_αβ over this last fraction of the strain range (default 0.5). */
  flowFraction?: number;
  /** Event tolerance on the released energy (default: eventTolerances). */
  energyTolerance?: number;
  /** Softest NQLEs and harmonic modes of the unstrained glass (unit 3N vectors, same particle order). */
  softSpots?: { nqle: readonly Float64Array[]; modes: readonly Float64Array[] };
  /** Called after every stored state (the system is that state; do not modify it). */
  onState?: (record: AqsPathPoint, sys: System) => void;
  /** Largest Lanczos budget for a lowest eigenvalue (Hessian products). */
  eigenMatvecs?: number;
}

export const AQS_DEFAULTS = {
  ftol: 1e-10, moduliEvery: 0, refineDepth: 8, moveThreshold: 0.1, d2minInterval: 0.01, slabShare: 0.25, flowFraction: 0.5,
  eigenMatvecs: 20_000,
} as const;

export interface AqsPathPoint {
  gamma: number;
  /** Virial stress, tensile positive, Voigt order xx, yy, zz, yz, xz, xy. */
  stress: number[];
  energyPerParticle: number;
  pressure: number;
  maxForce: number;
}

export interface AqsEvent {
  /** Strain after the event (γ_c within the refined bracket below it). */
  gamma: number;
  /** σ_αβ(before) − σ_αβ(after): positive where the event relaxes a positive stress. */
  stressDrop: number;
  /** Energy released beyond the elastic work: −[ΔU − V·(σ_before + σ_after)/2·Δγ] > 0. */
  energyDrop: number;
  /** Participation ratio of the non-affine displacement field across the event. */
  participation: number;
  particlesMoved: number;
  /** Lowest non-zero Hessian eigenvalue of the last stable state before the event (null if it did not converge). */
  lowestEigenvalueBefore: number | null;
}

export interface EventApproach {
  /** Strains of the stable states approaching the first event, their λ_min, and γ_c (bracket midpoint). */
  gamma: number[];
  lambdaMin: number[];
  gammaC: number;
  /** Half the final bracket: the uncertainty of γ_c. */
  gammaCError: number;
  /** Fit λ_min = c·(γ_c − γ)^exponent over the approach points (0.5 for a saddle-node). */
  exponent: number | null;
  /** γ_c from a straight-line fit of λ_min² against γ (a check on the bracket). */
  gammaCFromFit: number | null;
  /** Approach points used by the fits (the closest ones along which λ_min falls). */
  points: number;
}

export interface SoftSpotOverlap {
  /** |û·π̂| of the first event's field with each NQLE and harmonic mode (input order). */
  nqle: number[];
  modes: number[];
  /** Distance between the event's centre (largest |u_i|) and each mode's, in the unstrained box (λ). */
  nqleDistance: number[];
  modesDistance: number[];
}

export interface AqsResult {
  plane: ShearPlane;
  N: number;
  volume: number;
  path: AqsPathPoint[];
  events: AqsEvent[];
  /** Non-affine displacement fields across the events (3N each, same order as events). */
  eventFields: Float64Array[];
  /** Linear-response moduli along the path: μ_αβ and G = mean of the three simple-shear moduli. */
  moduli: Array<{ gamma: number; mu: number; G: number; converged: boolean }>;
  /** G at γ = 0 (the scale of σ/G). */
  G0: number;
  sigmaMax: number;
  yieldStrain: number;
  flowStress: number;
  overshootRatio: number;
  /** Accumulated D²_min per particle, its profile along the gradient axis, and the localisation index. */
  d2min: Float64Array;
  profile: ShearLocalisation;
  localisationIndex: number;
  firstEvent: { approach: EventApproach | null; softSpots: SoftSpotOverlap | null } | null;
  tolerances: { energy: number };
  /** False if a minimisation failed: the path ends at the last minimum before it (failure says why). */
  converged: boolean;
  failure: string | null;
  cost: {
    steps: number; predicted: number; minimised: number; refinementSteps: number;
    forceEvaluations: number; linearSolveIterations: number; seconds: number;
  };
}

/** Smooth steps remembered for extrapolating the next one (3: a cubic, error O(h⁴)). */
const HISTORY = 3;

/**
 * Weights w_j with u = Σ_j w_j·du_j the increment from γ to γ + h of the polynomial through the
 * path at γ, γ − dh₀, γ − dh₀ − dh₁, … (du_j the displacement of the step of dh_j, most recent first).
 */
export function extrapolationWeights(dh: readonly number[], h: number): number[] {
  // nodes τ_0 = 0 > τ_1 > …, values X(τ_m) = −(du_0 + … + du_{m−1}); Lagrange weights L_m(h)
  const tau = [0];
  for (const d of dh) tau.push(tau[tau.length - 1] - d);
  const L = tau.map((tm, m) => tau.reduce((p, ti, i) => (i === m ? p : (p * (h - ti)) / (tm - ti)), 1));
  // u = Σ_m L_m·X(τ_m) − X(0) = −Σ_m L_m·Σ_{j<m} du_j, so w_j = −Σ_{m>j} L_m
  return dh.map((_, j) => -L.slice(j + 1).reduce((a, b) => a + b, 0));
}

/** Minimiser iterations of a bisection probe before its energy is checked against the continuing minimum. */
const PROBE_ITERATIONS = 200;
/**
 * max|F| at which relaxing an event passes from the minimiser to Newton. At Q = 240, N = 2048 to
 * γ = 0.01: 1e-5 took 35 % fewer force evaluations than CG alone to 1e-10 (same path); from 1e-4
 * Newton failed more often, 1e-6 saved less.
 */
const NEWTON_HANDOFF = 1e-5;

/** Extra bisections for the first event (its bracket is step/2^(refineDepth + this)). */
const FIRST_EVENT_EXTRA_DEPTH = 6;

export class AqsConvergenceError extends Error {}

/**
 * Event tolerance: the energy released must exceed 1e-9·N ε (above the round-off of U, far below
 * the smallest events, ≳ 1e-4 ε) plus V·|Δσ|·Δγ/2, the most that the trapezoidal elastic work can
 * be off on a smooth monotone stretch of σ(γ), such as the steep softening just before an
 * instability. The sign of Δσ does not enter: while σ_αβ < 0 (a residual stress being unloaded) an
 * event raises it, and a drop-only test misses it (it did, at N = 2048, Q = 240: docs/aqs.md).
 */
export function eventTolerances(N: number): { energy: number } {
  return { energy: 1e-9 * N };
}

type CurvePoint = { gamma: number; sigma: number; energy: number };

/**
 * Stress drop and released energy between two states of the path (positive when both fall), and
 * whether the step is a plastic event by the tolerances (see eventTolerances).
 */
export function dropBetween(a: CurvePoint, b: CurvePoint, volume: number, tol: { energy: number }) {
  const stressDrop = a.sigma - b.sigma, dGamma = b.gamma - a.gamma;
  const energyDrop = -(b.energy - a.energy - volume * 0.5 * (a.sigma + b.sigma) * dGamma);
  const smoothBound = 0.5 * volume * Math.abs(stressDrop) * Math.abs(dGamma);
  return { stressDrop, energyDrop, event: energyDrop > tol.energy + smoothBound };
}

/**
 * Indices k of a stress–strain curve (σ_αβ and total energy U per point) where the step k−1 → k is
 * a plastic event (dropBetween).
 */
export function detectEvents(gamma: ArrayLike<number>, sigma: ArrayLike<number>, energy: ArrayLike<number>, volume: number, tol: { energy: number }): number[] {
  const out: number[] = [];
  for (let k = 1; k < gamma.length; k++) {
    const a = { gamma: gamma[k - 1], sigma: sigma[k - 1], energy: energy[k - 1] };
    if (dropBetween(a, { gamma: gamma[k], sigma: sigma[k], energy: energy[k] }, volume, tol).event) out.push(k);
  }
  return out;
}

/** A stored minimum: enough to restore the system and to compare with the next one. */
interface State {
  gamma: number;
  box: Box;
  positions: Float64Array;
  energy: number;
  stress: number[];
  maxForce: number;
  /**
   * Non-affine displacements (du) and strains (dh) of the last smooth steps that led here, most
   * recent first, at most HISTORY; empty after a minimised step. They extrapolate the next step.
   */
  history: Array<{ du: Float64Array; dh: number }>;
  /** v = dx/dγ (non-affine) by linear response, computed when first needed (null: the solve failed). */
  v?: Float64Array | null;
}

/** Random reassignments of the D²_min values to particles that give the localisation of homogeneous flow. */
const SHUFFLES = 64;
const SHUFFLE_SEED = 1;

export interface ShearLocalisation extends SlabProfile {
  /**
   * Mean localisation index of the same D²_min values assigned to the particles at random (fixed
   * seed): what homogeneous flow of this many particles gives, the floor to read the index against.
   */
  shuffled: number;
}

/**
 * Profile of the accumulated D²_min along the gradient axis of a shear plane (bins of
 * a₀ = (V/N)^⅓, positions of the unstrained glass) and its most loaded slab of `slabShare` of the box.
 */
export function shearLocalisation(d2min: Float64Array, unstrained: { box: Box; positions: Float64Array }, plane: ShearPlane, slabShare: number = AQS_DEFAULTS.slabShare): ShearLocalisation {
  if (!(slabShare > 0 && slabShare < 1)) throw new RangeError(`the localisation slab's share of the box must lie in (0, 1), got ${slabShare}`);
  const { beta } = SHEAR_PLANES[plane];
  const box = unstrained.box;
  const L = [box.lx, box.ly, box.lz][beta];
  const a0 = Math.cbrt(boxVolume(box) / d2min.length);
  const s = fractionalCoordinate(box, unstrained.positions, beta);
  const profile = slabProfile(d2min, s, L, slabShare * L, a0);
  const rng = createRandom(SHUFFLE_SEED);
  const q = d2min.slice();
  let shuffled = 0;
  for (let k = 0; k < SHUFFLES; k++) {
    for (let i = q.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = q[i]; q[i] = q[j]; q[j] = t;
    }
    shuffled += slabProfile(q, s, L, slabShare * L, a0).localisation / SHUFFLES;
  }
  return { ...profile, shuffled };
}

/** The stored form of a localisation profile (`measure aqs --json`, the campaign's aqs record). */
export function profileRecord(p: ShearLocalisation) {
  return { centres: p.centres, meanD2min: p.mean, slabShare: p.slabShare, uniform: p.uniform, slabCentre: p.slabCentre, shuffled: p.shuffled };
}

export function runAqs(sys: System, options: AqsOptions): AqsResult {
  const o = { ...AQS_DEFAULTS, ...options };
  if (!isShearPlane(o.plane)) throw new RangeError(`plane must be xy, xz or yz; got '${o.plane}'`);
  if (!(o.step > 0) || !Number.isFinite(o.step)) throw new RangeError(`strain step must be positive; got ${o.step}`);
  if (!(o.maxStrain > 0) || !Number.isFinite(o.maxStrain)) throw new RangeError(`maximum strain must be positive; got ${o.maxStrain}`);
  if (!(o.ftol > 0)) throw new RangeError(`ftol must be positive; got ${o.ftol}`);
  if (!(Number.isInteger(o.refineDepth) && o.refineDepth >= 0)) throw new RangeError(`refineDepth must be an integer ≥ 0; got ${o.refineDepth}`);
  if (!(Number.isInteger(o.moduliEvery) && o.moduliEvery >= 0)) throw new RangeError(`moduliEvery must be an integer ≥ 0; got ${o.moduliEvery}`);
  if (!(o.flowFraction > 0 && o.flowFraction <= 1)) throw new RangeError(`flowFraction must be in (0, 1]; got ${o.flowFraction}`);
  const t0 = performance.now();
  const { alpha, beta, voigt } = SHEAR_PLANES[o.plane];
  const E = simpleShear(alpha, beta);
  const n = sys.species.length;
  const V = boxVolume(sys.box);
  const evals0 = sys.forceEvaluations;
  const cost = { steps: 0, predicted: 0, minimised: 0, refinementSteps: 0, forceEvaluations: 0, linearSolveIterations: 0, seconds: 0 };

  // Refuses a configuration that is not at a minimum (UnrelaxedConfigurationError) before any work.
  const el0 = measureElastic(sys);
  const moduli: AqsResult['moduli'] = [];

  const G0 = el0.G;
  const tol = { energy: o.energyTolerance ?? eventTolerances(n).energy };
  const unstrained = { box: sys.box, positions: sys.positions.slice() };

  const path: AqsPathPoint[] = [];
  const events: AqsEvent[] = [];
  const eventFields: Float64Array[] = [];
  let approach: EventApproach | null = null;
  let softSpots: SoftSpotOverlap | null = null;

  const snapshot = (gamma: number, stress: number[], from: State | null = null, du: Float64Array | null = null, dh = 0): State => ({
    gamma, box: sys.box, positions: sys.positions.slice(), energy: sys.energy, stress, maxForce: maxForceComponent(sys.forces),
    history: du && from ? [{ du, dh }, ...from.history].slice(0, HISTORY) : [],
  });
  const strainBy = (h: number) => {
    const d = deform(sys.box, sys.positions, E.map((x) => x * h));
    sys.box = d.box;
    sys.positions.set(d.pos);
  };

  /** v = −H⁺·Ξ at the minimum the system holds (null if the solve fails, e.g. H is not positive there). */
  let lastV: Float64Array | null = null;
  const linearResponse = (): Float64Array | null => {
    const pairs = buildPairTable(sys);
    const H = assembleHessian(sys, pairs);
    const xi = new Float64Array(3 * n);
    strainForceDerivative(pairs, E, xi);
    for (let k = 0; k < xi.length; k++) xi[k] = -xi[k];
    // v only predicts: its error h·δv is far below the O(h³) error of the prediction at this tolerance
    const pre = blockJacobiPreconditioner(H);
    const r = solveCg(hessianOperator(H), xi, { tol: 1e-5, preconditioner: pre, x0: lastV ?? undefined });
    pre.release?.();
    releaseHessian(H);
    cost.linearSolveIterations += r.iterations;
    if (!r.converged) return null;
    lastV = r.x;
    return r.x;
  };

  /**
   * Inexact Newton from the predicted state: H·δ = F by preconditioned CG to a relative residual
   * that tightens as max|F| falls, with the Hessian of the current point. True if max|F| < ftol;
   * false (the prediction failed) if a solve fails, a correction is not small, or max|F| stops falling.
   */
  const newton = (): boolean => {
    const f = sys.forces;
    let fmax = maxForceComponent(f);
    let eta = Math.min(fmax, 1e-3);
    for (let it = 0; it < 12 && fmax >= o.ftol; it++) {
      const H = assembleHessian(sys);
      const op = hessianOperator(H), pre = blockJacobiPreconditioner(H);
      // a residual of 2-norm ≤ ftol/2 leaves every force component below ftol (the step's own
      // nonlinear error is far smaller by then): no solve needs to go further
      const floor = (0.5 * o.ftol) / Math.sqrt(dot(f, f));
      const r = solveCg(op, f.slice(), { tol: Math.min(0.1, Math.max(floor, eta)), preconditioner: pre });
      pre.release?.();
      releaseHessian(H);
      cost.linearSolveIterations += r.iterations;
      let big = 0;
      for (let k = 0; k < r.x.length; k++) big = Math.max(big, Math.abs(r.x[k]));
      if (r.converged && big <= 0.05) for (let k = 0; k < r.x.length; k++) sys.positions[k] += r.x[k];
      releaseArray(r.x);
      if (!r.converged) return false;
      if (big > 0.05) return false; // not a small correction: the prediction left the basin
      computeForces(sys);
      const next = maxForceComponent(f);
      if (!(next < 0.9 * fmax)) return false;
      // Eisenstat–Walker forcing term (their choice 2): solve only as far as the last step's
      // reduction says the linear model holds; near a soft mode the step's nonlinear error, not
      // the linear residual, limits the reduction, and a tighter solve is wasted
      const previous = eta;
      eta = 0.9 * (next / fmax) ** 2;
      if (0.9 * previous * previous > 0.1) eta = Math.max(eta, 0.9 * previous * previous);
      fmax = next;
    }
    return fmax < o.ftol;
  };

  /**
   * Relax the system to max|F| < ftol: the CG minimiser to max|F| < NEWTON_HANDOFF, then Newton,
   * which converges quadratically where CG crawls; where Newton fails, CG on to ftol. Where CG
   * stalls short of ftol (line searches lost in round-off after a large rearrangement), Newton
   * finishes from there if the state is close to a minimum, else FIRE and CG once more; otherwise
   * AqsConvergenceError.
   */
  const relax = (what: string): void => {
    if (NEWTON_HANDOFF > o.ftol && minimize(sys, { ftol: NEWTON_HANDOFF }).converged) {
      computeForces(sys);
      if (newton()) return;
    }
    let m = minimize(sys, { ftol: o.ftol });
    if (m.converged) return;
    computeForces(sys);
    if (newton()) return;
    minimizeFire(sys, { ftol: o.ftol, maxIterations: 20_000 });
    m = minimize(sys, { ftol: o.ftol });
    if (!m.converged) throw new AqsConvergenceError(`minimisation after ${what} did not reach max|F| < ${o.ftol} (max|F| = ${m.maxForce.toExponential(3)}, ${m.reason})`);
  };

  /**
   * One strain step h from the stable state s: the non-affine displacement is extrapolated by the
   * polynomial through the last smooth steps when there are two or more (HISTORY at most), else predicted as h·v (+ the
   * second-order term from one previous step) with v by linear response; Newton finishes. If that
   * fails the minimiser relaxes the affinely strained s. A probe (a bisection step near an event)
   * only asks whether the step crosses the instability: it is 'unstable' when Newton cannot continue
   * the path, or, without a prediction, once the minimiser's energy has fallen further below the
   * elastic work than any continuation of s could.
   */
  const attempt = (s: State, h: number, probe = false): 'predicted' | 'minimised' | 'unstable' => {
    cost.steps++;
    sys.box = s.box;
    sys.positions.set(s.positions);
    let u: Float64Array | null = null;
    if (s.history.length >= 2) {
      // polynomial through the non-affine path at the last history.length + 1 states, evaluated at γ + h
      const w = extrapolationWeights(s.history.map((x) => x.dh), h);
      u = new Float64Array(s.history[0].du.length);
      for (let j = 0; j < w.length; j++) {
        const du = s.history[j].du, c = w[j];
        for (let k = 0; k < u.length; k++) u[k] += c * du[k];
      }
    } else {
      if (s.v === undefined) s.v = linearResponse();
      const v = s.v;
      const last = s.history[0];
      if (v) {
        // (h²/2)·x″ from the last smooth step (dh, du): (dh²/2)·x″ ≈ dh·v − du
        const c = last ? (h * h) / (last.dh * last.dh) : 0;
        u = new Float64Array(v.length);
        for (let k = 0; k < u.length; k++) u[k] = h * v[k] + (last ? c * (last.dh * v[k] - last.du[k]) : 0);
      }
    }
    strainBy(h);
    if (u) {
      for (let k = 0; k < u.length; k++) sys.positions[k] += u[k];
      computeForces(sys);
      if (newton()) { cost.predicted++; return 'predicted'; }
      // inside a bracket whose lower end is stable and upper end crossed an instability, Newton from
      // the continuation fails where the minimum has gone (past γ_c) and, near γ_c on the stable
      // side, converges: the stable side is predicted (a failure there only costs a later
      // re-detection), and relaxing a crossing probe, a whole plastic event, is not needed
      if (probe) return 'unstable';
      sys.box = s.box;
      sys.positions.set(s.positions);
      strainBy(h);
    }
    if (probe && !minimize(sys, { ftol: o.ftol, maxIterations: PROBE_ITERATIONS }).converged) {
      computeForces(sys);
      // the minimum continuing s lies within V·h·|σ| of U(s) + V·σ·h; the minimiser only goes down
      const sigma = s.stress[voigt];
      if (sys.energy < s.energy + V * sigma * h - V * h * Math.abs(sigma) - tol.energy) { cost.minimised++; return 'unstable'; }
    }
    relax(`the strain step to γ = ${(s.gamma + h).toPrecision(8)}`);
    cost.minimised++;
    return 'minimised';
  };

  const record = (s: State) => {
    const p: AqsPathPoint = {
      gamma: s.gamma, stress: s.stress, energyPerParticle: s.energy / n,
      pressure: -(s.stress[0] + s.stress[1] + s.stress[2]) / 3, maxForce: s.maxForce,
    };
    path.push(p);
    o.onState?.(p, sys);
  };
  /** Lowest non-zero Hessian eigenvalue of a stable state (null if Lanczos did not converge). */
  const lowestEigenvalue = (st: State): number | null => {
    sys.box = st.box;
    sys.positions.set(st.positions);
    const H = assembleHessian(sys);
    const r = lanczosSmallest(hessianOperator(H), { count: 1, project: projectOutTranslations, maxMatvecs: o.eigenMatvecs, tol: 1e-8 });
    releaseHessian(H);
    releaseArray(r.vectors);
    return r.converged ? r.values[0] : null;
  };
  const isDrop = (a: State, b: State) =>
    dropBetween({ gamma: a.gamma, sigma: a.stress[voigt], energy: a.energy }, { gamma: b.gamma, sigma: b.stress[voigt], energy: b.energy }, V, tol);

  // D²_min accumulated over segments of d2minInterval strain
  const accumulated = new Float64Array(n);
  let d2ref = cloneSystem(sys);
  let d2refGamma = 0;
  const closeSegment = (gamma: number) => {
    d2min(d2ref, sys, accumulated);
    d2ref = cloneSystem(sys);
    d2refGamma = gamma;
  };

  computeForces(sys);
  if (maxForceComponent(sys.forces) >= o.ftol) {
    // a glass quenched to a looser tolerance: Newton from there reaches ftol below the minimiser's round-off floor
    if (!newton()) relax('the initial configuration');
  }
  let stable = snapshot(0, stressTensor(sys));
  record(stable);
  moduli.push({ gamma: 0, mu: el0.shear[o.plane], G: el0.G, converged: el0.converged });

  const gridStep = (g: number) => Math.floor(g / o.step + 1e-9);
  const eps = 1e-9 * o.step;
  /** Step from a stable state to strain target; returns the new state and how it was reached. */
  const stepFrom = (from: State, target: number, probe = false) => {
    const h = target - from.gamma;
    const how = attempt(from, h, probe);
    return { state: snapshot(target, stressTensor(sys), from, how === 'predicted' ? smoothDisplacement(from, h) : null, h), how };
  };
  /** x − affine(s.positions) after a smooth step h from s (positions are continuous, never wrapped, along the path). */
  const smoothDisplacement = (s: State, h: number): Float64Array => {
    const a = deform(s.box, s.positions, E.map((x) => x * h)).pos;
    for (let k = 0; k < a.length; k++) a[k] = sys.positions[k] - a[k];
    return a;
  };
  /** Make r's state the last stable one; the system holds it afterwards (forces not refreshed). */
  const accept = (r: { state: State }) => {
    stable = r.state;
    sys.box = stable.box;
    sys.positions.set(stable.positions);
    record(stable);
  };

  let failure: string | null = null;
  while (stable.gamma < o.maxStrain - eps) {
    try {
      advance();
    } catch (err) {
      // a minimisation that did not converge ends the path; everything before it is kept
      if (!(err instanceof AqsConvergenceError)) throw err;
      failure = err.message;
      sys.box = stable.box;
      sys.positions.set(stable.positions);
      break;
    }
  }
  if (stable.gamma - d2refGamma > eps) closeSegment(stable.gamma);

  /** One step of the regular grid from the last stable state, with refinement if it is an event. */
  function advance(): void {
    const target = Math.min(o.maxStrain, (gridStep(stable.gamma) + 1) * o.step);
    // with refinement the grid step is a probe too: a crossing is relaxed once, at the end of the bisection
    const refine = o.refineDepth > 0;
    let r = stepFrom(stable, target, refine);
    let drop = isDrop(stable, r.state);
    if (refine && (r.how === 'unstable' || (r.how === 'minimised' && drop.event))) {
      // bisect back from the last stable state: the instability lies in (stable.gamma, hi]
      const start = stable;
      let hi = target, from = r.how === 'unstable' ? NaN : stable.gamma;
      // the first event gets a finer bracket, so that its approach sweep resolves λ_min → 0
      const minWidth = o.step / 2 ** (o.refineDepth + (events.length === 0 ? FIRST_EVENT_EXTRA_DEPTH : 0));
      while (hi - stable.gamma > minWidth * (1 + 1e-9)) {
        const m = stepFrom(stable, 0.5 * (stable.gamma + hi), true);
        cost.refinementSteps++;
        const d = isDrop(stable, m.state);
        if (m.how === 'unstable') { hi = m.state.gamma; from = NaN; } // not relaxed: the event is recomputed below
        else if (m.how === 'minimised' && d.event) { hi = m.state.gamma; r = m; drop = d; from = stable.gamma; } else accept(m);
      }
      // the event is the step from the last stable state
      if (from !== stable.gamma) { r = stepFrom(stable, hi); drop = isDrop(stable, r.state); }
      if (events.length === 0 && drop.event) approach = approachSweep(start, stable.gamma, hi);
    }
    if (r.how === 'minimised' && drop.event) {
      const u = nonAffineField(stable, r.state);
      events.push({
        gamma: r.state.gamma, stressDrop: drop.stressDrop, energyDrop: drop.energyDrop,
        participation: participationRatio(u), particlesMoved: countMoved(u, o.moveThreshold),
        lowestEigenvalueBefore: lowestEigenvalue(stable),
      });
      eventFields.push(u);
      if (events.length === 1 && o.softSpots) softSpots = softSpotOverlap(u, unstrained, o.softSpots);
    }
    accept(r);
    const k = gridStep(stable.gamma + eps);
    if (o.moduliEvery > 0 && Math.abs(stable.gamma - k * o.step) < eps && k % o.moduliEvery === 0) {
      const el = measureElastic(sys, { forceTolerance: 1 });
      moduli.push({ gamma: stable.gamma, mu: el.shear[o.plane], G: el.G, converged: el.converged });
    }
    if (stable.gamma - d2refGamma >= o.d2minInterval - eps) closeSegment(stable.gamma);
  }

  /** States at γ_c − δ, δ halving from the bracket start to twice its width, each with λ_min. */
  function approachSweep(start: State, lo: number, hi: number): EventApproach {
    const gammaC = 0.5 * (lo + hi), width = hi - lo;
    const gam: number[] = [], lam: number[] = [];
    const push = (st: State) => {
      const l = lowestEigenvalue(st);
      if (l !== null && l > 0) { gam.push(st.gamma); lam.push(l); }
    };
    let s = start;
    push(s);
    for (let delta = 0.5 * (gammaC - start.gamma); delta >= 2 * width; delta *= 0.5) {
      const target = gammaC - delta;
      if (target <= s.gamma) continue;
      const next = stepFrom(s, target, true);
      cost.refinementSteps++;
      if (next.how === 'unstable' || (next.how === 'minimised' && isDrop(s, next.state).event)) break;
      s = next.state;
      push(s);
    }
    return { gamma: gam, lambdaMin: lam, gammaC, gammaCError: width / 2, ...fitSquareRoot(gam, lam, gammaC) };
  }

  // yield scalars
  const sig = path.map((p) => p.stress[voigt]);
  let iMax = 0;
  for (let k = 1; k < sig.length; k++) if (sig[k] > sig[iMax]) iMax = k;
  const gEnd = path[path.length - 1].gamma;
  const flow = path.filter((p) => p.gamma >= (1 - o.flowFraction) * gEnd).map((p) => p.stress[voigt]);
  const flowStress = flow.reduce((a, b) => a + b, 0) / flow.length;
  const profile = shearLocalisation(accumulated, unstrained, o.plane, o.slabShare);
  cost.forceEvaluations = sys.forceEvaluations - evals0;
  cost.seconds = (performance.now() - t0) / 1000;
  return {
    plane: o.plane, N: n, volume: V, path, events, eventFields, moduli, G0,
    sigmaMax: sig[iMax], yieldStrain: path[iMax].gamma, flowStress, overshootRatio: sig[iMax] / flowStress,
    d2min: accumulated, profile, localisationIndex: profile.localisation,
    firstEvent: events.length > 0 ? { approach, softSpots } : null,
    tolerances: tol, converged: failure === null, failure, cost,
  };
}


/**
 * λ = c·(γ_c − γ)^a by least squares in logs, and γ_c from a straight-line fit of λ² against γ,
 * over the points closest to γ_c along which λ keeps falling (farther out the lowest mode may be
 * another one than the one that goes soft). gamma ascending.
 */
export function fitSquareRoot(gamma: number[], lambda: number[], gammaC: number): { exponent: number | null; gammaCFromFit: number | null; points: number } {
  let first = gamma.length - 1;
  while (first > 0 && lambda[first - 1] > lambda[first]) first--;
  const g = gamma.slice(first), l = lambda.slice(first);
  const xs: number[] = [], ys: number[] = [];
  for (let k = 0; k < g.length; k++) if (gammaC - g[k] > 0 && l[k] > 0) { xs.push(Math.log(gammaC - g[k])); ys.push(Math.log(l[k])); }
  const line = (x: number[], y: number[]) => {
    const m = x.length, mx = x.reduce((a, b) => a + b, 0) / m, my = y.reduce((a, b) => a + b, 0) / m;
    let sxy = 0, sxx = 0;
    for (let k = 0; k < m; k++) { sxy += (x[k] - mx) * (y[k] - my); sxx += (x[k] - mx) ** 2; }
    const slope = sxy / sxx;
    return { slope, intercept: my - slope * mx };
  };
  const exponent = xs.length >= 3 ? line(xs, ys).slope : null;
  let gammaCFromFit: number | null = null;
  if (g.length >= 3) {
    const f = line(g, l.map((x) => x * x));
    if (f.slope < 0) gammaCFromFit = -f.intercept / f.slope;
  }
  return { exponent, gammaCFromFit, points: g.length };
}

function softSpotOverlap(u: Float64Array, unstrained: { box: Box; positions: Float64Array }, spots: NonNullable<AqsOptions['softSpots']>): SoftSpotOverlap {
  const c = fieldCentre(u);
  const dist = (v: Float64Array) => particleDistance(unstrained.box, unstrained.positions, c, fieldCentre(v));
  return {
    nqle: spots.nqle.map((v) => fieldOverlap(u, v)), modes: spots.modes.map((v) => fieldOverlap(u, v)),
    nqleDistance: spots.nqle.map(dist), modesDistance: spots.modes.map(dist),
  };
}

/** The path as CSV: γ, the six stress components (Voigt order), E/N, p, max|F|. */
export function aqsPathCsv(r: Pick<AqsResult, 'path'>): string {
  return csvRows([
    ['gamma', ...VOIGT_LABELS.map((l) => `sigma_${l}`), 'energy_per_particle', 'pressure', 'max_force'],
    ...r.path.map((p) => [p.gamma, ...p.stress, p.energyPerParticle, p.pressure, p.maxForce]),
  ]);
}

/** The events as CSV, one row per event. */
export function aqsEventsCsv(r: Pick<AqsResult, 'events'>): string {
  return csvRows([
    ['gamma', 'stress_drop', 'energy_drop', 'participation', 'particles_moved', 'lowest_eigenvalue_before'],
    ...r.events.map((e) => [e.gamma, e.stressDrop, e.energyDrop, e.participation, e.particlesMoved, e.lowestEigenvalueBefore]),
  ]);
}

function csvRows(rows: ReadonlyArray<ReadonlyArray<number | string | null>>): string {
  return rows.map((row) => row.join(',')).join('\n') + '\n';
}

/** Read the γ and σ_αβ columns of a path CSV written by aqsPathCsv. */
export function parseAqsPathCsv(text: string, plane: ShearPlane): { gamma: number[]; sigma: number[] } {
  const lines = text.trim().split('\n');
  const col = 1 + SHEAR_PLANES[plane].voigt;
  const gamma: number[] = [], sigma: number[] = [];
  for (const line of lines.slice(1)) {
    const v = line.split(',');
    gamma.push(Number(v[0]));
    sigma.push(Number(v[col]));
  }
  return { gamma, sigma };
}
