/**
 * Partial pair correlations g_LL, g_SL, g_SS (docs/methods.md §6) versus r/a₀, a₀ = (V/N)^(1/3).
 *
 * Bin width, rmax and the peak-smoothing width are all in units of a₀. Pairs are found with the
 * cell-based neighbor list of src/space (built with radius rmax·a₀ and no skin), so the cost is
 * O(N·ρ·rmax³), not O(N²); rmax must stay below half the box's narrowest width (minimum image).
 *
 * Normalisation (ideal gas → g = 1): with n_ab(k) the number of unordered a–b pairs in shell k of
 * volume v_k = (4π/3)·(r_{k+1}³ − r_k³),
 *
 *   g_aa(k) = n_aa(k) / (½·N_a·(N_a − 1)·v_k/V)      g_SL(k) = n_SL(k) / (N_S·N_L·v_k/V)
 *
 * i.e. the expected count of a uniform random configuration with the same N_S, N_L and V.
 */
import { type Box, boxVolume, perpendicularWidths } from '../space/box.ts';
import { buildNeighborList, createNeighborList } from '../space/neighbors.ts';

export interface PairCorrelationOptions {
  /** Bin width (a₀). */
  binWidth: number;
  /** Largest distance (a₀); bins cover [0, rmax). */
  rmax: number;
  /**
   * Bin width (a₀) of the separate L–L histogram the first peak is fitted to (the finer of this
   * and binWidth): the peak of a quenched glass can be narrower than the output bins.
   */
  peakBinWidth: number;
  /** Width σ (a₀) of the Gaussian smoothing used to locate the first peak (the fit uses raw bins). */
  peakSmoothing: number;
}

export const DEFAULT_PAIR_CORRELATION: PairCorrelationOptions = { binWidth: 0.01, rmax: 5, peakBinWidth: 0.0025, peakSmoothing: 0.005 };

export interface FirstPeak {
  /** Height of the fitted Gaussian (method 'binned-gaussian' or 'log-parabola'), else of the highest smoothed bin. */
  height: number;
  /** Peak position r/a₀. */
  position: number;
  /** σ (a₀) of the fitted Gaussian; NaN when not fitted. */
  width: number;
  /** Whether a Gaussian was fitted (false: too few populated bins, e.g. a crystal's delta peaks). */
  fitted: boolean;
  /**
   * 'binned-gaussian': a Gaussian averaged over each bin, fitted to the bins (unbiased by the bin
   * width); 'log-parabola': its starting estimate, used if that fit fails; 'max-bin': no fit.
   */
  method: 'binned-gaussian' | 'log-parabola' | 'max-bin';
  /** Range r/a₀ of the bins used by the fit. */
  window: [number, number];
  points: number;
}

export interface PairCorrelation {
  binWidth: number;
  rmax: number;
  /** a₀ = (V/N)^(1/3) in λ (mean over samples for an ensemble average). */
  a0: number;
  /** Bin centres r/a₀. */
  r: Float64Array;
  gLL: Float64Array;
  gSL: Float64Array;
  gSS: Float64Array;
  /** Unordered pair counts per bin (summed over samples). */
  counts: { LL: Float64Array; SL: Float64Array; SS: Float64Array };
  nS: number;
  nL: number;
  /** Number of configurations averaged. */
  samples: number;
  /** The fine L–L histogram behind firstPeak (bin centres r/a₀, g, pair counts). */
  peakHistogram: { binWidth: number; r: Float64Array; g: Float64Array; counts: Float64Array };
  /** First peak of g_LL (null when there are fewer than two L particles). */
  firstPeak: FirstPeak | null;
}

function validateOptions(o: PairCorrelationOptions): void {
  if (!(o.binWidth > 0) || !Number.isFinite(o.binWidth)) throw new RangeError(`bin width must be a positive number (in a₀); got ${o.binWidth}`);
  if (!(o.rmax > o.binWidth) || !Number.isFinite(o.rmax)) throw new RangeError(`rmax must be a number larger than the bin width (in a₀); got ${o.rmax}`);
  if (!(o.peakBinWidth > 0)) throw new RangeError(`peak bin width must be a positive number (in a₀); got ${o.peakBinWidth}`);
  if (!(o.peakSmoothing >= 0)) throw new RangeError(`peak smoothing must be ≥ 0 (in a₀); got ${o.peakSmoothing}`);
}

