/**
 * The unjamming analogy as numbers: power-law exponents fitted to the ensemble means of the points
 * of several systems (the Q-model and its controls), each with an error from a parametric bootstrap
 * over the points' own standard errors. The claims they test:
 *   (i)   G/K ∝ (p/K)^½ for soft spheres near unjamming; without attraction p/K ∝ 1/Q, hence
 *         G/K ∝ Q^(−½) (repulsive-q), and the Q-model reaches that law from some Q on;
 *   (ii)  the first peak of g(r) grows as G/K falls;
 *   (iii) ξ_g/a₀ ∝ (G/K)^(−½).
 * and the soft spheres' own check that they are near unjamming: Z − 2d ∝ Δφ^½ with p ∝ Δφ^(α−1) for
 * φ ∝ (1 − r/σ)^α, so Z − 6 ∝ p^(1/(2(α−1))) (½ harmonic, ⅓ Hertzian).
 */
import { powerLawExponent, type Estimate } from './statistics.ts';
import type { QSummary } from './ensemble.ts';
import { createRandom } from '../util/random.ts';

/** Target pressures (ε/σ³) up to which soft spheres follow the unjamming scalings (G/K and Z − 6 ∝ p^½, docs/controls.md). */
export const UNJAMMING_PRESSURE = 1e-2;

/** One point of one system: its control value (Q, or target pressure) and the ensemble estimates the claims use. */
export interface ControlPoint {
  model: string;
  axis: 'Q' | 'pressure';
  point: number;
  GOverK?: Estimate;
  pOverK?: Estimate;
  /** First-peak height of g_LL. */
  peak?: Estimate;
  /** ξ_g/a₀ from the modes' A_g. */
  xi?: Estimate;
  /** Contacts per non-rattler (soft-sphere packings). */
  Z?: Estimate;
  /** The soft-sphere law's exponent α of φ ∝ (1 − r/σ)^α. */
  alpha?: number;
}

export interface ExponentFit {
  /** A claim of the analogy, or 'jamming': the packings' Z − 6 ∝ p^(1/(2(α − 1))), which places them near unjamming. */
  claim: 'i' | 'ii' | 'iii' | 'jamming';
  model: string;
  /** y ∝ x^β: the quantities' names. */
  x: string;
  y: string;
  /** Which points: e.g. 'p ≤ 0.01', 'Q 160–240', 'all'. */
  range: string;
  points: number;
  exponent: number;
  /** Standard deviation of the exponent over the bootstrap replicates. */
  error: number;
  /** The exponent the analogy predicts; null where it predicts only a sign (claim ii), or for Z − 6 of a law without α. */
  expected: number | null;
}

export function controlPoints(model: string, axis: 'Q' | 'pressure', perQ: readonly QSummary[], alpha?: number): ControlPoint[] {
  return perQ.map((q) => ({
    model, axis, point: q.Q, alpha,
    GOverK: q.elastic?.GOverK, pOverK: q.elastic?.pOverK, peak: q.structure?.firstPeakHeight, xi: q.spectrum?.xiOverA0, Z: q.elastic?.contacts?.Z,
  }));
}

const usable = (e: Estimate | undefined): e is Estimate => e !== undefined && e.value > 0 && Number.isFinite(e.value);

/**
 * Exponent β of y ∝ x^β by least squares on log axes, and its error: the standard deviation of β
 * over replicates in which every x and y is drawn from a normal distribution with its estimate's
 * value and standard error (draws ≤ 0 are drawn again). Deterministic for a seed.
 */
