/**
 * Partial pair correlations g_LL, g_SL, g_SS (SPEC.md §3.2) versus r/a₀, a₀ = (V/N)^(1/3).
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
  /** Width σ (a₀) of the Gaussian smoothing used to locate the first peak (the fit uses raw bins). */
  peakSmoothing: number;
}

export const DEFAULT_PAIR_CORRELATION: PairCorrelationOptions = { binWidth: 0.01, rmax: 5, peakSmoothing: 0.01 };

export interface FirstPeak {
  /** Height of g at the peak (from the fit when `fitted`, else the highest smoothed bin). */
  height: number;
  /** Peak position r/a₀. */
  position: number;
  /** σ (a₀) of the Gaussian fitted to the top of the peak; NaN when not fitted. */
  width: number;
  /** Whether a Gaussian was fitted (false: too few populated bins, e.g. a crystal's delta peaks). */
  fitted: boolean;
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
  /** First peak of g_LL (null when there are fewer than two L particles). */
  firstPeak: FirstPeak | null;
}

function validateOptions(o: PairCorrelationOptions): void {
  if (!(o.binWidth > 0) || !Number.isFinite(o.binWidth)) throw new RangeError(`bin width must be a positive number (in a₀); got ${o.binWidth}`);
  if (!(o.rmax > o.binWidth) || !Number.isFinite(o.rmax)) throw new RangeError(`rmax must be a number larger than the bin width (in a₀); got ${o.rmax}`);
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
  const { lx, ly, lz, xy, xz, yz } = box;
  const invBin = 1 / binAbs;
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
      const k = Math.floor(Math.sqrt(dx * dx + dy * dy + dz * dz) * invBin);
      if (k < nbins) counts[(si + species[j]) * nbins + k]++;
    }
  }

  let nL = 0;
  for (let i = 0; i < n; i++) nL += species[i];
  const nS = n - nL;
  const r = new Float64Array(nbins);
  for (let k = 0; k < nbins; k++) r[k] = (k + 0.5) * opts.binWidth;
  const countSS = counts.slice(0, nbins), countSL = counts.slice(nbins, 2 * nbins), countLL = counts.slice(2 * nbins);
  const pairsSS = 0.5 * nS * (nS - 1), pairsSL = nS * nL, pairsLL = 0.5 * nL * (nL - 1);
  const gLL = normalise(countLL, pairsLL, binAbs, volume);
  return {
    binWidth: opts.binWidth, rmax: opts.rmax, a0, r,
    gLL, gSL: normalise(countSL, pairsSL, binAbs, volume), gSS: normalise(countSS, pairsSS, binAbs, volume),
    counts: { LL: countLL, SL: countSL, SS: countSS },
    nS, nL, samples: 1,
    firstPeak: pairsLL > 0 ? firstPeak(r, gLL, countLL, opts.peakSmoothing) : null,
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
 * The first (highest) peak of a g(r) histogram, robust to bin noise: locate the maximum of a
 * Gaussian-smoothed copy (σ = smoothing, in the units of r), then fit a Gaussian — a parabola in
 * ln g, weighted by the pair counts (var ln n ≈ 1/n) — to the raw bins around it whose smoothed
 * value is at least half the smoothed maximum. Falls back to the highest smoothed bin when
 * fewer than 3 populated bins lie in that window or the fit has no interior maximum.
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
  // bins of the window, at least ±2 bins around the top
  lo = Math.min(lo, Math.max(0, top - 2));
  hi = Math.max(hi, Math.min(nb - 1, top + 2));

  // weighted least squares of ln g = c0 + c1·x + c2·x², x = r − r_top (normal equations, 3×3)
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
  const fallback: FirstPeak = {
    height: smooth[top], position: r[top], width: NaN, fitted: false, window: [r[lo], r[hi]], points,
  };
  if (points < 3) return fallback;
  const c = solve3(m, v);
  if (c === null || !(c[2] < 0)) return fallback;
  const xPeak = -c[1] / (2 * c[2]);
  if (!(xPeak >= r[lo] - r[top] && xPeak <= r[hi] - r[top])) return fallback;
  return {
    height: Math.exp(c[0] + c[1] * xPeak + c[2] * xPeak * xPeak),
    position: r[top] + xPeak,
    width: Math.sqrt(-1 / (2 * c[2])),
    fitted: true, window: [r[lo], r[hi]], points,
  };
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
  const nb = first.r.length;
  for (const res of results) {
    if (res.r.length !== nb || Math.abs(res.binWidth - first.binWidth) > 1e-12 || Math.abs(res.rmax - first.rmax) > 1e-12) {
      throw new RangeError(
        `cannot average g(r) with different binning: bin ${first.binWidth}, rmax ${first.rmax} vs bin ${res.binWidth}, rmax ${res.rmax}`,
      );
    }
  }
  let samples = 0;
  for (const res of results) samples += res.samples;
  // weight each input by the number of samples it already averages
  const mean = (pick: (p: PairCorrelation) => Float64Array) => {
    const out = new Float64Array(nb);
    for (const res of results) {
      const a = pick(res);
      for (let k = 0; k < nb; k++) out[k] += (res.samples / samples) * a[k];
    }
    return out;
  };
  const sum = (pick: (p: PairCorrelation) => Float64Array) => {
    const out = new Float64Array(nb);
    for (const res of results) {
      const a = pick(res);
      for (let k = 0; k < nb; k++) out[k] += a[k];
    }
    return out;
  };
  const gLL = mean((p) => p.gLL);
  const countLL = sum((p) => p.counts.LL);
  let a0 = 0;
  for (const res of results) a0 += (res.samples / samples) * res.a0;
  return {
    binWidth: first.binWidth, rmax: first.rmax, a0, r: first.r.slice(),
    gLL, gSL: mean((p) => p.gSL), gSS: mean((p) => p.gSS),
    counts: { LL: countLL, SL: sum((p) => p.counts.SL), SS: sum((p) => p.counts.SS) },
    nS: first.nS, nL: first.nL, samples,
    firstPeak: first.nL > 1 ? firstPeak(first.r, gLL, countLL, peakSmoothing) : null,
  };
}