/** Partial g(r) of one configuration (positions in any periodic image). */
export function pairCorrelation(
  box: Box, positions: Float64Array, species: Uint8Array, options: Partial<PairCorrelationOptions> = {},
): PairCorrelation {
  const opts = { ...DEFAULT_PAIR_CORRELATION, ...options };
  validateOptions(opts);
  const n = species.length;
  if (positions.length !== 3 * n) throw new RangeError(`positions hold ${positions.length / 3} particles but species ${n}`);
  const volume = boxVolume(box);
  const a0 = Math.cbrt(volume / n);
  const halfWidth = 0.5 * Math.min(...perpendicularWidths(box)) / a0;
  if (opts.rmax >= halfWidth) {
    throw new RangeError(
      `rmax = ${opts.rmax} a₀ must be below half the box's narrowest width (${halfWidth.toFixed(3)} a₀ for N = ${n}); ` +
      `pass a smaller rmax (e.g. --rmax ${Math.floor(halfWidth * 10) / 10}) or use a larger configuration`,
    );
  }
  const nbins = Math.ceil(opts.rmax / opts.binWidth - 1e-9);
  const binAbs = opts.binWidth * a0;
  const rc = opts.rmax * a0;

  const list = createNeighborList(n, [rc, rc, rc], 0);
  buildNeighborList(list, box, positions, species);
  const { start, pairs } = list;
  // counts[t·nbins + k], pair type t = s_i + s_j (0 SS, 1 SL, 2 LL)
  const counts = new Float64Array(3 * nbins);
  const fineWidth = Math.min(opts.binWidth, opts.peakBinWidth);
  const nfine = Math.ceil(opts.rmax / fineWidth - 1e-9);
  const fineLL = new Float64Array(nfine);
  const { lx, ly, lz, xy, xz, yz } = box;
  const invBin = 1 / binAbs, invFine = 1 / (fineWidth * a0);
  for (let i = 0; i < n; i++) {
    const xi = positions[3 * i], yi = positions[3 * i + 1], zi = positions[3 * i + 2];
    const si = species[i];
    for (let p = start[i], end = start[i + 1]; p < end; p++) {
      const j = pairs[p];
      let dx = positions[3 * j] - xi, dy = positions[3 * j + 1] - yi, dz = positions[3 * j + 2] - zi;
      const kz = Math.round(dz / lz);
      dz -= kz * lz; dy -= kz * yz; dx -= kz * xz;
      const ky = Math.round(dy / ly);
      dy -= ky * ly; dx -= ky * xy;
      dx -= Math.round(dx / lx) * lx;
      const rr = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const t = si + species[j];
      const k = Math.floor(rr * invBin);
      if (k < nbins) counts[t * nbins + k]++;
      if (t === 2) {
        const f = Math.floor(rr * invFine);
        if (f < nfine) fineLL[f]++;
      }
    }
  }

  let nL = 0;
  for (let i = 0; i < n; i++) nL += species[i];
  const nS = n - nL;
  const r = new Float64Array(nbins);
  for (let k = 0; k < nbins; k++) r[k] = (k + 0.5) * opts.binWidth;
  const countSS = counts.slice(0, nbins), countSL = counts.slice(nbins, 2 * nbins), countLL = counts.slice(2 * nbins);
  const pairsSS = 0.5 * nS * (nS - 1), pairsSL = nS * nL, pairsLL = 0.5 * nL * (nL - 1);
  const rFine = new Float64Array(nfine);
  for (let k = 0; k < nfine; k++) rFine[k] = (k + 0.5) * fineWidth;
  const gFine = normalise(fineLL, pairsLL, fineWidth * a0, volume);
  return {
    binWidth: opts.binWidth, rmax: opts.rmax, a0, r,
    gLL: normalise(countLL, pairsLL, binAbs, volume), gSL: normalise(countSL, pairsSL, binAbs, volume),
    gSS: normalise(countSS, pairsSS, binAbs, volume),
    counts: { LL: countLL, SL: countSL, SS: countSS },
    nS, nL, samples: 1,
    peakHistogram: { binWidth: fineWidth, r: rFine, g: gFine, counts: fineLL },
    firstPeak: pairsLL > 0 ? firstPeak(rFine, gFine, fineLL, opts.peakSmoothing) : null,
  };
}

