/**
 * Ensemble statistics: means, standard deviations, and bootstrap uncertainties over samples.
 *
 * Every ensemble number of the report is an `Estimate`: the statistic on the full ensemble, its
 * bootstrap standard error (the error bar of the figures) and a percentile confidence interval.
 * The bootstrap resamples whole samples, so quantities built from several numbers of one sample
 * (three shear planes, a chain G → c_s → ω₀ → A_g·ω₀⁵) keep their within-sample correlations.
 */
import { createRandom } from '../util/random.ts';

export interface Estimate {
  /** The statistic evaluated on the full ensemble. */
  value: number;
  /** Bootstrap standard error (standard deviation of the replicates); NaN without replicates. */
  error: number;
  /** Percentile bootstrap confidence interval at `level`. */
  ciLow: number;
  ciHigh: number;
  level: number;
  /** Number of samples the statistic was computed from. */
  n: number;
  /** Replicates whose statistic was defined (finite); fewer than requested means some were dropped. */
  replicates: number;
}

export interface BootstrapOptions {
  /** Number of bootstrap replicates (default 1000). */
  replicates?: number;
  /** Seed of the resampling stream: the same seed gives the same errors (default 1). */
  seed?: number;
  /** Confidence level of the percentile interval (default 0.95). */
  level?: number;
}

export const DEFAULT_BOOTSTRAP: Required<BootstrapOptions> = { replicates: 1000, seed: 1, level: 0.95 };

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length > 0 ? s / xs.length : NaN;
}

/** Sample standard deviation (divisor n − 1); NaN for fewer than two values. */
export function std(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / (n - 1));
}

/** Linear-interpolated quantile of sorted values, q in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Bootstrap of several statistics at once over n samples. `statistic` receives sample indices
 * (the identity for the full ensemble, a resample with replacement for each replicate) and returns
 * one number per statistic; non-finite replicate values are dropped for that statistic only.
 */
export function bootstrapMany(
  n: number,
  statistic: (indices: Int32Array) => number[],
  options: BootstrapOptions = {},
): Estimate[] {
  const { replicates, seed, level } = bootstrapSettings(options);
  // with no data the statistics cannot even be counted: the caller decides what none of them means
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`bootstrapMany needs at least one sample; got ${n}`);
  const identity = new Int32Array(n);
  for (let i = 0; i < n; i++) identity[i] = i;
  const full = statistic(identity);
  const k = full.length;
  const reps: number[][] = Array.from({ length: k }, () => []);
  if (n > 1) {
    const rng = createRandom(seed);
    const idx = new Int32Array(n);
    for (let b = 0; b < replicates; b++) {
      for (let i = 0; i < n; i++) idx[i] = rng.below(n);
      const v = statistic(idx);
      for (let j = 0; j < k; j++) if (Number.isFinite(v[j])) reps[j].push(v[j]);
    }
  }
  const alpha = (1 - level) / 2;
  return full.map((value, j) => {
    const r = Float64Array.from(reps[j]).sort();
    const defined = r.length >= 2;
    return {
      value,
      error: defined ? std(r) : NaN,
      ciLow: defined ? quantileSorted(r, alpha) : NaN,
      ciHigh: defined ? quantileSorted(r, 1 - alpha) : NaN,
      level,
      n,
      replicates: r.length,
    };
  });
}

/** Bootstrap of one statistic. */
/** The options with their defaults, checked. */
function bootstrapSettings(options: BootstrapOptions): Required<BootstrapOptions> {
  const settings = { ...DEFAULT_BOOTSTRAP, ...options };
  if (!Number.isInteger(settings.replicates) || settings.replicates < 0) throw new RangeError(`bootstrap replicates must be a non-negative integer; got ${settings.replicates}`);
  if (!(settings.level > 0 && settings.level < 1)) throw new RangeError(`confidence level must lie in (0, 1); got ${settings.level}`);
  return settings;
}

export function bootstrap(n: number, statistic: (indices: Int32Array) => number, options: BootstrapOptions = {}): Estimate {
  // no data, no estimate (a quantity no sample has, such as the first event of a path without one)
  if (n === 0) return { ...undefinedEstimate(0), level: bootstrapSettings(options).level };
  return bootstrapMany(n, (idx) => [statistic(idx)], options)[0];
}

/** The bootstrap estimate of the mean of xs. */
export function bootstrapMean(xs: ArrayLike<number>, options: BootstrapOptions = {}): Estimate {
  return bootstrap(xs.length, (idx) => pick(xs, idx, mean), options);
}

/** f applied to xs[idx[0]], xs[idx[1]], … (allocates one array; off the hot path). */
export function pick(xs: ArrayLike<number>, idx: Int32Array, f: (v: Float64Array) => number): number {
  const v = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) v[i] = xs[idx[i]];
  return f(v);
}

/** An estimate with no data behind it (a missing measurement). */
export function undefinedEstimate(n = 0): Estimate {
  return { value: NaN, error: NaN, ciLow: NaN, ciHigh: NaN, level: DEFAULT_BOOTSTRAP.level, n, replicates: 0 };
}

/**
 * Prefactor c of a guide y ≈ c·f(x), fitted on log axes (the guides are drawn on logarithmic plots):
 * ln c = weighted mean of ln y − ln f(x), weights (y/σ_y)² when errors are given. Points with
 * non-positive or non-finite values are ignored; NaN if none remain.
 */
export function fitPrefactor(x: number[], y: number[], f: (x: number) => number, yError?: number[]): number {
  let sw = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const fx = f(x[i]);
    if (!(y[i] > 0) || !(fx > 0) || !Number.isFinite(y[i]) || !Number.isFinite(fx)) continue;
    const rel = yError && yError[i] > 0 && Number.isFinite(yError[i]) ? yError[i] / y[i] : 1;
    const w = 1 / (rel * rel);
    sw += w;
    s += w * (Math.log(y[i]) - Math.log(fx));
  }
  return sw > 0 ? Math.exp(s / sw) : NaN;
}

/** Least-squares slope of log y against log x: the exponent of a power law y ∝ x^β. */
export function powerLawExponent(x: readonly number[], y: readonly number[]): number {
  const lx = x.map(Math.log), ly = y.map(Math.log), n = x.length;
  const mx = lx.reduce((a, b) => a + b) / n, my = ly.reduce((a, b) => a + b) / n;
  let sxy = 0, sxx = 0;
  for (let k = 0; k < n; k++) { sxy += (lx[k] - mx) * (ly[k] - my); sxx += (lx[k] - mx) ** 2; }
  return sxy / sxx;
}
