/**
 * Athermal quasistatic shear against LAMMPS on the same glasses: strain steps per second and their
 * ratio, and σ_xy along the two paths before the first plastic event (same function of γ there).
 *
 * For Q = 10 and 240, a glass of N particles at its zero-pressure density (the full `prepare`
 * protocol) is sheared x += γ·y in STEPS steps of 1e-4 to max|F| < 1e-10, by qglass (`runAqs`,
 * no event refinement, as LAMMPS does none) and by ../shared/peers/lammps/aqs.sh (CG with quadratic
 * line search after each `change_box ... remap`), one after the other so that both see the same
 * machine load. Times: qglass from the first to the last stored state (the γ = 0 linear response
 * and set-up excluded), LAMMPS its own minimisation loop time.
 *
 * Size: QGLASS_BENCH_AQS_N (default 500) and QGLASS_BENCH_AQS_STEPS (default 50); the full
 * comparison is N = 2048 with 200 steps (γ to 0.02). QGLASS_BENCH_AQS_Q picks the Q values
 * (default 10,240). The result keeps both paths step by step up to the first event, with the
 * difference of σ_xy in units of μ_xy·γ and of E/N, which tells a systematic offset (growing
 * smoothly) from a branch (one path jumping to another minimum).
 */
import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PREPARE, prepareGlass } from '../src/engine/prepare.ts';
import { systemFromConfiguration, systemToConfiguration } from '../src/engine/system.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { detectEvents, eventTolerances, runAqs } from '../src/measure/aqs.ts';
import { boxVolume } from '../src/space/box.ts';
import { qModel } from '../src/model/q-model.ts';
import { resolveDensity } from '../src/model/presets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.QGLASS_BENCH_AQS_N ?? 500);
const STEPS = Number(process.env.QGLASS_BENCH_AQS_STEPS ?? 50);
const QS = (process.env.QGLASS_BENCH_AQS_Q ?? '10,240').split(',').map(Number);
const DGAMMA = 1e-4;
const FTOL = 1e-10;
const script = join(here, '..', '..', 'shared', 'peers', 'lammps', 'aqs.sh');

interface LammpsPath { gamma: number[]; sigmaXy: number[]; energyPerParticle: number[]; seconds: number }

function lammpsAqs(xyz: string, Q: number): LammpsPath | { skipped: string } {
  if (spawnSync('sh', ['-c', 'command -v lmp']).status !== 0) return { skipped: 'lmp not installed (apt-get install -y lammps)' };
  const r = spawnSync('bash', [script, xyz, String(Q), String(DGAMMA), String(STEPS), String(FTOL)], { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `LAMMPS failed: ${(r.stderr ?? '').slice(-400)}` };
  const lines = r.stdout.trim().split('\n');
  const last = lines.pop()!.split(/\s+/);
  const rows = lines.map((l) => l.trim().split(/\s+/).map(Number));
  return { gamma: rows.map((x) => x[1]), sigmaXy: rows.map((x) => x[2]), energyPerParticle: rows.map((x) => x[3]), seconds: Number(last[1]) };
}

export async function run(): Promise<object> {
  const out: Record<string, unknown> = { N, steps: STEPS, dgamma: DGAMMA, ftol: FTOL };
  const cache = join(here, 'cache');
  mkdirSync(cache, { recursive: true });
  for (const Q of QS) {
    const { density, mode } = resolveDensity('zero-pressure', Q);
    const file = join(cache, `aqs-glass-Q${Q}-N${N}-seed1.xyz`);
    const prep = prepareGlass({ ...DEFAULT_PREPARE, Q, N, density, seed: 1 });
    writeExtendedXyz(file, systemToConfiguration(prep.system, { Q, density, densityMode: mode, seed: 1 }));
    const sys = systemFromConfiguration(readExtendedXyz(file), qModel(Q));

    let tFirst = 0, tLast = 0;
    const r = runAqs(sys, {
      plane: 'xy', maxStrain: STEPS * DGAMMA, step: DGAMMA, ftol: FTOL, refineDepth: 0,
      onState: (p) => { const t = performance.now(); if (p.gamma === 0) tFirst = t; tLast = t; },
    });
    const seconds = (tLast - tFirst) / 1000;
    const mu = r.moduli[0].mu;
    const lmp = lammpsAqs(file, Q);
    const ours = {
      seconds, stepsPerSecond: STEPS / seconds, events: r.events.length, firstEvent: r.events[0]?.gamma ?? null,
      predicted: r.cost.predicted, minimised: r.cost.minimised, forceEvaluations: r.cost.forceEvaluations,
      linearSolveIterations: r.cost.linearSolveIterations, muXy: mu,
    };
    if ('skipped' in lmp) { out[`Q${Q}`] = { qglass: ours, lammps: lmp }; continue; }
    // σ_xy on the common grid before the first event of either path, both found by the same test
    // (energy released beyond the elastic work; a stress drop alone misses events that raise σ_xy)
    const volume = boxVolume(sys.box);
    const lmpEvents = detectEvents(lmp.gamma, lmp.sigmaXy, lmp.energyPerParticle.map((e) => e * N), volume, eventTolerances(N));
    const lmpFirst = lmpEvents[0] ?? lmp.gamma.length;
    let worst = 0, compared = 0;
    const steps = [];
    for (let k = 1; k < Math.min(lmpFirst, r.path.length); k++) {
      const p = r.path[k];
      if (r.events.length > 0 && p.gamma >= r.events[0].gamma) break;
      if (Math.abs(p.gamma - lmp.gamma[k]) > 1e-12) break;
      const ofMuGamma = (p.stress[5] - lmp.sigmaXy[k]) / (Math.abs(mu) * p.gamma);
      worst = Math.max(worst, Math.abs(ofMuGamma));
      steps.push({ gamma: p.gamma, sigmaXy: p.stress[5], sigmaXyLammps: lmp.sigmaXy[k], ofMuGamma, energyPerParticle: p.energyPerParticle, energyDifference: p.energyPerParticle - lmp.energyPerParticle[k] });
      compared++;
    }
    out[`Q${Q}`] = {
      qglass: ours,
      lammps: { seconds: lmp.seconds, stepsPerSecond: STEPS / lmp.seconds, firstEvent: lmpFirst < lmp.gamma.length ? lmp.gamma[lmpFirst] : null, events: lmpEvents.length },
      speedRatio: (STEPS / seconds) / (STEPS / lmp.seconds),
      sigmaXy0: { qglass: r.path[0].stress[5], lammps: lmp.sigmaXy[0] },
      beforeFirstEvent: { compared, worstOfMuGamma: worst, steps },
    };
    process.stderr.write(`  Q = ${Q}: ${JSON.stringify(out[`Q${Q}`])}\n`);
  }
  return out;
}
