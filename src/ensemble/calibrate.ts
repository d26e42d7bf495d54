/**
 * Zero-pressure density calibration (docs/methods.md §3): find ρ at which the ensemble-mean p/K
 * of glasses made by the preparation protocol is within tolerance of 0.
 *
 * Without a starting density, round 1 prepares S samples at a rough guess and relaxes each
 * sample's box to p = 0; the mean relaxed density is the next guess. Each later round prepares S
 * samples with fresh seeds at the current density and measures p/K per sample (K = −V·dp/dV by
 * linear response, measure/elastic.ts); it stops when |mean p/K| ≤ tol/2 (half the tolerance, so
 * that fresh samples stay within tol despite their statistical error), else steps the density
 * (nextDensity): ρ ← ρ·exp(−mean p/K / S), with S = d(mean p/K)/d ln ρ. For one glass compressed
 * at fixed structure S = 1 (K = ρ·dp/dρ), the Newton step; but each round prepares new glasses at
 * the new density, and these adapt: at N = 2048, rounds at two densities gave S = 0.70 ± 0.14 at
 * Q = 240 and 0.48 ± 0.15 at Q = 40 (docs/methods.md §3), so Newton steps fall short. Once two
 * fixed-density rounds differ by more than twice their combined standard error, S is their secant
 * slope (kept within 0.2 … 2).
 * The accepted round's samples were never used to choose its density, so its mean ± standard
 * error is an unbiased check on fresh seeds.
 */
import { deriveSeed } from '../util/random.ts';
import { boxVolume } from '../space/box.ts';
import { DEFAULT_PREPARE, prepareGlass, type PrepareOptions } from '../engine/prepare.ts';
import { particleCount, virialPressure } from '../engine/system.ts';
import { measureElastic } from '../measure/elastic.ts';

export interface CalibrationOptions {
  Q: number;
  N: number;
  samples: number;
  /** Required |mean p/K| on fresh samples; a round is accepted at |mean p/K| ≤ tol/2. */
  tol: number;
  masterSeed: number;
  maxRounds: number;
  initialDensity?: number;
  protocol?: Partial<Omit<PrepareOptions, 'Q' | 'N' | 'density' | 'seed'>>;
}

export interface CalibrationRound {
  round: number;
  density: number;
  seeds: number[];
  pressure: number[];
  bulkModulus: number[];
  pOverK: number[];
  /** Densities of the samples after box relaxation to p = 0 (round 1 only). */
  relaxedDensity?: number[];
  meanPOverK: number;
  stdErrPOverK: number;
}

export interface CalibrationResult {
  Q: number;
  N: number;
  samples: number;
  density: number;
  pOverK: number;
  pOverKError: number;
  converged: boolean;
  rounds: CalibrationRound[];
}

/** Starting guess: interpolation in ln Q between zero-pressure densities seen at Q = 10 and 240. */
export function guessZeroPressureDensity(Q: number): number {
  const t = Math.min(1, Math.max(0, Math.log(Q / 10) / Math.log(24)));
  return 0.5 + t * (0.65 - 0.5);
}

/** What a later round needs of an earlier one. */
export type RoundSummary = Pick<CalibrationRound, 'density' | 'meanPOverK' | 'stdErrPOverK'>;

/**
 * The next density from the fixed-density rounds so far (last = current): a step to mean p/K = 0
 * along the slope S in ln ρ, the secant of the last two rounds when it is resolved above their
 * noise, else 1.
 */
export function nextDensity(rounds: readonly RoundSummary[]): { density: number; slope: number; secant: boolean } {
  const cur = rounds[rounds.length - 1];
  let slope = 1, secant = false;
  const prev = rounds.length >= 2 ? rounds[rounds.length - 2] : null;
  if (prev && prev.density !== cur.density) {
    const rise = cur.meanPOverK - prev.meanPOverK;
    if (Math.abs(rise) > 2 * Math.hypot(cur.stdErrPOverK, prev.stdErrPOverK)) {
      slope = Math.min(2, Math.max(0.2, rise / Math.log(cur.density / prev.density)));
      secant = true;
    }
  }
  return { density: cur.density * Math.exp(-cur.meanPOverK / slope), slope, secant };
}

/** Mean and standard error of the mean (sample standard deviation/√n; 0 for one value). */
export function meanAndError(v: readonly number[]): [number, number] {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const var_ = v.length > 1 ? v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1) : 0;
  return [m, Math.sqrt(var_ / v.length)];
}

export function calibrateDensity(opts: CalibrationOptions, log: (msg: string) => void = () => {}): CalibrationResult {
  const protocol = { ...DEFAULT_PREPARE, ...opts.protocol };
  let density = opts.initialDensity ?? guessZeroPressureDensity(opts.Q);
  const rounds: CalibrationRound[] = [];
  const fixedDensity: CalibrationRound[] = [];
  for (let round = 1; round <= opts.maxRounds; round++) {
    const relax = round === 1 && opts.initialDensity === undefined;
    const r: CalibrationRound = { round, density, seeds: [], pressure: [], bulkModulus: [], pOverK: [], meanPOverK: NaN, stdErrPOverK: NaN };
    if (relax) r.relaxedDensity = [];
    for (let s = 0; s < opts.samples; s++) {
      const seed = deriveSeed(opts.masterSeed, opts.Q, opts.N, round, s);
      const res = prepareGlass({
        ...protocol, Q: opts.Q, N: opts.N, density, seed, relaxPressureTol: relax ? 1e-4 : 0,
      });
      if (!res.quench.converged) throw new Error(`calibration sample (seed ${seed}) did not converge: max |F| = ${res.quench.maxForce}`);
      const sys = res.system;
      const p = virialPressure(sys);
      const K = measureElastic(sys).K;
      r.seeds.push(seed); r.pressure.push(p); r.bulkModulus.push(K); r.pOverK.push(p / K);
      if (relax) r.relaxedDensity!.push(particleCount(sys) / boxVolume(sys.box));
      log(`Q=${opts.Q} round ${round} sample ${s + 1}/${opts.samples}: rho=${density.toFixed(6)} p=${p.toExponential(4)} K=${K.toFixed(3)} p/K=${(p / K).toExponential(3)}`);
    }
    [r.meanPOverK, r.stdErrPOverK] = meanAndError(r.pOverK);
    rounds.push(r);
    if (relax) {
      density = meanAndError(r.relaxedDensity!)[0];
      log(`Q=${opts.Q} round 1: mean relaxed density ${density.toFixed(6)}`);
      continue;
    }
    fixedDensity.push(r);
    log(`Q=${opts.Q} round ${round}: rho=${density.toFixed(6)} mean p/K = ${r.meanPOverK.toExponential(3)} ± ${r.stdErrPOverK.toExponential(2)}`);
    if (Math.abs(r.meanPOverK) <= 0.5 * opts.tol) {
      return { Q: opts.Q, N: opts.N, samples: opts.samples, density, pOverK: r.meanPOverK, pOverKError: r.stdErrPOverK, converged: true, rounds };
    }
    const step = nextDensity(fixedDensity);
    log(`Q=${opts.Q} round ${round}: next rho=${step.density.toFixed(6)} (slope d(p/K)/d ln rho = ${step.slope.toFixed(3)}${step.secant ? ', from the last two rounds' : ''})`);
    density = step.density;
  }
  const last = rounds[rounds.length - 1];
  return { Q: opts.Q, N: opts.N, samples: opts.samples, density: last.density, pOverK: last.meanPOverK, pOverKError: last.stdErrPOverK, converged: false, rounds };
}
