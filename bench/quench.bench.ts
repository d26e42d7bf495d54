/**
 * Quench minimisers compared on the same end-of-NVE configurations (the state `prepare` quenches):
 * force evaluations per iteration, iterations, wall and CPU time (CPU time is the one to compare on a
 * shared machine) and final max |F| for each method, all to
 * max |F| < 1e-10. Sizes: QGLASS_BENCH_N (default 500), QGLASS_BENCH_SAMPLES seeds per Q (default 3),
 * QGLASS_BENCH_Q (comma list, default 10,240). End-of-NVE states are cached in bench/cache/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PREPARE, prepareLiquid } from '../src/engine/prepare.ts';
import { minimize, minimizeFire, type MinimizeOptions, type FireOptions, type MinimizeResult } from '../src/engine/minimize.ts';
import { systemFromConfiguration, systemToConfiguration, type System } from '../src/engine/system.ts';
import { qModel } from '../src/model/q-model.ts';
import { resolveDensity } from '../src/model/presets.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.QGLASS_BENCH_N ?? 500);
const SAMPLES = Number(process.env.QGLASS_BENCH_SAMPLES ?? 3);
const QS = (process.env.QGLASS_BENCH_Q ?? '10,240').split(',').map(Number);
const FTOL = 1e-10;

type Variant = { name: string; run: (sys: System) => MinimizeResult };
const cg = (name: string, o: MinimizeOptions): Variant => ({ name, run: (sys) => minimize(sys, { ftol: FTOL, ...o }) });
const fire = (name: string, o: FireOptions): Variant => ({ name, run: (sys) => minimizeFire(sys, { ftol: FTOL, maxIterations: 150_000, ...o }) });

const VARIANTS: Variant[] = [
  cg('cg-pr, lineTol 0.01', { method: 'cg-pr', lineTol: 0.01 }),
  cg('cg-pr, lineTol 0.1', { method: 'cg-pr', lineTol: 0.1 }),
  cg('cg-pr, lineTol 0.3', { method: 'cg-pr', lineTol: 0.3 }),
  cg('cg-hz, lineTol 0.1', { method: 'cg-hz', lineTol: 0.1 }),
  cg('cg-hz, lineTol 0.3', { method: 'cg-hz', lineTol: 0.3 }),
  cg('lbfgs m=8, lineTol 0.3', { method: 'lbfgs', memory: 8, lineTol: 0.3 }),
  cg('lbfgs m=4, lineTol 0.9', { method: 'lbfgs', memory: 4, lineTol: 0.9 }),
  cg('lbfgs m=8, lineTol 0.9', { method: 'lbfgs', memory: 8, lineTol: 0.9 }),
  cg('lbfgs m=16, lineTol 0.9', { method: 'lbfgs', memory: 16, lineTol: 0.9 }),
  cg('lbfgs m=32, lineTol 0.9', { method: 'lbfgs', memory: 32, lineTol: 0.9 }),
  fire('fire', { variant: 'fire', maxStep: 0.1, dtMax: 0.05 }),
  fire('fire2', { variant: 'fire2', maxStep: 0.1, dtMax: 0.05 }),
];

/** End-of-NVE configuration of the default protocol at (Q, N, seed), cached as extended XYZ. */
function liquidFile(Q: number, seed: number): string {
  const cache = join(here, 'cache');
  mkdirSync(cache, { recursive: true });
  const file = join(cache, `liquid-Q${Q}-N${N}-seed${seed}.xyz`);
  if (!existsSync(file)) {
    const { density, mode } = resolveDensity('zero-pressure', Q);
    const liquid = prepareLiquid({ ...DEFAULT_PREPARE, Q, N, density, seed });
    writeExtendedXyz(file, systemToConfiguration(liquid.system, { Q, density, densityMode: mode, seed }));
  }
  return file;
}

export async function run(): Promise<object> {
  const only = process.env.QGLASS_BENCH_VARIANTS?.split(';');
  const variants = only ? VARIANTS.filter((v) => only.includes(v.name)) : VARIANTS;
  const out: Record<string, unknown> = { N, samples: SAMPLES, ftol: FTOL };
  for (const Q of QS) {
    const files = Array.from({ length: SAMPLES }, (_, s) => liquidFile(Q, s + 1));
    const rows = [];
    for (const v of variants) {
      const runs = files.map((file) => {
        const sys = systemFromConfiguration(readExtendedXyz(file), qModel(Q));
        const t = performance.now();
        const c = process.cpuUsage();
        const r = v.run(sys);
        const cpu = process.cpuUsage(c);
        const seconds = (performance.now() - t) / 1000;
        const cpuSeconds = (cpu.user + cpu.system) / 1e6;
        return { converged: r.converged, reason: r.reason, iterations: r.iterations, forceEvaluations: r.forceEvaluations, seconds, cpuSeconds, maxForce: r.maxForce, energyPerParticle: r.energy / N };
      });
      const sum = (k: 'iterations' | 'forceEvaluations' | 'seconds' | 'cpuSeconds') => runs.reduce((a, r) => a + r[k], 0);
      const row = {
        method: v.name,
        allConverged: runs.every((r) => r.converged),
        evaluationsPerIteration: sum('forceEvaluations') / sum('iterations'),
        meanIterations: sum('iterations') / runs.length,
        meanForceEvaluations: sum('forceEvaluations') / runs.length,
        meanSeconds: sum('seconds') / runs.length,
        meanCpuSeconds: sum('cpuSeconds') / runs.length,
        worstMaxForce: Math.max(...runs.map((r) => r.maxForce)),
        runs,
      };
      rows.push(row);
      process.stderr.write(`Q=${Q} ${v.name}: ${row.allConverged ? 'converged' : 'NOT CONVERGED'}, ${row.evaluationsPerIteration.toFixed(2)} evals/iter, ${row.meanIterations.toFixed(0)} iter, ${row.meanCpuSeconds.toFixed(2)} s CPU, max|F| ${row.worstMaxForce.toExponential(1)}\n`);
    }
    out[`Q${Q}`] = rows;
  }
  return out;
}
