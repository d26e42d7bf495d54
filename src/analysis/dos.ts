/**
 * The low-frequency density of states (docs/methods.md §8).
 *
 * D(ω) = A_g·ω⁴ below the lowest shear-wave band ω₁ = 2π·c_s/L. A_g is fitted on the cumulative
 * count over M samples, C(ω) = #{modes with frequency < ω}/(M·N_norm) = A_g·ω⁵/5, by least squares
 * at the pooled mode frequencies below the cutoff. N_norm is N (per particle, the default) or 3N
 * (per degree of freedom); ξ_g/a₀ = 2π·(A_g·ω₀⁵)^(1/5) differs by 3^(1/5) between the two.
 *
 * Each sample computes only its lowest few modes, so the pooled count is complete only below the
 * smallest "highest computed frequency" of the samples; the fit range ends below the lower of ω₁ and
 * that, and further down where the count stops following ω⁵ (omega5Range): in small boxes the first
 * shear band broadens well below ω₁.
 */
import { bootstrapMany, type BootstrapOptions, type Estimate } from './statistics.ts';

export type DosNormalization = 'particle' | 'dof';

/** N_norm of the stated normalisation. */
export function normalizationCount(N: number, normalization: DosNormalization): number {
  return normalization === 'dof' ? 3 * N : N;
}

export interface WaveScales {
  /** Shear-wave speed c_s = sqrt(G/ρ) (unit masses). */
  cs: number;
  /** Interparticle length a₀ = (V/N)^(1/3) = ρ^(-1/3). */
  a0: number;
  /** ω₀ = c_s/a₀. */
  omega0: number;
  /** Box side L = (N/ρ)^(1/3) of the cubic box. */
  L: number;
  /** Lowest plane-wave shear frequency ω₁ = 2π·c_s/L. */
  omega1: number;
}

/** c_s, a₀, ω₀, L and ω₁ from the shear modulus G, the number density ρ and N (cubic box). */
export function waveScales(G: number, density: number, N: number): WaveScales {
  const cs = Math.sqrt(G / density);
  const a0 = density ** (-1 / 3);
  const L = (N / density) ** (1 / 3);
  return { cs, a0, omega0: cs / a0, L, omega1: (2 * Math.PI * cs) / L };
}

export interface CumulativeFit {
  /** A_g in the units of ω⁻⁵ per N_norm; NaN if no mode lies below the cutoff. */
  A: number;
  /** Modes below the cutoff that entered the fit. */
  count: number;
  cutoff: number;
}

/**
 * Least-squares fit of C(ω) = (A/5)·ω⁵ through the cumulative count of the pooled frequencies below
 * `cutoff`. The count is evaluated at the middle of each step ((i − ½)/(M·N_norm) at the i-th
 * frequency), which removes the half-step bias of evaluating a step function at its jumps.
 */
export function fitCumulative(pooled: Float64Array, samples: number, nNorm: number, cutoff: number): CumulativeFit {
  const below = pooled.filter((w) => w < cutoff).sort();
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < below.length; i++) {
    const x = below[i] ** 5 / 5;
    const c = (i + 0.5) / (samples * nNorm);
    sxy += x * c;
    sxx += x * x;
  }
  return { A: below.length > 0 ? sxy / sxx : NaN, count: below.length, cutoff };
}

export interface PowerLawRange {
  /** Upper end of the range (exclusive). */
  cutoff: number;
  /** Modes below the cutoff. */
  count: number;
  /** Maximum-likelihood exponent β of C(ω) ∝ ω^β on [0, cutoff) (β = 5 for D ∝ ω⁴), and its error β/√count. */
  exponent: number;
  exponentError: number;
  /** Whether the modes below the cutoff pass the test (false: no range of at least minCount modes does). */
  consistent: boolean;
}

/**
 * The widest range [0, c) with c ≤ maxCutoff over which the pooled count follows ω⁵. Below c a count
 * C ∝ ω⁵ makes u = (ω/c)⁵ uniform on [0, 1); candidates c (maxCutoff, then lower mode frequencies,
 * at most ~64 of them) are tested from the top with the Kolmogorov–Smirnov statistic of u against
 * the uniform law at significance `level`, and the first that passes is taken. If none with at least
 * minCount modes does, the full range is returned marked inconsistent. The exponent is the
 * maximum-likelihood (Hill) β = k/Σ ln(c/ω_i), error β/√k.
 */
