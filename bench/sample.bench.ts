/**
 * One whole sample, stage by stage: prepare (overlap removal + NVE, then the quench), elastic,
 * 20 modes, g(r), 5 NQLEs — what a campaign does per sample — at QGLASS_BENCH_N (default 2048) for
 * QGLASS_BENCH_Q (default 10,240), wall and CPU seconds per stage.
 *
 * With QGLASS_BENCH_BASELINE=DIR (the root of another checkout, e.g. a `git worktree` of an older
 * commit) the same sample is also measured with that checkout's code, each stage building its own
 * pair table and Hessian as it did there: the before/after comparison. Both quench the same
 * end-of-NVE state (cached in bench/cache/ with its overlap and NVE timings); the measurements of
 * both then run on the glass of the current quench, so that their numbers can be compared too.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultGrRange } from '../src/ensemble/campaign.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.QGLASS_BENCH_N ?? 2048);
const QS = (process.env.QGLASS_BENCH_Q ?? '10,240').split(',').map(Number);
const BASELINE = process.env.QGLASS_BENCH_BASELINE;
const MODES = 20, NQLES = 5;

/** The modules of one checkout a sample needs (loaded by path, so that two checkouts can be compared). */
async function codeOf(root: string) {
  const load = (rel: string) => import(pathToFileURL(join(root, 'src', rel)).href);
  // the Q-model is qModel(Q) in model/q-model.ts, or makePairModel(Q) in model/potential.ts in older checkouts
  const qModelFile = existsSync(join(root, 'src', 'model', 'q-model.ts')) ? 'model/q-model.ts' : 'model/potential.ts';
  const [forces, minimize, prepare, system, potential, presets, xyz, elastic, modes, nqle, gr] = await Promise.all([
    load('engine/forces.ts'), load('engine/minimize.ts'), load('engine/prepare.ts'), load('engine/system.ts'), load(qModelFile),
    load('model/presets.ts'), load('io/xyz.ts'), load('measure/elastic.ts'), load('measure/modes.ts'),
    load('measure/nqle.ts'), load('measure/pair-correlation.ts'),
  ]);
  const harmonic = existsSync(join(root, 'src', 'measure', 'harmonic.ts')) ? await load('measure/harmonic.ts') : null;
  return { forces, minimize, prepare, system, potential, presets, xyz, elastic, modes, nqle, gr, harmonic };
}
type Code = Awaited<ReturnType<typeof codeOf>>;

/** End-of-NVE state of the default protocol, cached with the seconds its overlap removal and NVE took. */
function liquidFile(code: Code, Q: number): string {
  const cache = join(here, 'cache');
  mkdirSync(cache, { recursive: true });
  const file = join(cache, `liquid-Q${Q}-N${N}-seed1.xyz`);
  if (!existsSync(file)) {
    const { density, mode } = code.presets.resolveDensity('zero-pressure', Q);
    const liquid = code.prepare.prepareLiquid({ ...code.prepare.DEFAULT_PREPARE, Q, N, density, seed: 1 });
    code.xyz.writeExtendedXyz(file, code.system.systemToConfiguration(liquid.system, {
      Q, density, densityMode: mode, seed: 1, overlapSeconds: liquid.timings.overlap, nveSeconds: liquid.timings.nve,
    }));
  }
  return file;
}

function timed<T>(f: () => T): { value: T; seconds: number; cpuSeconds: number } {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = f();
  const cpu = process.cpuUsage(c);
  return { value, seconds: (performance.now() - t) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function sample(code: Code, Q: number, file: string, glass?: Float64Array) {
  const conf = code.xyz.readExtendedXyz(file);
  const sys = code.system.systemFromConfiguration(conf, (code.potential.qModel ?? code.potential.makePairModel)(Q));
  const stages: Record<string, { seconds: number; cpuSeconds: number; [k: string]: unknown }> = {};
  const minimize = code.minimize.minimize ?? code.minimize.minimizeCg;
  const q = timed(() => minimize(sys, { ftol: code.prepare.DEFAULT_PREPARE.ftol }));
  if (!q.value.converged) throw new Error(`Q=${Q}: quench did not converge: ${JSON.stringify(q.value)}`);
  stages.quench = { seconds: q.seconds, cpuSeconds: q.cpuSeconds, iterations: q.value.iterations, forceEvaluations: q.value.forceEvaluations };
  // measurements on the given glass when there is one, so that both checkouts measure the same minimum
  if (glass) { sys.positions.set(glass); code.forces.computeForces(sys); }
  const shared = code.harmonic ? timed(() => code.harmonic!.harmonicOf(sys)) : null;
  if (shared) stages.hessian = { seconds: shared.seconds, cpuSeconds: shared.cpuSeconds };
  const h = shared?.value;
  const el = timed(() => code.elastic.measureElastic(sys, { harmonic: h }));
  stages.elastic = { seconds: el.seconds, cpuSeconds: el.cpuSeconds, cgIterations: el.value.cgIterations, K: el.value.K, G: el.value.G, converged: el.value.converged };
  const md = timed(() => code.modes.measureModes(sys, { count: MODES, harmonic: h }));
  stages.modes = { seconds: md.seconds, cpuSeconds: md.cpuSeconds, matvecs: md.value.matvecs, omega2: md.value.omega2.slice(0, 3), converged: md.value.converged };
  const g = timed(() => code.gr.pairCorrelation(sys.box, sys.positions, sys.species, { rmax: defaultGrRange(N) }));
  stages.gr = { seconds: g.seconds, cpuSeconds: g.cpuSeconds };
  const nq = timed(() => code.nqle.findNqles(sys, { count: NQLES }, undefined, { harmonic: h, modes: md.value }));
  stages.nqle = { seconds: nq.seconds, cpuSeconds: nq.cpuSeconds, found: nq.value.modes.length, omega2: nq.value.modes.map((m: { omega2: number }) => m.omega2) };
  const prepare = { overlap: Number(conf.meta.overlapSeconds), nve: Number(conf.meta.nveSeconds) };
  const measured = Object.values(stages).reduce((s, x) => s + x.seconds, 0);
  const measuredCpu = Object.values(stages).reduce((s, x) => s + x.cpuSeconds, 0);
  return {
    energyPerParticle: q.value.energy / N, glass: sys.positions.slice(), prepareBeforeQuench: prepare, stages,
    totalSeconds: prepare.overlap + prepare.nve + measured, secondsFromQuench: measured, cpuSecondsFromQuench: measuredCpu,
  };
}

export async function run(): Promise<object> {
  const current = await codeOf(resolve(here, '..'));
  const baseline = BASELINE ? await codeOf(resolve(BASELINE)) : null;
  const out: Record<string, unknown> = { N, modes: MODES, nqles: NQLES, baseline: BASELINE ?? null };
  for (const Q of QS) {
    const file = liquidFile(current, Q);
    const row: Record<string, unknown> = {};
    const { glass, ...now } = sample(current, Q, file);
    row.current = now;
    process.stderr.write(`Q=${Q} current: ${JSON.stringify(now)}\n`);
    if (baseline) {
      const { glass: _glass, ...before } = sample(baseline, Q, file, glass);
      row.baseline = before;
      process.stderr.write(`Q=${Q} baseline: ${JSON.stringify(before)}\n`);
    }
    out[`Q${Q}`] = row;
  }
  return out;
}
