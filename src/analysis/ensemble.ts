/**
 * Per-Q ensemble summaries of a campaign: elastic means, mechanical disorder χ, the averaged g_LL,
 * the low-frequency spectrum (A_g, ω₀, ξ_g) and the k₋/f₋ anatomy of the softest NQLEs, each with a
 * bootstrap error over samples.
 *
 * The input is plain data, one record per sample, with the field names of the `qglass measure …
 * --json` outputs (elastic numbers at top level, the other measurements nested). Any measurement
 * may be absent: the summary then says what is missing instead of failing.
 */
import { analyzeDisorder, type DisorderSummary, type PlaneModuli } from './disorder.ts';
import { analyzeSpectrum, dosHistogram, normalizationCount, type DosBin, type DosNormalization, type SpectrumSummary } from './dos.ts';
import { bootstrap, bootstrapMean, mean, std, undefinedEstimate, DEFAULT_BOOTSTRAP, type BootstrapOptions, type Estimate } from './statistics.ts';
import { AQS_DEFAULTS } from '../measure/aqs.ts';

type Maybe<T> = T | null | undefined;

export interface NqleModeInput {
  omega2: number;
  kPlus: number;
  kMinus: number;
  fPlus: number;
  fMinus: number;
  converged: boolean;
}

/** What the analysis reads from one sample of a campaign. */
export interface SampleInput {
  Q: number;
  N: number;
  index: number;
  density: number;
  densityMode?: Maybe<string>;
  /** 'done' samples are analysed; any other status is counted and reported. */
  status: string;
  error?: Maybe<string>;
  energyPerParticle?: Maybe<number>;
  pressure?: Maybe<number>;
  K?: Maybe<number>;
  G?: Maybe<number>;
  nu?: Maybe<number>;
  GOverK?: Maybe<number>;
  pOverK?: Maybe<number>;
  /** Soft-sphere packings: contacts per non-rattler, and the share of particles that are rattlers. */
  Z?: Maybe<number>;
  rattlerFraction?: Maybe<number>;
  shear?: Maybe<PlaneModuli>;
  modes?: Maybe<{ omega?: Maybe<number[]>; omega2?: Maybe<number[]>; converged?: Maybe<boolean> }>;
  /** As `measure gr --json`: r and the peak position already in units of a₀. */
  gr?: Maybe<{ r: number[]; gLL: number[]; firstPeak?: Maybe<{ height: number; position: number }> }>;
  nqle?: Maybe<{ modes: NqleModeInput[] }>;
  aqs?: Maybe<AqsInput>;
  /** Wall time (s) of each stage of the sample's pipeline (prepare, elastic, …), as recorded. */
  stageSeconds?: Maybe<Record<string, number>>;
}

/** What the analysis reads of a sample's shear to yield (`measure aqs --json` names; curve from its path artefact). */
export interface AqsInput {
  G0: number;
  sigmaMax: number;
  flowStress: number;
  overshootRatio: number;
  localisationIndex: number;
  /** The index of the same D²_min values at random particles: homogeneous flow's floor (NaN: unknown). */
  localisationShuffled: number;
  events: { stressDrop: number; energyDrop: number }[];
  /** Overlap of the first event's non-affine field with each of the sample's softest NQLEs (null: none). */
  firstEventNqleOverlap?: Maybe<number[]>;
  /** Distance (λ) between the first event's centre (largest non-affine displacement) and each NQLE's. */
  firstEventNqleDistance?: Maybe<number[]>;
  /** σ_αβ along the path (γ ascending), when its artefact was read. */
  curve?: Maybe<{ gamma: number[]; sigma: number[] }>;
  /** The lowest Hessian eigenvalue on the approach to the first event: λ_min at γ_c − γ, and the fitted exponent. */
  approach?: Maybe<{ distance: number[]; lambdaMin: number[]; exponent: number }>;
}