export function omega5Range(pooled: Float64Array, maxCutoff: number, level = 0.05, minCount = 8): PowerLawRange {
  const w = pooled.filter((x) => x > 0 && x < maxCutoff).sort();
  const range = (k: number, c: number, consistent: boolean): PowerLawRange => {
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.log(c / w[i]);
    const beta = k / s;
    return { cutoff: c, count: k, exponent: beta, exponentError: beta / Math.sqrt(k), consistent };
  };
  if (!(level > 0)) return range(w.length, maxCutoff, true);
  const critical = Math.sqrt(-0.5 * Math.log(level / 2)); // asymptotic KS: reject when √k·D exceeds it
  const stride = Math.max(1, Math.floor(w.length / 64));
  for (let k = w.length; k >= minCount; k -= k === w.length ? 1 : stride) {
    const c = k === w.length ? maxCutoff : w[k];
    let d = 0;
    for (let i = 0; i < k; i++) {
      const u = (w[i] / c) ** 5;
      d = Math.max(d, (i + 1) / k - u, u - i / k);
    }
    if (Math.sqrt(k) * d <= critical) return range(k, c, true);
  }
  return range(w.length, maxCutoff, false);
}

/** One sample's input to the spectrum analysis. */
export interface SpectrumSample {
  G: number;
  density: number;
  N: number;
  /** Frequencies of the sample's lowest computed modes (translations excluded). */
  omega: ArrayLike<number>;
}

export interface SpectrumOptions {
  normalization?: DosNormalization;
  /** Fit cutoff as a fraction of ω₁ (default 1: all modes below the lowest shear band). */
  cutoffFraction?: number;
  /** Significance level of the test that ends the fit range where the count stops following ω⁵ (omega5Range; default 0.05, 0: off). */
  omega5Level?: number;
  bootstrap?: BootstrapOptions;
}

export interface SpectrumSummary {
  normalization: DosNormalization;
  samples: number;
  cs: Estimate;
  a0: number;
  omega0: Estimate;
  omega1: Estimate;
  /** Highest frequency below which every sample's computed modes are complete. */
  completeBelow: number;
  /** Fit cutoff: below min(cutoffFraction·ω₁, completeBelow) and where the count follows ω⁵; the pooled modes below it. */
  cutoff: Estimate;
  modesBelowCutoff: number;
  /** Exponent β of the cumulative count C ∝ ω^β below the cutoff (5 for D ∝ ω⁴), and whether it is consistent with 5. */
  exponent: Estimate;
  omega5Consistent: boolean;
  Ag: Estimate;
  AgOmega0_5: Estimate;
  /** ξ_g/a₀ = 2π·(A_g·ω₀⁵)^(1/5). */
  xiOverA0: Estimate;
}

/** ξ_g/a₀ from the dimensionless A_g·ω₀⁵. */
export function xiOverA0(AgOmega0_5: number): number {
  return 2 * Math.PI * AgOmega0_5 ** (1 / 5);
}

/**
 * A_g, ω₀, ω₁, A_g·ω₀⁵ and ξ_g/a₀ of one ensemble (fixed N), each with a bootstrap over samples
 * of the whole chain (mean G and mean ρ → c_s, a₀ → ω₀, ω₁ → cutoff → fit). Per-sample densities may
 * differ slightly (glasses relaxed to p = 0); the ensemble means set the scales.
 */
