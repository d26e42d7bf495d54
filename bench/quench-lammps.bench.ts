/**
 * The quench against LAMMPS `minimize` on the same end-of-NVE configuration (the state `prepare`
 * quenches: prepareLiquid, default protocol, zero-pressure density, seed 1), for Q = 10 and 240.
 *
 * - qglass: `minimize` (L-BFGS, the defaults of `prepare`) to max|F| < 1e-10; wall and CPU seconds,
 *   iterations, force evaluations, final E/N, and the time at which max|F| first fell below 1e-8
 *   (from the onProgress hook, which reports every 100 iterations: an upper bound within 100 iterations).
 * - LAMMPS (serial `lmp`): `min_style cg`, `min_modify line quadratic norm max` (plus `dmax 0.01` at
 *   Q = 240, where larger trial steps push pairs inside the table's inner cutoff), then
 *   `minimize 0 1e-10 100000 1000000`, on the data file and pair table that `qglass lammps` writes
 *   (lammpsBundle: the closed-form φ and −φ′ on 100000 points equally spaced in r²) read with
 *   `pair_style table linear 100000`: its nodes fall on the file's points, so no re-interpolation of
 *   the file. Times are LAMMPS's own loop time of the minimisation (wall) and that times its reported
 *   CPU use; the final max|F| is recomputed from the final forces (`run 0`, reduce max of |f|), and
 *   thermo every 10 iterations (step, fmax, elapsed seconds) gives its time to max|F| < 1e-8.
 * - LAMMPS's neighbor skin is its own best: a probe of PROBE_ITERATIONS minimisation iterations at
 *   each skin of 0.1 0.15 0.2 0.3 0.4, fastest CPU time kept.
 * - The two codes alternate, REPEATS times each; the best time of each is compared.
 *
 * Size: QGLASS_BENCH_N (default 10976; 2048 for a quick run); QGLASS_BENCH_Q (default 10,240),
 * QGLASS_BENCH_REPEATS (default 2), QGLASS_BENCH_PROBE (probe iterations, default 500);
 * QGLASS_BENCH_LMP_TABLE=spline selects LAMMPS's spline table, QGLASS_BENCH_LMP_SKIN=x fixes its
 * skin (no probe). The end-of-NVE states are cached in bench/cache/ (endnve-Q<Q>-N<N>-seed1.xyz).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lammpsBundle, DEFAULT_TABLE_POINTS } from '../src/cli/commands/lammps.ts';
import { DEFAULT_PREPARE, prepareLiquid } from '../src/engine/prepare.ts';
import { computeForces } from '../src/engine/forces.ts';
import { minimize } from '../src/engine/minimize.ts';
import { systemFromConfiguration, systemToConfiguration } from '../src/engine/system.ts';
import { writeLammpsData } from '../src/io/lammps-data.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { lawMetadata } from '../src/model/laws.ts';
import { qModel } from '../src/model/q-model.ts';
import { resolveDensity } from '../src/model/presets.ts';
import type { Configuration } from '../src/model/configuration.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.QGLASS_BENCH_N ?? 10976);
const QS = (process.env.QGLASS_BENCH_Q ?? '10,240').split(',').map(Number);
const REPEATS = Number(process.env.QGLASS_BENCH_REPEATS ?? 2);
const PROBE_ITERATIONS = Number(process.env.QGLASS_BENCH_PROBE ?? 500);
const SKINS = [0.1, 0.15, 0.2, 0.3, 0.4];
/** LAMMPS's table style (linear: its fastest) and, to skip the probe, a fixed skin. */
const TABLE_STYLE = process.env.QGLASS_BENCH_LMP_TABLE ?? 'linear';
const FIXED_SKIN = process.env.QGLASS_BENCH_LMP_SKIN === undefined ? null : Number(process.env.QGLASS_BENCH_LMP_SKIN);
const FTOL = 1e-10;
/** The comparison threshold when LAMMPS's CG stalls above FTOL. */
const FTOL_LOOSE = 1e-8;
const THERMO_EVERY = 10;