export interface AqsSummary {
  samples: number;
  /** Mean σ/G₀ over samples on a common γ grid (the first curve's regular points), with its standard error. */
  curve: { gamma: number[]; sigmaOverG: number[]; error: number[] } | null;
  sigmaMaxOverG: Estimate;
  flowStressOverG: Estimate;
  overshootRatio: Estimate;
  /**
   * The same ratio for the ensemble-mean σ/G₀ curve: its maximum over its mean on the last half of
   * the strain range. Per sample, the stress fluctuations alone make σ_max exceed σ_flow; on the
   * mean curve they average out, and a ratio near 1 says there is no overshoot.
   */
  meanCurveOvershoot: Estimate;
  /**
   * Whether the flow range is steady: on the ensemble-mean curve, the mean over the second half of
   * the flow range minus that over its first half, over the mean of the whole range. Near 0 in
   * steady flow; clearly positive when the stress still rises, and then σ_max/σ_flow > 1 measures
   * that rise, not an overshoot.
   */
  flowRise: Estimate;
  localisationIndex: Estimate;
  localisationShuffled: Estimate;
  /** Mean stress jump |Δσ| per event over G₀, pooled over samples, and all of them (for the distribution). */
  meanEventSize: Estimate;
  eventSizes: number[];
  /** |û·π̂| of the first event with the softest NQLE (first of the list), and with the best-overlapping one. */
  firstEventOverlap: Estimate;
  firstEventBestOverlap: Estimate;
  /** Distance (λ) between the centres of the first event and the softest NQLE. */
  firstEventDistance: Estimate;
  /** Exponent a of λ_min ∝ (γ_c − γ)^a on the approach to the first event (½ for a saddle-node). */
  approachExponent: Estimate;
  /** One sample's approach (the first with one), to draw. */
  approachExample: { distance: number[]; lambdaMin: number[]; exponent: number } | null;
}

export interface AnalysisOptions {
  normalization?: DosNormalization;
  cutoffFraction?: number;
  /** See SpectrumOptions.omega5Level. */
  omega5Level?: number;
  bootstrap?: BootstrapOptions;
}

export interface ElasticSummary {
  nu: Estimate;
  K: Estimate;
  G: Estimate;
  GOverK: Estimate;
  pOverK: Estimate;
  pressure: Estimate;
  energyPerParticle: Estimate;
  /** Soft-sphere packings: contacts per non-rattler Z and the rattlers' share (null where samples record no contacts). */
  contacts: { Z: Estimate; rattlerFraction: Estimate } | null;
}

export interface StructureSummary {
  /** Sample-averaged g_LL on the grid of r/a₀, with the standard error of the mean per bin. */
  rOverA0: number[];
  gLL: number[];
  gLLError: number[];
  firstPeakHeight: Estimate;
  /** First-peak position in units of a₀. */
  firstPeakPosition: Estimate;
}

export interface SpectrumReport extends SpectrumSummary {
  /** D(ω) of the pooled modes up to the completeness limit (ω in simulation units). */
  histogram: DosBin[];
  /** The pooled cumulative count C(ω) (per N_norm and sample) at each pooled frequency up to the limit. */
  cumulative: { omega: number; C: number }[];
}

export interface NqleSummary {
  /** ⟨k₋⟩/⟨f₋⟩ of the softest converged NQLE of each sample (ratio of ensemble means). */
  kMinusOverFMinus: Estimate;
  kMinus: Estimate;
  fMinus: Estimate;
  omega2: Estimate;
}

export interface QSummary {
  Q: number;
  N: number;
  /** Mean of the per-sample densities. */
  density: number;
  densityMode: string | null;
  counts: { total: number; done: number; failed: number; other: number; elastic: number; modes: number; gr: number; nqle: number; aqs: number };
  elastic: ElasticSummary | null;
  disorder: DisorderSummary | null;
  structure: StructureSummary | null;
  spectrum: SpectrumReport | null;
  nqle: NqleSummary | null;
  aqs: AqsSummary | null;
  /** What a finished sample cost, per stage and in all (wall seconds; null: no times recorded). */
  cost: CostSummary | null;
  /** What could not be computed for this Q, and why. */
  missing: string[];
  /** Errors of failed samples (first few), for the report. */
  failures: string[];
}

