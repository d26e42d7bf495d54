/**
 * The NVE time step on evidence: for dt = f/(Q·sqrt(T₀)) with several factors f (no upper cap on dt
 * here), prepare the same
 * seeds with the default protocol and compare (1) the energy drift of the NVE run against a stated
 * bound and (2) the glasses that result — E/N, p/K, ν, G/K — between each larger f and the current
 * default, by Welch's t test and the two-sample Kolmogorov–Smirnov test.
 *
 * Sizes: QGLASS_BENCH_N (default 500), QGLASS_BENCH_SAMPLES per (Q, f) (default 20), QGLASS_BENCH_Q
 * (default 10,40,240), QGLASS_BENCH_DT_FACTORS (default 0.06,0.09,0.12). Samples are appended to
 * bench/results/timestep.json.tmp as they finish (a long run loses nothing when stopped); a rerun
 * skips the samples already there, and QGLASS_BENCH_SUMMARY_ONLY=1 summarises them without running more.
 */
import { existsSync, readFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PREPARE, prepareGlass } from '../src/engine/prepare.ts';
import { DEFAULT_DT_FACTOR } from '../src/engine/dynamics.ts';
import { measureElastic } from '../src/measure/elastic.ts';
import { resolveDensity } from '../src/model/presets.ts';
import { mean, std } from '../src/analysis/statistics.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.QGLASS_BENCH_N ?? 500);
const SAMPLES = Number(process.env.QGLASS_BENCH_SAMPLES ?? 20);
const QS = (process.env.QGLASS_BENCH_Q ?? '10,40,240').split(',').map(Number);
const FACTORS = (process.env.QGLASS_BENCH_DT_FACTORS ?? '0.06,0.09,0.12').split(',').map(Number);
/** Largest accepted NVE energy drift max_t |E(t) − E(0)|/N, in units of T₀ (the engine test's bound). */
export const DRIFT_BOUND = 2e-3;
const QUANTITIES = ['energyPerParticle', 'pOverK', 'nu', 'GOverK'] as const;
/**
 * Two ensembles count as indistinguishable when no test rejects equality at ALPHA after the
 * Bonferroni correction over the 2 × 4 tests of one comparison (each test at ALPHA/8).
 */
const ALPHA = 0.05;
const ALPHA_PER_TEST = ALPHA / (2 * QUANTITIES.length);

interface Sample {
  Q: number; N: number; dtFactor: number; seed: number; dt: number; mdSteps: number;
  energyDrift: number; finalTemperature: number; quenchIterations: number; converged: boolean;
  energyPerParticle: number; pOverK: number; nu: number; GOverK: number; seconds: number;
}

function runSample(Q: number, dtFactor: number, seed: number): Sample {
  const { density } = resolveDensity('zero-pressure', Q);
  const t = performance.now();
  // no dtMax cap: dt = f/(Q·sqrt(T₀)) at every Q, so that the factor alone is what is compared
  const prep = prepareGlass({ ...DEFAULT_PREPARE, Q, N, density, seed, dtFactor, dtMax: Infinity });
  const el = measureElastic(prep.system);
  return {
    Q, N, dtFactor, seed, dt: prep.dt, mdSteps: prep.nve.steps, energyDrift: prep.nve.energyDrift,
    finalTemperature: prep.nve.finalTemperature, quenchIterations: prep.quench.iterations,
    converged: prep.quench.converged && el.converged, energyPerParticle: prep.system.energy / N,
    pOverK: el.pOverK, nu: el.nu, GOverK: el.GOverK, seconds: (performance.now() - t) / 1000,
  };
}