/** g(k) = count(k)/(expected ideal-gas count); NaN everywhere when the partial has no pairs. */
function normalise(count: Float64Array, pairTotal: number, binAbs: number, volume: number): Float64Array {
  const g = new Float64Array(count.length);
  const c = (4 * Math.PI / 3) * binAbs ** 3 * pairTotal / volume;
  for (let k = 0; k < count.length; k++) {
    g[k] = pairTotal > 0 ? count[k] / (c * ((k + 1) ** 3 - k ** 3)) : NaN;
  }
  return g;
}

/**
 * The first (highest) peak of a g(r) histogram, robust to bin noise and to the bin width: locate
 * the maximum of a Gaussian-smoothed copy (σ = smoothing, in the units of r), take the raw bins
 * around it whose smoothed value is at least half the smoothed maximum (at least ±2 bins), and fit
 * there a Gaussian H·exp(−(r − μ)²/2σ²) averaged over each bin — the bin average matters for the
 * sharp first peaks of quenched glasses, whose σ can be below the bin width (Q = 240: σ ≈ 0.005 a₀).
 * The fit is Levenberg–Marquardt on (H, μ, ln σ), started from a parabola fitted to ln g weighted
 * by the pair counts (var ln n ≈ 1/n). Falls back to that start when the fit fails, and to the
 * highest smoothed bin when fewer than 3 bins of the window hold pairs.
 */
export function firstPeak(r: Float64Array, g: Float64Array, counts: Float64Array, smoothing: number): FirstPeak {
  const nb = g.length;
  const dr = nb > 1 ? r[1] - r[0] : 1;
  const smooth = gaussianSmooth(g, smoothing / dr);
  let top = 0;
  for (let k = 1; k < nb; k++) if (smooth[k] > smooth[top]) top = k;
  const threshold = 0.5 * smooth[top];
  let lo = top, hi = top;
  while (lo > 0 && smooth[lo - 1] >= threshold) lo--;
  while (hi < nb - 1 && smooth[hi + 1] >= threshold) hi++;
  lo = Math.min(lo, Math.max(0, top - 2));
  hi = Math.max(hi, Math.min(nb - 1, top + 2));
  const window: [number, number] = [r[lo], r[hi]];

  // starting estimate: weighted least squares of ln g = c0 + c1·x + c2·x², x = r − r_top
  const m = new Float64Array(9), v = new Float64Array(3);
  let points = 0;
  for (let k = lo; k <= hi; k++) {
    if (!(counts[k] > 0) || !(g[k] > 0)) continue;
    points++;
    const x = r[k] - r[top], w = counts[k], y = Math.log(g[k]);
    const basis = [1, x, x * x];
    for (let a = 0; a < 3; a++) {
      v[a] += w * basis[a] * y;
      for (let b = 0; b < 3; b++) m[3 * a + b] += w * basis[a] * basis[b];
    }
  }
  const maxBin: FirstPeak = { height: smooth[top], position: r[top], width: NaN, fitted: false, method: 'max-bin', window, points };
  if (points < 3) return maxBin;
  const c = solve3(m, v);
  let start: FirstPeak;
  if (c !== null && c[2] < 0 && Math.abs(-c[1] / (2 * c[2])) <= r[hi] - r[lo]) {
    const x = -c[1] / (2 * c[2]);
    start = {
      height: Math.exp(c[0] + c[1] * x + c[2] * x * x), position: r[top] + x, width: Math.sqrt(-1 / (2 * c[2])),
      fitted: true, method: 'log-parabola', window, points,
    };
  } else {
    // no usable curvature (e.g. two populated bins of a delta peak): start from the bins themselves
    start = { ...maxBin, width: dr };
  }
  let fit = binnedGaussianFit(r, g, lo, hi, dr, start.height, start.position, start.width);
  if (fit === null) return start.fitted ? start : maxBin;
  // refit on the top of the fitted peak itself, μ ± 1.5σ (at least ±2 bins): the smoothed
  // half-maximum window is too wide for peaks narrower than the smoothing
  for (let pass = 0; pass < 5; pass++) {
    const centre = Math.min(nb - 1, Math.max(0, Math.floor(fit[1] / dr - (r[0] / dr - 0.5))));
    const reach = Math.max(2, Math.round((1.5 * fit[2]) / dr));
    const newLo = Math.max(0, centre - reach), newHi = Math.min(nb - 1, centre + reach);
    if (newLo === lo && newHi === hi) break;
    const next = binnedGaussianFit(r, g, newLo, newHi, dr, fit[0], fit[1], fit[2]);
    if (next === null) break;
    [fit, lo, hi] = [next, newLo, newHi];
  }
  points = 0;
  for (let k = lo; k <= hi; k++) if (counts[k] > 0) points++;
  return { height: fit[0], position: fit[1], width: fit[2], fitted: true, method: 'binned-gaussian', window: [r[lo], r[hi]], points };
}