export function fitPowerLaw(x: readonly Estimate[], y: readonly Estimate[], replicates = 2000, seed = 1): { exponent: number; error: number } {
  if (x.length !== y.length || x.length < 2) throw new RangeError(`a power-law fit needs at least two (x, y) points; got ${Math.min(x.length, y.length)}`);
  const exponent = powerLawExponent(x.map((e) => e.value), y.map((e) => e.value));
  const rng = createRandom(seed);
  const sd = (e: Estimate) => (Number.isFinite(e.error) ? e.error : 0);
  const draw = (e: Estimate) => {
    for (let k = 0; k < 100; k++) {
      const v = e.value + sd(e) * rng.normal();
      if (v > 0) return v;
    }
    return e.value;
  };
  let s = 0, s2 = 0;
  const xs = new Array<number>(x.length), ys = new Array<number>(y.length);
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < x.length; i++) { xs[i] = draw(x[i]); ys[i] = draw(y[i]); }
    const b = powerLawExponent(xs, ys);
    s += b; s2 += b * b;
  }
  const m = s / replicates;
  return { exponent, error: Math.sqrt(Math.max(0, s2 / replicates - m * m)) };
}

/** The control value as an exact estimate (Q and target pressures carry no error). */
const exact = (v: number): Estimate => ({ value: v, error: 0, ciLow: v, ciHigh: v, level: 0.95, n: 0, replicates: 0 });
const shifted = (e: Estimate, by: number): Estimate => ({ ...e, value: e.value + by, ciLow: e.ciLow + by, ciHigh: e.ciHigh + by });

/** Contacts per particle at which frictionless spheres in three dimensions are isostatic (2d). */
const ISOSTATIC_Z = 6;

/**
 * The exponent fits of claims (i)–(iii) over every model among the points (points of one model from
 * several campaigns are pooled). Fits need two points with positive, finite values; those that
 * cannot be made are left out.
 */
export function unjammingFits(points: readonly ControlPoint[]): ExponentFit[] {
  const fits: ExponentFit[] = [];
  const add = (
    claim: ExponentFit['claim'], model: string, pts: ControlPoint[], x: string, y: string, range: string, expected: number | null,
    xOf: (p: ControlPoint) => Estimate | undefined, yOf: (p: ControlPoint) => Estimate | undefined,
  ) => {
    const ok = pts.filter((p) => usable(xOf(p)) && usable(yOf(p))).sort((a, b) => a.point - b.point);
    if (ok.length < 2) return;
    const { exponent, error } = fitPowerLaw(ok.map((p) => xOf(p)!), ok.map((p) => yOf(p)!));
    fits.push({ claim, model, x, y, range, points: ok.length, exponent, error, expected });
  };
  const GK = (p: ControlPoint) => p.GOverK;
  for (const model of [...new Set(points.map((p) => p.model))]) {
    const own = points.filter((p) => p.model === model);
    const soft = own[0].axis === 'pressure';
    // the unjamming laws hold near unjamming: soft spheres are fitted at p ≤ UNJAMMING_PRESSURE
    const near = soft ? own.filter((p) => p.point <= UNJAMMING_PRESSURE) : own;
    const nearRange = soft ? `p ≤ ${UNJAMMING_PRESSURE}` : 'all';
    if (soft) {
      add('i', model, near, 'p/K', 'G/K', nearRange, 0.5, (p) => p.pOverK, GK);
      const alpha = own[0].alpha;
      add('jamming', model, near, 'p', 'Z − 6', nearRange, alpha ? 1 / (2 * (alpha - 1)) : null, (p) => exact(p.point), (p) => p.Z && shifted(p.Z, -ISOSTATIC_Z));
    } else {
      const Q = (p: ControlPoint) => exact(p.point);
      add('i', model, own, 'Q', 'G/K', 'all', -0.5, Q, GK);
      if (model === 'repulsive-q') add('i', model, own, 'p/K', 'G/K', 'all', 0.5, (p) => p.pOverK, GK);
      // local exponents between neighbouring Q: from which Q on does G/K follow Q^(−½)?
      const byQ = [...own].sort((a, b) => a.point - b.point);
      if (byQ.length > 2) for (let k = 0; k + 1 < byQ.length; k++) add('i', model, byQ.slice(k, k + 2), 'Q', 'G/K', `Q ${byQ[k].point}–${byQ[k + 1].point}`, -0.5, Q, GK);
    }
    add('ii', model, near, 'G/K', 'first g_LL peak', nearRange, null, GK, (p) => p.peak);
    add('iii', model, near, 'G/K', 'ξ_g/a₀', nearRange, -0.5, GK, (p) => p.xi);
  }
  return fits;
}