/** Regularised incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes §6.4). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = a * Math.log(x) + b * Math.log(1 - x) - lnBeta(a, b);
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d; d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c; if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
  }
  return (Math.exp(lnFront) * h) / a;
}

function lnBeta(a: number, b: number): number {
  return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

/** Lanczos approximation (g = 7, 9 terms). */
function lnGamma(z: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  z -= 1;
  let x = c[0];
  for (let i = 1; i < 9; i++) x += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/** Welch's unequal-variance t test: two-sided p-value. */
export function welchTest(a: number[], b: number[]): { t: number; df: number; p: number } {
  const va = std(a) ** 2 / a.length, vb = std(b) ** 2 / b.length;
  const t = (mean(a) - mean(b)) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { t, df, p: incompleteBeta(df / (df + t * t), df / 2, 0.5) };
}

/** Two-sample Kolmogorov–Smirnov test: D and the asymptotic p-value with the small-sample correction of Stephens. */
export function ksTest(a: number[], b: number[]): { D: number; p: number } {
  const x = [...a].sort((u, v) => u - v), y = [...b].sort((u, v) => u - v);
  let i = 0, j = 0, D = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    D = Math.max(D, Math.abs(i / x.length - j / y.length));
  }
  const ne = Math.sqrt((x.length * y.length) / (x.length + y.length));
  const lambda = (ne + 0.12 + 0.11 / ne) * D;
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  return { D, p: Math.min(1, Math.max(0, p)) };
}

export async function run(): Promise<object> {
  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const partial = join(resultsDir, 'timestep.json.tmp');
  const done: Sample[] = existsSync(partial) ? readFileSync(partial, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Sample) : [];
  const key = (s: Pick<Sample, 'Q' | 'N' | 'dtFactor' | 'seed'>) => `${s.Q}/${s.N}/${s.dtFactor}/${s.seed}`;
  const have = new Set(done.map(key));
  // seeds outermost within each Q, so that a run stopped early leaves balanced ensembles to compare
  for (const Q of QS) for (let seed = 1; seed <= SAMPLES; seed++) for (const dtFactor of FACTORS) {
    if (have.has(key({ Q, N, dtFactor, seed })) || process.env.QGLASS_BENCH_SUMMARY_ONLY) continue;
    const s = runSample(Q, dtFactor, seed);
    done.push(s);
    appendFileSync(partial, JSON.stringify(s) + '\n');
    process.stderr.write(`Q=${Q} f=${dtFactor} seed=${seed}: drift ${s.energyDrift.toExponential(2)}, E/N ${s.energyPerParticle.toFixed(5)}, ν ${s.nu.toFixed(4)}, ${s.seconds.toFixed(1)} s\n`);
  }
  const out: Record<string, unknown> = { N, samples: SAMPLES, driftBound: DRIFT_BOUND, alpha: ALPHA, alphaPerTest: ALPHA_PER_TEST, t0: DEFAULT_PREPARE.t0, defaultDtFactor: DEFAULT_DT_FACTOR };
  for (const Q of QS) {
    const of = (f: number) => done.filter((s) => s.Q === Q && s.N === N && s.dtFactor === f && s.seed <= SAMPLES);
    const reference = of(DEFAULT_DT_FACTOR);
    out[`Q${Q}`] = FACTORS.map((f) => {
      const ss = of(f);
      const summary: Record<string, unknown> = {
        dtFactor: f, dt: ss[0]?.dt, samples: ss.length, allConverged: ss.every((s) => s.converged),
        maxEnergyDrift: Math.max(...ss.map((s) => s.energyDrift)), meanEnergyDrift: mean(ss.map((s) => s.energyDrift)),
        driftWithinBound: ss.every((s) => s.energyDrift <= DRIFT_BOUND * DEFAULT_PREPARE.t0),
        meanSecondsPerSample: mean(ss.map((s) => s.seconds)),
      };
      let indistinguishable = true;
      for (const q of QUANTITIES) {
        const x = ss.map((s) => s[q]), y = reference.map((s) => s[q]);
        const entry: Record<string, unknown> = { mean: mean(x), standardError: std(x) / Math.sqrt(x.length) };
        if (f !== DEFAULT_DT_FACTOR && x.length > 1 && y.length > 1) {
          const w = welchTest(x, y), k = ksTest(x, y);
          entry.welch = w;
          entry.ks = k;
          if (w.p < ALPHA_PER_TEST || k.p < ALPHA_PER_TEST) indistinguishable = false;
        }
        summary[q] = entry;
      }
      if (f !== DEFAULT_DT_FACTOR) summary.indistinguishableFromDefault = indistinguishable;
      return summary;
    });
  }
  out.samplesRecorded = done.filter((s) => s.N === N);
  return out;
}
