/**
 * Engine speed at N = 10976 for Q = 10 and Q = 240 at their zero-pressure densities:
 * wall time of each stage of `prepare`, force-evaluation cost per pair, NVE atom-steps per second,
 * and — in the same run, on the same glass — LAMMPS (Debian's serial build, pair_style table) doing
 * the same NVE (T = 0.8, dt = min(0.005, 0.06/Q)) through ../shared/peers/lammps/bench_nve.sh,
 * alternating runs of the two so that both see the same load; the best of each is compared. Our NVE
 * runs with each kernel set (wasm and the js reference), each compared with LAMMPS.
 *
 * QGLASS_BENCH_N sets N; QGLASS_BENCH_NVE_STEPS the NVE length (default 4000); QGLASS_BENCH_REPEATS
 * the alternating rounds (default 2: on a machine whose speed drifts, more rounds make both bests
 * surer); QGLASS_BENCH_KERNELS=wasm leaves the js reference out of the rounds;
 * QGLASS_BENCH_ENGINE=nve skips `prepare` (minutes at N = 10976) and runs the NVE comparison from a
 * liquid-like configuration (bench/liquid.ts), which T = 0.8 melts as it would the glass.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PREPARE, prepareGlass } from '../src/engine/prepare.ts';
import { computeForces } from '../src/engine/forces.ts';
import { dynamicsSkin, maxwellBoltzmannVelocities, runNve } from '../src/engine/dynamics.ts';
import { systemFromConfiguration, systemToConfiguration, virialPressure, type System } from '../src/engine/system.ts';
import { qModel } from '../src/model/q-model.ts';
import { resolveDensity } from '../src/model/presets.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { createRandom } from '../src/util/random.ts';
import { useKernels, type KernelSet } from '../src/util/kernels.ts';
import { benchLiquid } from './liquid.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.QGLASS_BENCH_N ?? 10976);
const STEPS = Number(process.env.QGLASS_BENCH_NVE_STEPS ?? 4000);
const NVE_ONLY = process.env.QGLASS_BENCH_ENGINE === 'nve';
const SETS: KernelSet[] = process.env.QGLASS_BENCH_KERNELS === 'wasm' ? ['wasm'] : ['wasm', 'js'];
const REPEATS = Number(process.env.QGLASS_BENCH_REPEATS ?? 2);
if (!Number.isInteger(REPEATS) || REPEATS < 1) throw new Error(`QGLASS_BENCH_REPEATS must be a whole number ≥ 1; got "${process.env.QGLASS_BENCH_REPEATS}"`);
const peers = join(here, '..', '..', 'shared', 'peers', 'lammps');

function pairsWithinCutoff(sys: System): number {
  const { start, pairs, pairType } = sys.neighbors;
  const { cutoff2 } = sys.model;
  const pos = sys.positions;
  let count = 0;
  const d = new Float64Array(3);
  for (let i = 0; i < sys.species.length; i++) {
    for (let k = start[i]; k < start[i + 1]; k++) {
      const j = pairs[k];
      for (let a = 0; a < 3; a++) {
        let x = pos[3 * j + a] - pos[3 * i + a];
        const L = a === 0 ? sys.box.lx : a === 1 ? sys.box.ly : sys.box.lz;
        x -= Math.round(x / L) * L;
        d[a] = x;
      }
      if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < cutoff2[pairType[k]]) count++;
    }
  }
  return count;
}

function lammpsNve(xyz: string, Q: number, steps: number): { atomStepsPerSecond: number; settings: string } | { skipped: string } {
  const script = join(peers, 'bench_nve.sh');
  if (!existsSync(script)) return { skipped: `no ${script}` };
  if (spawnSync('sh', ['-c', 'command -v lmp']).status !== 0) return { skipped: 'lmp not installed (apt-get install -y lammps)' };
  // first call writes the table (cached); the second is the timed one
  spawnSync('bash', [script, xyz, String(Q), '10'], { encoding: 'utf8' });
  const r = spawnSync('bash', [script, xyz, String(Q), String(steps)], { encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  const v = Number(last);
  if (r.status !== 0 || !Number.isFinite(v)) return { skipped: `LAMMPS failed: ${r.stderr.slice(-400)}` };
  // bench_nve.sh says on stderr which skin (its fastest) and table style it timed
  return { atomStepsPerSecond: v, settings: /LAMMPS (skin .*)/.exec(r.stderr)?.[1] ?? '' };
}

export async function run(): Promise<object> {
  const out: Record<string, unknown> = { N };
  const cache = join(here, 'cache');
  mkdirSync(cache, { recursive: true });
  for (const Q of [10, 240]) {
    const { density, mode } = resolveDensity('zero-pressure', Q);
    let prepared: Record<string, unknown> | null = null;
    let forces: Record<string, number> | null = null;
    let file: string;
    if (NVE_ONLY) {
      file = join(cache, `liquid-Q${Q}-N${N}-seed1.xyz`);
      writeExtendedXyz(file, systemToConfiguration(benchLiquid(Q, N), { Q, density, densityMode: mode, seed: 1 }));
    } else {
      file = join(cache, `glass-Q${Q}-N${N}-seed1.xyz`);
      const prep = prepareGlass({ ...DEFAULT_PREPARE, Q, N, density, seed: 1 });
      writeExtendedXyz(file, systemToConfiguration(prep.system, { Q, density, densityMode: mode, seed: 1 }));
      prepared = {
        timings: prep.timings, mdSteps: prep.nve.steps, dt: prep.dt, energyDrift: prep.nve.energyDrift,
        cgIterations: prep.quench.iterations, forceEvaluations: prep.quench.forceEvaluations, maxForce: prep.quench.maxForce,
        pressure: virialPressure(prep.system),
      };
      // force evaluation on the quenched glass
      const sys = systemFromConfiguration(readExtendedXyz(file), qModel(Q));
      computeForces(sys);
      const listed = sys.neighbors.start[N];
      const within = pairsWithinCutoff(sys);
      const reps = 200;
      const t = performance.now();
      for (let r = 0; r < reps; r++) computeForces(sys, false);
      const forceNs = ((performance.now() - t) / reps) * 1e6;
      forces = {
        nsPerEvaluation: forceNs, listedPairsPerAtom: listed / N, pairsWithinCutoffPerAtom: within / N,
        nsPerListedPair: forceNs / listed, nsPerPairWithinCutoff: forceNs / within,
      };
    }

    // NVE as LAMMPS runs it (T = 0.8, dt = min(0.005, 0.06/Q)), alternating with LAMMPS on the same
    // configuration so that both see the same machine load; the best of the repeats is compared
    const dt = Math.min(0.005, 0.06 / Q);
    const steps = STEPS;
    const repeats = REPEATS;
    // wall time is what LAMMPS reports (its loop time); CPU time is given too, as a machine shared with
    // other processes stretches wall time
    type Run = {
      seconds: number; atomStepsPerSecond: number; cpuSeconds: number; atomStepsPerCpuSecond: number;
      neighborBuilds: number; cellSearches: number; energyDrift: number; finalTemperature: number;
    };
    const runs: Record<KernelSet, Run[]> = { wasm: [], js: [] };
    const lammpsRuns: number[] = [];
    const lammpsSettings: string[] = [];
    let lammpsSkipped: string | null = null;
    for (let r = 0; r < repeats; r++) {
      for (const set of SETS) {
        useKernels(set);
        const sys = systemFromConfiguration(readExtendedXyz(file), qModel(Q));
        const v = maxwellBoltzmannVelocities(N, 0.8, createRandom(4928459));
        const t = performance.now();
        const cpu = process.cpuUsage();
        const nve = runNve(sys, v, { dt, steps });
        const seconds = (performance.now() - t) / 1000;
        const used = process.cpuUsage(cpu);
        const cpuSeconds = (used.user + used.system) / 1e6;
        runs[set].push({
          seconds, atomStepsPerSecond: (N * steps) / seconds, cpuSeconds, atomStepsPerCpuSecond: (N * steps) / cpuSeconds,
          neighborBuilds: sys.neighbors.builds, cellSearches: sys.neighbors.searches, energyDrift: nve.energyDrift, finalTemperature: nve.finalTemperature,
        });
      }
      useKernels('wasm');
      const l = lammpsNve(file, Q, steps);
      if ('atomStepsPerSecond' in l) { lammpsRuns.push(l.atomStepsPerSecond); lammpsSettings.push(l.settings); } else lammpsSkipped = l.skipped;
    }
    const best = (set: KernelSet) => (runs[set].length > 0 ? Math.max(...runs[set].map((x) => x.atomStepsPerSecond)) : null);
    const lammpsBest = lammpsRuns.length > 0 ? Math.max(...lammpsRuns) : null;
    out[`Q${Q}`] = {
      density, densityMode: mode, start: NVE_ONLY ? 'liquid (bench/liquid.ts)' : 'prepared glass',
      prepare: prepared, forces,
      nve: { steps, dt, skin: dynamicsSkin(dt, 0.8), runs, best: { wasm: best('wasm'), js: best('js') } },
      lammps: lammpsSkipped !== null ? { skipped: lammpsSkipped } : { atomStepsPerSecond: lammpsRuns, settings: lammpsSettings, best: lammpsBest },
      speedRatioVsLammps: lammpsBest !== null ? { wasm: best('wasm')! / lammpsBest, js: SETS.includes('js') ? best('js')! / lammpsBest : null } : null,
    };
    process.stderr.write(`Q=${Q}: ${JSON.stringify(out[`Q${Q}`])}\n`);
  }
  return out;
}