function endOfNve(Q: number): Configuration {
  const cache = join(here, 'cache');
  mkdirSync(cache, { recursive: true });
  const file = join(cache, `endnve-Q${Q}-N${N}-seed1.xyz`);
  if (!existsSync(file)) {
    const { density, mode } = resolveDensity('zero-pressure', Q);
    const t = performance.now();
    const liquid = prepareLiquid({ ...DEFAULT_PREPARE, Q, N, density, seed: 1 });
    process.stderr.write(`Q=${Q}: overlap removal + NVE (${liquid.nve.steps} steps) in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
    writeExtendedXyz(file, systemToConfiguration(liquid.system, { Q, density, densityMode: mode, seed: 1 }));
  }
  return readExtendedXyz(file);
}

function quenchQglass(conf: Configuration, Q: number) {
  const sys = systemFromConfiguration(conf, qModel(Q));
  computeForces(sys);
  const initialEnergyPerParticle = sys.energy / N;
  let looseSeconds: number | null = null, looseCpuSeconds: number | null = null, looseIteration: number | null = null;
  const t = performance.now();
  const c = process.cpuUsage();
  const r = minimize(sys, {
    ftol: FTOL, maxIterations: DEFAULT_PREPARE.maxCgIterations,
    onProgress: (it, fmax) => {
      if (looseSeconds === null && fmax < FTOL_LOOSE) {
        const u = process.cpuUsage(c);
        looseSeconds = (performance.now() - t) / 1000; looseCpuSeconds = (u.user + u.system) / 1e6; looseIteration = it;
      }
    },
  });
  const cpu = process.cpuUsage(c);
  const seconds = (performance.now() - t) / 1000;
  return {
    initialEnergyPerParticle, converged: r.converged, reason: r.reason, iterations: r.iterations, forceEvaluations: r.forceEvaluations,
    seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxForce: r.maxForce, energyPerParticle: r.energy / N,
    secondsTo1e8: looseSeconds as number | null, cpuSecondsTo1e8: looseCpuSeconds as number | null, iterationTo1e8: looseIteration as number | null,
  };
}

interface LammpsRun {
  stop: string; initialEnergyPerParticle: number; iterations: number; forceEvaluations: number; seconds: number; cpuSeconds: number;
  maxForce: number; energyPerParticle: number; secondsTo1e8: number | null; cpuSecondsTo1e8: number | null; iterationTo1e8: number | null;
}

/** The LAMMPS input: the bundle's table and data file, CG with the quadratic line search, max-norm stopping. */
function lammpsInput(Q: number, skin: number, maxIterations: number, coefficients: string[]): string {
  return [
    'units lj', 'atom_style atomic', 'boundary p p p', 'atom_modify map array sort 1000 0.0',
    'read_data glass.data',
    `pair_style table ${TABLE_STYLE} ${DEFAULT_TABLE_POINTS}`, 'pair_modify shift no', ...coefficients,
    `neighbor ${skin} bin`, 'neigh_modify every 1 delay 0 check yes',
    'variable afx atom abs(fx)', 'variable afy atom abs(fy)', 'variable afz atom abs(fz)',
    'compute fm all reduce max v_afx v_afy v_afz',
    'thermo_style custom step fmax cpu', 'thermo_modify norm no format float %.17g', `thermo ${THERMO_EVERY}`,
    'min_style cg', `min_modify ${Q >= 100 ? 'dmax 0.01 ' : ''}line quadratic norm max`,
    `minimize 0 ${FTOL} ${maxIterations} 1000000`,
    'thermo_style custom step pe c_fm[1] c_fm[2] c_fm[3]', 'thermo_modify norm no', 'run 0',
    'print "FINAL $(pe/atoms:%.17g) $(c_fm[1]:%.17g) $(c_fm[2]:%.17g) $(c_fm[3]:%.17g)"', '',
  ].join('\n');
}

function runLammps(dir: string, Q: number, skin: number, maxIterations: number, coefficients: string[]): LammpsRun {
  writeFileSync(join(dir, 'in.quench'), lammpsInput(Q, skin, maxIterations, coefficients));
  const r = spawnSync('lmp', ['-nocite', '-in', 'in.quench', '-log', 'log.quench', '-screen', 'none'], { cwd: dir, encoding: 'utf8' });
  const log = existsSync(join(dir, 'log.quench')) ? readFileSync(join(dir, 'log.quench'), 'utf8') : '';
  if (r.status !== 0) throw new Error(`LAMMPS failed (Q = ${Q}, skin ${skin}): ${(log + r.stderr + r.stdout).slice(-600)}`);
  const num = (re: RegExp) => { const m = re.exec(log); if (!m) throw new Error(`LAMMPS log: no match for ${re}`); return Number(m[1]); };
  // the first loop time and CPU use are the minimisation's (the second is the `run 0`)
  const seconds = num(/Loop time of ([0-9.eE+-]+) on/);
  const cpuUse = num(/([0-9.]+)% CPU use/) / 100;
  // thermo rows of the minimisation: "step fmax cpu"
  let secondsTo1e8: number | null = null, iterationTo1e8: number | null = null;
  const thermo = log.slice(log.indexOf('Step Fmax CPU'), log.indexOf('Loop time of'));
  for (const line of thermo.split('\n').slice(1)) {
    const [step, fmax, t] = line.trim().split(/\s+/).map(Number);
    if (Number.isFinite(step) && fmax < FTOL_LOOSE) { secondsTo1e8 = t; iterationTo1e8 = step; break; }
  }
  // minimisation stats: "Energy initial, next-to-last, final =" then the three energies (norm no: totals)
  const initialEnergy = num(/Energy initial, next-to-last, final =\s+(\S+)/) / N;
  const final = /^FINAL (\S+) (\S+) (\S+) (\S+)/m.exec(log);
  if (!final) throw new Error('LAMMPS log: no FINAL line');
  return {
    stop: /Stopping criterion = (.*)/.exec(log)?.[1].trim() ?? '?',
    iterations: num(/Iterations, force evaluations = (\d+)/), forceEvaluations: num(/Iterations, force evaluations = \d+ (\d+)/),
    seconds, cpuSeconds: seconds * cpuUse, maxForce: Math.max(Number(final[2]), Number(final[3]), Number(final[4])), energyPerParticle: Number(final[1]), initialEnergyPerParticle: initialEnergy,
    secondsTo1e8, cpuSecondsTo1e8: secondsTo1e8 === null ? null : secondsTo1e8 * cpuUse, iterationTo1e8,
  };
}

const best = (xs: number[]) => Math.min(...xs);
/** Best of the runs that got there (null: none did). */
const bestOrNull = (xs: (number | null)[]) => { const got = xs.filter((x): x is number => x !== null); return got.length > 0 ? Math.min(...got) : null; };

export async function run(): Promise<object> {
  if (spawnSync('sh', ['-c', 'command -v lmp']).status !== 0) return { skipped: 'lmp not installed (apt-get install -y lammps)' };
  const out: Record<string, unknown> = { N, ftol: FTOL, repeats: REPEATS, lammpsTable: `pair_style table ${TABLE_STYLE} ${DEFAULT_TABLE_POINTS} (qglass lammps table: RSQ, ${DEFAULT_TABLE_POINTS} points, nodes on the file's points)` };
  for (const Q of QS) {
    const conf = endOfNve(Q);
    const law = qModel(Q);
    const bundle = lammpsBundle(law, DEFAULT_TABLE_POINTS, `end of NVE, Q = ${Q}, N = ${N}`);
    const dir = mkdtempSync(join(tmpdir(), 'qglass-quench-lammps-'));
    try {
      writeLammpsData(join(dir, 'glass.data'), { ...conf, meta: { ...conf.meta, ...lawMetadata(law) } });
      writeFileSync(join(dir, bundle.tableFile), bundle.table);
      const coefficients = bundle.sections.map((s, t) => `pair_coeff ${t === 2 ? 2 : 1} ${t === 0 ? 1 : 2} ${bundle.tableFile} ${s.name} ${s.rhi}`);

      const probe = (FIXED_SKIN === null ? SKINS : []).map((skin) => {
        const r = runLammps(dir, Q, skin, PROBE_ITERATIONS, coefficients);
        process.stderr.write(`Q=${Q} LAMMPS probe skin ${skin}: ${r.iterations} iterations in ${r.cpuSeconds.toFixed(2)} s CPU\n`);
        return { skin, iterations: r.iterations, seconds: r.seconds, cpuSeconds: r.cpuSeconds };
      });
      const skin = FIXED_SKIN ?? probe.reduce((a, b) => (b.cpuSeconds / b.iterations < a.cpuSeconds / a.iterations ? b : a)).skin;

      const ours: ReturnType<typeof quenchQglass>[] = [];
      const theirs: LammpsRun[] = [];
      for (let rep = 0; rep < REPEATS; rep++) {
        const q = quenchQglass(conf, Q);
        ours.push(q);
        process.stderr.write(`Q=${Q} qglass: ${q.reason}, ${q.iterations} iterations, ${q.forceEvaluations} evaluations, ${q.cpuSeconds.toFixed(1)} s CPU (${q.seconds.toFixed(1)} wall), max|F| ${q.maxForce.toExponential(1)}, E/N ${q.energyPerParticle}\n`);
        const l = runLammps(dir, Q, skin, 100_000, coefficients);
        theirs.push(l);
        process.stderr.write(`Q=${Q} LAMMPS: ${l.stop}, ${l.iterations} iterations, ${l.forceEvaluations} evaluations, ${l.cpuSeconds.toFixed(1)} s CPU (${l.seconds.toFixed(1)} wall), max|F| ${l.maxForce.toExponential(1)}, E/N ${l.energyPerParticle}\n`);
      }
      const lammpsStalled = theirs.some((l) => !(l.maxForce < FTOL));
      const reached = theirs.filter((l) => l.maxForce < FTOL);
      const qBest = { cpuSeconds: best(ours.map((r) => r.cpuSeconds)), seconds: best(ours.map((r) => r.seconds)), secondsTo1e8: bestOrNull(ours.map((r) => r.secondsTo1e8)), cpuSecondsTo1e8: bestOrNull(ours.map((r) => r.cpuSecondsTo1e8)) };
      // LAMMPS's times to 1e-10 only from the runs that reached it
      const lBest = { cpuSeconds: bestOrNull(reached.map((r) => r.cpuSeconds)), seconds: bestOrNull(reached.map((r) => r.seconds)), secondsTo1e8: bestOrNull(theirs.map((r) => r.secondsTo1e8)), cpuSecondsTo1e8: bestOrNull(theirs.map((r) => r.cpuSecondsTo1e8)) };
      out[`Q${Q}`] = {
        lammpsSkin: skin, lammpsSkinProbe: { iterations: PROBE_ITERATIONS, runs: probe },
        lammpsMinModify: `${Q >= 100 ? 'dmax 0.01 ' : ''}line quadratic norm max`,
        qglass: { runs: ours, best: qBest },
        lammps: { runs: theirs, best: lBest, stalledAbove1e10: lammpsStalled, runsReaching1e10: reached.length },
        // speed ratio qglass/LAMMPS: > 1 means qglass is faster
        speedRatio: {
          to1e10Cpu: lBest.cpuSeconds !== null ? lBest.cpuSeconds / qBest.cpuSeconds : null,
          to1e10Wall: lBest.seconds !== null ? lBest.seconds / qBest.seconds : null,
          to1e8Cpu: lBest.cpuSecondsTo1e8 !== null && qBest.cpuSecondsTo1e8 !== null ? lBest.cpuSecondsTo1e8 / qBest.cpuSecondsTo1e8 : null,
          to1e8Wall: lBest.secondsTo1e8 !== null && qBest.secondsTo1e8 !== null ? lBest.secondsTo1e8 / qBest.secondsTo1e8 : null,
        },
        // the same potential: the start's energy by both; the minima reached (paths may part)
        initialEnergyPerParticle: { qglass: ours[0].initialEnergyPerParticle, lammps: theirs[0].initialEnergyPerParticle },
        energyPerParticle: { qglass: ours[0].energyPerParticle, lammps: theirs[0].energyPerParticle, difference: ours[0].energyPerParticle - theirs[0].energyPerParticle },
      };
      process.stderr.write(`Q=${Q}: ${JSON.stringify((out[`Q${Q}`] as { speedRatio: object }).speedRatio)}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