/** Mean of exp(−(x − μ)²/2σ²) over the bin [c − b/2, c + b/2]. */
function binAveragedGaussian(c: number, b: number, mu: number, sigma: number): number {
  const s = Math.SQRT2 * sigma;
  const u1 = (c - 0.5 * b - mu) / s, u2 = (c + 0.5 * b - mu) / s;
  // erf(u2) − erf(u1) without cancellation in the tails
  const diff = u1 >= 0 ? erfc(u1) - erfc(u2) : u2 <= 0 ? erfc(-u2) - erfc(-u1) : 2 - erfc(-u1) - erfc(u2);
  return (Math.sqrt(Math.PI / 2) * sigma / b) * diff;
}

/** erfc(x) for x ≥ 0 to ~1e-15: series of erf below 3, continued fraction above. */
function erfc(x: number): number {
  if (x < 3) {
    // erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿ·x^(2n+1)/(1·3·…·(2n+1)), all terms positive
    let term = x, sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up
  let f = x;
  for (let n = 60; n >= 1; n--) f = x + (n / 2) / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/**
 * Least-squares fit of H·(bin average of a Gaussian(μ, σ)) to g over bins lo..hi: Levenberg–
 * Marquardt on (H, μ, ln σ) with a central-difference Jacobian. Null unless it converges to a
 * resolved peak (σ ≥ b/4) inside the window.
 */
function binnedGaussianFit(
  r: Float64Array, g: Float64Array, lo: number, hi: number, b: number, h0: number, mu0: number, sigma0: number,
): [number, number, number] | null {
  const nbin = hi - lo + 1;
  const model = (p: readonly number[], k: number) => p[0] * binAveragedGaussian(r[k], b, p[1], Math.exp(p[2]));
  const sse = (p: readonly number[]) => {
    let s = 0;
    for (let k = lo; k <= hi; k++) s += (g[k] - model(p, k)) ** 2;
    return s;
  };
  let p = [h0, mu0, Math.log(sigma0)];
  let err = sse(p);
  let lambda = 1e-3;
  const jac = new Float64Array(3 * nbin);
  const steps = [1e-6, 1e-6 * b, 1e-6];
  for (let it = 0; it < 200; it++) {
    for (let a = 0; a < 3; a++) {
      const pp = p.slice(), pm = p.slice();
      const hstep = a === 0 ? steps[0] * Math.max(1, Math.abs(p[0])) : steps[a];
      pp[a] += hstep; pm[a] -= hstep;
      for (let k = lo; k <= hi; k++) jac[3 * (k - lo) + a] = (model(pp, k) - model(pm, k)) / (2 * hstep);
    }
    const jtj = new Float64Array(9), jtr = new Float64Array(3);
    for (let k = lo; k <= hi; k++) {
      const res = g[k] - model(p, k);
      for (let a = 0; a < 3; a++) {
        jtr[a] += jac[3 * (k - lo) + a] * res;
        for (let c = 0; c < 3; c++) jtj[3 * a + c] += jac[3 * (k - lo) + a] * jac[3 * (k - lo) + c];
      }
    }
    let improved = false;
    while (lambda < 1e12) {
      const damped = jtj.slice();
      for (let a = 0; a < 3; a++) damped[4 * a] *= 1 + lambda;
      const step = solve3(damped, jtr);
      if (step === null) { lambda *= 10; continue; }
      const trial = [p[0] + step[0], p[1] + step[1], p[2] + step[2]];
      const trialErr = sse(trial);
      if (trialErr < err) {
        const done = err - trialErr <= 1e-14 * err || Math.abs(step[1]) < 1e-12 * b;
        p = trial; err = trialErr; lambda = Math.max(1e-12, lambda / 10); improved = true;
        if (done) it = Infinity;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  const sigma = Math.exp(p[2]);
  const inside = p[1] >= r[lo] - 0.5 * b && p[1] <= r[hi] + 0.5 * b;
  // σ well below a bin: the bins fix only μ and the area H·σ, not H — the peak is unresolved
  if (!(p[0] > 0) || !(sigma >= 0.25 * b) || !inside) return null;
  return [p[0], p[1], sigma];
}

/** Convolution with a normalised Gaussian of σ (in bins), truncated at 4σ; copy when σ < 0.1 bin. */
function gaussianSmooth(g: Float64Array, sigmaBins: number): Float64Array {
  if (!(sigmaBins >= 0.1)) return g.slice();
  const half = Math.ceil(4 * sigmaBins);
  const kernel = new Float64Array(2 * half + 1);
  for (let d = -half; d <= half; d++) kernel[d + half] = Math.exp(-0.5 * (d / sigmaBins) ** 2);
  const out = new Float64Array(g.length);
  for (let k = 0; k < g.length; k++) {
    let s = 0, w = 0;
    for (let d = -half; d <= half; d++) {
      const j = k + d;
      if (j < 0 || j >= g.length || Number.isNaN(g[j])) continue;
      s += kernel[d + half] * g[j];
      w += kernel[d + half];
    }
    out[k] = w > 0 ? s / w : NaN;
  }
  return out;
}

/** Solve the 3×3 system m·c = v (Cramer's rule); null when singular. */
function solve3(m: Float64Array, v: Float64Array): number[] | null {
  const det = (a: ArrayLike<number>) =>
    a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);
  const d = det(m);
  if (!(Math.abs(d) > 0)) return null;
  const out: number[] = [];
  for (let col = 0; col < 3; col++) {
    const a = Array.from(m);
    for (let row = 0; row < 3; row++) a[3 * row + col] = v[row];
    out.push(det(a) / d);
  }
  return out;
}

/**
 * Ensemble average of g(r) over samples with the same binning: the mean of the per-sample curves
 * (each sample weighted equally), summed counts, and the first peak of the averaged g_LL.
 */
export function averagePairCorrelations(results: readonly PairCorrelation[], peakSmoothing = DEFAULT_PAIR_CORRELATION.peakSmoothing): PairCorrelation {
  if (results.length === 0) throw new RangeError('averagePairCorrelations needs at least one g(r)');
  const first = results[0];
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a));
  for (const res of results) {
    if (res.r.length !== first.r.length || !same(res.binWidth, first.binWidth) || !same(res.rmax, first.rmax) ||
      !same(res.peakHistogram.binWidth, first.peakHistogram.binWidth)) {
      throw new RangeError(
        `cannot average g(r) with different binning: bin ${first.binWidth} (peak ${first.peakHistogram.binWidth}), rmax ${first.rmax} ` +
        `vs bin ${res.binWidth} (peak ${res.peakHistogram.binWidth}), rmax ${res.rmax}`,
      );
    }
  }
  let samples = 0;
  for (const res of results) samples += res.samples;
  // each input weighted by the number of samples it already averages
  const combine = (pick: (p: PairCorrelation) => Float64Array, weighted: boolean) => {
    const out = new Float64Array(pick(first).length);
    for (const res of results) {
      const a = pick(res), w = weighted ? res.samples / samples : 1;
      for (let k = 0; k < out.length; k++) out[k] += w * a[k];
    }
    return out;
  };
  let a0 = 0;
  for (const res of results) a0 += (res.samples / samples) * res.a0;
  const peakHistogram = {
    binWidth: first.peakHistogram.binWidth, r: first.peakHistogram.r.slice(),
    g: combine((p) => p.peakHistogram.g, true), counts: combine((p) => p.peakHistogram.counts, false),
  };
  return {
    binWidth: first.binWidth, rmax: first.rmax, a0, r: first.r.slice(),
    gLL: combine((p) => p.gLL, true), gSL: combine((p) => p.gSL, true), gSS: combine((p) => p.gSS, true),
    counts: { LL: combine((p) => p.counts.LL, false), SL: combine((p) => p.counts.SL, false), SS: combine((p) => p.counts.SS, false) },
    nS: first.nS, nL: first.nL, samples, peakHistogram,
    firstPeak: first.nL > 1 ? firstPeak(peakHistogram.r, peakHistogram.g, peakHistogram.counts, peakSmoothing) : null,
  };
}