export interface CostSummary {
  samples: number;
  /** Per stage, in the order the samples record them (the pipeline's), the mean and largest wall time over the samples (s). */
  stages: { stage: string; mean: number; max: number }[];
  total: { mean: number; max: number };
}

export interface EnsembleSummary {
  options: { normalization: DosNormalization; cutoffFraction: number; omega5Level: number; bootstrap: Required<BootstrapOptions> };
  perQ: QSummary[];
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function hasElastic(s: SampleInput): boolean {
  return isNum(s.K) && isNum(s.G) && isNum(s.nu) && isNum(s.GOverK) && isNum(s.pOverK);
}

function modeFrequencies(s: SampleInput): number[] | null {
  const m = s.modes;
  if (!m || m.converged === false) return null;
  if (m.omega && m.omega.length > 0) return m.omega;
  if (m.omega2 && m.omega2.length > 0) return m.omega2.map((w2) => Math.sqrt(w2));
  return null;
}

/** Position of the softest converged NQLE (lowest ω²) in a sample's list, −1 when none converged. */
export function softestNqleIndex(modes: readonly Pick<NqleModeInput, 'omega2' | 'converged'>[]): number {
  let best = -1;
  modes.forEach((m, k) => {
    if (m.converged && isNum(m.omega2) && (best < 0 || m.omega2 < modes[best].omega2)) best = k;
  });
  return best;
}

function softestNqle(s: SampleInput): NqleModeInput | null {
  const modes = s.nqle?.modes ?? [];
  const k = softestNqleIndex(modes);
  return k < 0 ? null : modes[k];
}

/** Bin-wise mean of curves sampled on a common grid; curves on another grid are interpolated onto the first. */
export function averageCurves(curves: { x: number[]; y: number[] }[]): { x: number[]; y: number[]; error: number[] } {
  const x = curves[0].x;
  const columns = x.map(() => new Float64Array(curves.length));
  curves.forEach((c, k) => {
    const same = c.x.length === x.length && c.x.every((v, i) => Math.abs(v - x[i]) <= 1e-9 * Math.max(1, Math.abs(v)));
    for (let i = 0; i < x.length; i++) columns[i][k] = same ? c.y[i] : interpolate(c.x, c.y, x[i]);
  });
  return {
    x,
    y: columns.map((col) => mean(col)),
    error: columns.map((col) => (col.length > 1 ? std(col) / Math.sqrt(col.length) : NaN)),
  };
}

function interpolate(xs: number[], ys: number[], x: number): number {
  if (x <= xs[0]) return ys[0];
  if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return ys[lo] + ((x - xs[lo]) * (ys[hi] - ys[lo])) / (xs[hi] - xs[lo]);
}

function summarizeQ(Q: number, all: SampleInput[], opts: EnsembleSummary['options']): QSummary {
  const missing: string[] = [];
  const counts = { total: all.length, done: 0, failed: 0, other: 0, elastic: 0, modes: 0, gr: 0, nqle: 0, aqs: 0 };
  for (const s of all) {
    if (s.status === 'done') counts.done++;
    else if (s.status === 'failed') counts.failed++;
    else counts.other++;
  }
  const failures = all.filter((s) => s.status === 'failed').slice(0, 5).map((s) => `sample ${s.index}: ${s.error ?? 'no reason recorded'}`);
  let done = all.filter((s) => s.status === 'done');
  // χ and the spectrum are defined at fixed N: analyse the most common N, report the others.
  const sizes = new Map<number, number>();
  for (const s of done) sizes.set(s.N, (sizes.get(s.N) ?? 0) + 1);
  const N = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? all[0].N;
  if (sizes.size > 1) {
    missing.push(`samples of several sizes N (${[...sizes.keys()].join(', ')}): only N = ${N} analysed`);
    done = done.filter((s) => s.N === N);
  }
  // Per-sample densities differ when glasses are relaxed to p = 0: report their mean.
  const density = done.length > 0 ? mean(done.map((s) => s.density)) : all[0].density;
  const summary: QSummary = {
    Q,
    N,
    density,
    densityMode: all[0].densityMode ?? null,
    counts,
    elastic: null,
    disorder: null,
    structure: null,
    spectrum: null,
    nqle: null,
    aqs: null,
    cost: null,
    missing,
    failures,
  };
  if (done.length === 0) {
    missing.push('no finished samples');
    return summary;
  }
  const bs = opts.bootstrap;

  const elastic = done.filter(hasElastic);
  counts.elastic = elastic.length;
  if (elastic.length === 0) missing.push('elastic moduli (no sample has K, G, ν)');
  else {
    const field = (f: (s: SampleInput) => Maybe<number>) => bootstrapMean(elastic.map((s) => f(s) ?? NaN).filter(isNum), bs);
    summary.elastic = {
      nu: field((s) => s.nu),
      K: field((s) => s.K),
      G: field((s) => s.G),
      GOverK: field((s) => s.GOverK),
      pOverK: field((s) => s.pOverK),
      pressure: field((s) => s.pressure),
      energyPerParticle: field((s) => s.energyPerParticle),
      contacts: elastic.every((s) => isNum(s.Z) && isNum(s.rattlerFraction)) ? { Z: field((s) => s.Z), rattlerFraction: field((s) => s.rattlerFraction) } : null,
    };
    const shear = elastic.map((s) => s.shear).filter((p): p is PlaneModuli => !!p && isNum(p.xy) && isNum(p.xz) && isNum(p.yz));
    if (shear.length >= 2) summary.disorder = analyzeDisorder(N, shear, bs);
    else missing.push('χ (needs the three plane shear moduli of at least two samples)');
  }

  const withGr = done.filter((s) => s.gr && s.gr.r.length > 1 && s.gr.gLL.length === s.gr.r.length);
  counts.gr = withGr.length;
  if (withGr.length === 0) missing.push('g(r)');
  else {
    const avg = averageCurves(withGr.map((s) => ({ x: s.gr!.r, y: s.gr!.gLL })));
    const peaks = withGr.map((s) => s.gr!.firstPeak).filter((p): p is { height: number; position: number } => !!p && isNum(p.height));
    summary.structure = {
      rOverA0: avg.x,
      gLL: avg.y,
      gLLError: avg.error,
      firstPeakHeight: bootstrapMean(peaks.map((p) => p.height), bs),
      firstPeakPosition: bootstrapMean(peaks.map((p) => p.position), bs),
    };
    if (peaks.length === 0) missing.push('g_LL first-peak height (g(r) has no firstPeak)');
  }

  const withModes = done.filter((s) => modeFrequencies(s) !== null);
  counts.modes = withModes.length;
  const unconverged = done.filter((s) => s.modes && s.modes.converged === false).length;
  if (unconverged > 0) missing.push(`${unconverged} sample(s) with unconverged modes left out of D(ω)`);
  const spectral = withModes.filter((s) => isNum(s.G) && (s.G as number) > 0);
  if (spectral.length === 0) missing.push(withModes.length === 0 ? 'vibrational modes (D(ω), A_g, ξ_g)' : 'D(ω): samples with modes lack G (needed for ω₀, ω₁)');
  else {
    const inputs = spectral.map((s) => ({ G: s.G as number, density: s.density, N: s.N, omega: modeFrequencies(s)! }));
    const spec = analyzeSpectrum(inputs, { normalization: opts.normalization, cutoffFraction: opts.cutoffFraction, omega5Level: opts.omega5Level, bootstrap: bs });
    const pooled = inputs.flatMap((s) => s.omega).filter((w) => w > 0 && w <= spec.completeBelow).sort((a, b) => a - b);
    const nNorm = normalizationCount(N, opts.normalization);
    summary.spectrum = {
      ...spec,
      histogram: dosHistogram(pooled, inputs.length, nNorm, spec.completeBelow),
      cumulative: pooled.map((omega, i) => ({ omega, C: (i + 1) / (inputs.length * nNorm) })),
    };
    if (spec.modesBelowCutoff === 0) missing.push('A_g: no mode below the fit cutoff');
    else if (!spec.omega5Consistent) {
      missing.push(`A_g: the cumulative count does not follow ω⁵ below ω₁ (exponent ${spec.exponent.value.toFixed(2)} ± ${(spec.exponent.value / Math.sqrt(spec.modesBelowCutoff)).toFixed(2)}): fitted over the full range anyway; more samples needed`);
    }
  }

  const softest = done.map(softestNqle).filter((m): m is NqleModeInput => m !== null);
  counts.nqle = softest.length;
  if (softest.length === 0) missing.push('NQLEs (k₋/f₋)');
  else {
    const at = (idx: Int32Array, f: (m: NqleModeInput) => number) => {
      let s = 0;
      for (const i of idx) s += f(softest[i]);
      return s / idx.length;
    };
    summary.nqle = {
      kMinusOverFMinus: bootstrap(softest.length, (idx) => at(idx, (m) => m.kMinus) / at(idx, (m) => m.fMinus), bs),
      kMinus: bootstrapMean(softest.map((m) => m.kMinus), bs),
      fMinus: bootstrapMean(softest.map((m) => m.fMinus), bs),
      omega2: bootstrapMean(softest.map((m) => m.omega2), bs),
    };
  }

  const sheared = done.map((s) => s.aqs).filter((a): a is AqsInput => !!a && isNum(a.G0) && a.G0 > 0 && isNum(a.sigmaMax));
  counts.aqs = sheared.length;
  // shear to yield is opt-in: its absence is not a gap worth a note
  if (sheared.length > 0) summary.aqs = summarizeAqs(sheared, bs);
  summary.cost = summarizeCost(done);
  return summary;
}

function summarizeCost(done: SampleInput[]): CostSummary | null {
  const timed = done.map((s) => s.stageSeconds).filter((t): t is Record<string, number> => !!t && Object.values(t).every(isNum));
  if (timed.length === 0) return null;
  const names = [...new Set(timed.flatMap((t) => Object.keys(t)))];
  const stat = (xs: number[]) => ({ mean: mean(xs), max: Math.max(...xs) });
  return {
    samples: timed.length,
    stages: names.map((stage) => ({ stage, ...stat(timed.map((t) => t[stage] ?? 0)) })),
    total: stat(timed.map((t) => Object.values(t).reduce((a, b) => a + b, 0))),
  };
}

/** Intervals of the regular strain grid on which the mean-curve overshoot is taken. */
const CURVE_GRID = 400;

function summarizeAqs(sheared: AqsInput[], bs: Required<BootstrapOptions>): AqsSummary {
  const over = (f: (a: AqsInput) => number) => bootstrapMean(sheared.map(f).filter(isNum), bs);
  // an event's size is its stress jump |Δσ|: a drop, except where it relaxes a stress of the other sign
  const sizes = sheared.flatMap((a) => a.events.map((e) => Math.abs(e.stressDrop) / a.G0)).filter(isNum);
  const curves = sheared.filter((a) => a.curve && a.curve.gamma.length > 1).map((a) => ({ x: a.curve!.gamma, y: a.curve!.sigma.map((v) => v / a.G0) }));
  let curve: AqsSummary['curve'] = null;
  let meanCurveOvershoot = undefinedEstimate(curves.length);
  let flowRise = undefinedEstimate(curves.length);
  if (curves.length > 0) {
    // on the first curve's points (refined ones near its events included), up to the shortest path
    const end = Math.min(...curves.map((c) => c.x[c.x.length - 1]));
    const avg = averageCurves(curves);
    const keep = avg.x.map((g) => g <= end);
    curve = { gamma: avg.x.filter((_, i) => keep[i]), sigmaOverG: avg.y.filter((_, i) => keep[i]), error: avg.error.filter((_, i) => keep[i]) };
    // the overshoot: each curve on one regular grid up to the same end, so that the flow average weighs strain evenly
    const grid = Array.from({ length: CURVE_GRID + 1 }, (_, k) => (k * end) / CURVE_GRID);
    const rows = curves.map((c) => grid.map((g) => interpolate(c.x, c.y, g)));
    const flowFrom = Math.ceil((1 - AQS_DEFAULTS.flowFraction) * CURVE_GRID);
    const meanOf = (idx: Int32Array) => grid.map((_, k) => { let t = 0; for (const i of idx) t += rows[i][k]; return t / idx.length; });
    meanCurveOvershoot = bootstrap(rows.length, (idx) => {
      const m = meanOf(idx);
      return Math.max(...m) / mean(m.slice(flowFrom));
    }, bs);
    // the flow range's second half against its first, over the flow average: ≈ 0 in steady flow
    const split = Math.ceil((flowFrom + CURVE_GRID) / 2);
    flowRise = bootstrap(rows.length, (idx) => {
      const m = meanOf(idx);
      return (mean(m.slice(split)) - mean(m.slice(flowFrom, split))) / mean(m.slice(flowFrom));
    }, bs);
  }
  const overlaps = sheared.map((a) => a.firstEventNqleOverlap).filter((o): o is number[] => !!o && o.length > 0);
  return {
    samples: sheared.length,
    curve,
    sigmaMaxOverG: over((a) => a.sigmaMax / a.G0),
    flowStressOverG: over((a) => a.flowStress / a.G0),
    overshootRatio: over((a) => a.overshootRatio),
    meanCurveOvershoot,
    flowRise,
    localisationIndex: over((a) => a.localisationIndex),
    localisationShuffled: over((a) => a.localisationShuffled),
    meanEventSize: bootstrapMean(sizes, bs),
    eventSizes: sizes,
    firstEventOverlap: bootstrapMean(overlaps.map((o) => o[0]), bs),
    firstEventBestOverlap: bootstrapMean(overlaps.map((o) => Math.max(...o)), bs),
    firstEventDistance: bootstrapMean(sheared.map((a) => a.firstEventNqleDistance?.[0]).filter(isNum), bs),
    approachExponent: bootstrapMean(sheared.map((a) => a.approach?.exponent).filter(isNum), bs),
    approachExample: sheared.find((a) => a.approach && a.approach.distance.length > 1)?.approach ?? null,
  };
}

/** The per-Q summaries of all samples, in increasing Q. */
export function analyzeEnsemble(samples: SampleInput[], options: AnalysisOptions = {}): EnsembleSummary {
  const opts: EnsembleSummary['options'] = {
    normalization: options.normalization ?? 'particle',
    cutoffFraction: options.cutoffFraction ?? 1,
    omega5Level: options.omega5Level ?? 0.05,
    bootstrap: { ...DEFAULT_BOOTSTRAP, ...options.bootstrap },
  };
  const byQ = new Map<number, SampleInput[]>();
  for (const s of samples) {
    if (!byQ.has(s.Q)) byQ.set(s.Q, []);
    byQ.get(s.Q)!.push(s);
  }
  const perQ = [...byQ.keys()].sort((a, b) => a - b).map((Q) => summarizeQ(Q, byQ.get(Q)!, opts));
  return { options: opts, perQ };
}