export function analyzeSpectrum(samples: SpectrumSample[], options: SpectrumOptions = {}): SpectrumSummary {
  const normalization = options.normalization ?? 'particle';
  const fraction = options.cutoffFraction ?? 1;
  if (!(fraction > 0)) throw new RangeError(`cutoffFraction must be positive; got ${fraction}`);
  const level = options.omega5Level ?? 0.05;
  if (!(level >= 0 && level < 1)) throw new RangeError(`omega5Level must be in [0, 1); got ${level}`);
  if (samples.length === 0) throw new RangeError('analyzeSpectrum needs at least one sample with modes');
  const N = samples[0].N;
  if (samples.some((s) => s.N !== N)) throw new RangeError(`spectrum ensemble mixes system sizes (N = ${[...new Set(samples.map((s) => s.N))].join(', ')}); analyse each N separately`);
  const nNorm = normalizationCount(N, normalization);
  const omegas = samples.map((s) => Float64Array.from(s.omega).filter((w) => Number.isFinite(w) && w > 0));
  let completeBelow = Infinity;
  for (const w of omegas) completeBelow = Math.min(completeBelow, w.length > 0 ? Math.max(...w) : 0);

  const statistic = (idx: Int32Array): number[] => {
    let g = 0;
    let rho = 0;
    let total = 0;
    for (const i of idx) {
      g += samples[i].G;
      rho += samples[i].density;
      total += omegas[i].length;
    }
    const scales = waveScales(g / idx.length, rho / idx.length, N);
    const pooled = new Float64Array(total);
    let k = 0;
    for (const i of idx) {
      pooled.set(omegas[i], k);
      k += omegas[i].length;
    }
    const range = omega5Range(pooled, Math.min(fraction * scales.omega1, completeBelow), level);
    const fit = fitCumulative(pooled, idx.length, nNorm, range.cutoff);
    const scaled = fit.A * scales.omega0 ** 5;
    return [
      scales.cs, scales.a0, scales.omega0, scales.omega1, range.cutoff, fit.A, scaled, xiOverA0(scaled), fit.count,
      range.exponent, range.consistent ? 1 : 0,
    ];
  };
  const [cs, a0, omega0, omega1, cutoff, Ag, AgOmega0_5, xi, count, exponent, consistent] = bootstrapMany(samples.length, statistic, options.bootstrap);
  return {
    normalization,
    samples: samples.length,
    cs,
    a0: a0.value,
    omega0,
    omega1,
    completeBelow,
    cutoff,
    modesBelowCutoff: count.value,
    exponent,
    omega5Consistent: consistent.value === 1,
    Ag,
    AgOmega0_5,
    xiOverA0: xi,
  };
}

export interface DosBin {
  /** Bin edges in units of ω. */
  low: number;
  high: number;
  /** Where the bin is drawn: the mean frequency of its modes (close to where a steep D(ω) takes its bin average). */
  center: number;
  count: number;
  /** D(ω) = count/(M·N_norm·Δω) and its Poisson error √count/(M·N_norm·Δω). */
  D: number;
  error: number;
}

/**
 * Histogram of D(ω) with logarithmically spaced bins from the lowest pooled frequency to `upTo`
 * (bins above the completeness limit would undercount, so the caller passes that limit). Adjacent
 * bins are merged from the low end until each holds at least minCount modes: dropping the empty
 * bins of the sparse low-frequency tail (they cannot be drawn on a log axis) would bias it upwards.
 */
export function dosHistogram(pooled: ArrayLike<number>, samples: number, nNorm: number, upTo: number, bins = 12, minCount = 3): DosBin[] {
  const w = Float64Array.from(pooled).filter((x) => x > 0 && x <= upTo).sort();
  if (w.length === 0) return [];
  const lo = Math.log(w[0] * 0.999);
  const step = (Math.log(upTo) - lo) / bins;
  const out: DosBin[] = [];
  let low = Math.exp(lo);
  let count = 0, sum = 0, i = 0;
  for (let b = 0; b < bins; b++) {
    const high = b === bins - 1 ? upTo : Math.exp(lo + (b + 1) * step);
    for (; i < w.length && (w[i] < high || b === bins - 1); i++) { count++; sum += w[i]; }
    const last = b === bins - 1;
    if (count < minCount && !last) continue;
    if (count < minCount && last && out.length > 0) {
      // too few left for a bin of their own: join the previous one
      const prev = out.pop()!;
      count += prev.count;
      sum += prev.center * prev.count;
      low = prev.low;
    }
    const norm = samples * nNorm * (high - low);
    out.push({ low, high, center: sum / count, count, D: count / norm, error: Math.sqrt(count) / norm });
    low = high;
    count = 0;
    sum = 0;
  }
  return out;
}
