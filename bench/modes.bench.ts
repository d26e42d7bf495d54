/**
 * The lowest 20 vibrational modes at N = 2048 and N = 10976, Q = 240: wall and CPU time and Hessian
 * products of measureModes (thick-restart Lanczos), and in the same run scipy's eigsh (ARPACK,
 * shift-invert about σ = −1e-3·ω²_min, which='LM', k = 23 with the three translations) on the same
 * Hessian exported as Matrix Market (bench/eigsh.py, BLAS on one thread). Both must agree on the 20
 * eigenvalues. Glasses are prepared once and cached as extended XYZ in bench/cache/ (gitignored;
 * the same files as the elastic benchmark). The machine is shared: the load average is recorded,
 * and CPU time is the fairer comparison when it is high.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeForces } from '../src/engine/forces.ts';
import { minimize } from '../src/engine/minimize.ts';
import { DEFAULT_PREPARE, prepareGlass } from '../src/engine/prepare.ts';
import { systemFromConfiguration, type System } from '../src/engine/system.ts';
import { writeHessianMatrixMarket } from '../src/io/matrix-market.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { hessianBlockCount } from '../src/linalg/hessian.ts';
import { assembleHessian } from '../src/measure/hessian.ts';
import { measureModes } from '../src/measure/modes.ts';
import { qModel } from '../src/model/q-model.ts';
import { resolveDensity } from '../src/model/presets.ts';

const Q = 240;
const SEED = 1;
const COUNT = 20;
const here = dirname(fileURLToPath(import.meta.url));
const cacheDir = join(here, 'cache');

function density(): { density: number; source: string } {
  try {
    return { density: resolveDensity('zero-pressure', Q).density, source: 'zero-pressure table' };
  } catch {
    return { density: 0.63, source: 'fixed 0.63 (no zero-pressure table entry)' };
  }
}

/** A cached or freshly prepared glass (a quench stopped as stalled is resumed, as in elastic.bench.ts). */
function glass(N: number, rho: number): { sys: System; prepareSeconds: number | null } {
  const path = join(cacheDir, `glass-Q${Q}-N${N}-seed${SEED}-rho${rho}.xyz`);
  if (existsSync(path)) return { sys: systemFromConfiguration(readExtendedXyz(path), qModel(Q)), prepareSeconds: null };
  const t0 = performance.now();
  const r = prepareGlass({ ...DEFAULT_PREPARE, Q, N, density: rho, seed: SEED });
  let quench = r.quench;
  let quenchResumptions = 0;
  while (!quench.converged && quenchResumptions < 5) {
    quench = minimize(r.system, { ftol: DEFAULT_PREPARE.ftol });
    quenchResumptions++;
  }
  if (!quench.converged) throw new Error(`N = ${N}: quench did not converge (${JSON.stringify(quench)})`);
  mkdirSync(cacheDir, { recursive: true });
  writeExtendedXyz(path, { box: r.system.box, positions: r.system.positions, species: r.system.species, meta: { Q, density: rho, seed: SEED, quenchResumptions } });
  return { sys: r.system, prepareSeconds: (performance.now() - t0) / 1000 };
}

const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

export async function run(): Promise<object> {
  const rho = density();
  const measurements: object[] = [];
  for (const N of [2048, 10976]) {
    process.stderr.write(`  N = ${N}: glass at density ${rho.density} (${rho.source}) ...\n`);
    const { sys, prepareSeconds } = glass(N, rho.density);
    const load = loadavg()[0];

    computeForces(sys);
    const c0 = cpuSeconds();
    const ours = measureModes(sys, { count: COUNT });
    const oursCpu = cpuSeconds() - c0;
    process.stderr.write(`  N = ${N}: Lanczos ${ours.timings.eigensolver.toFixed(2)} s, ${ours.matvecs} products; eigsh ...\n`);

    const mtx = join(cacheDir, `hessian-Q${Q}-N${N}-seed${SEED}.mtx`);
    const json = join(cacheDir, `eigsh-Q${Q}-N${N}-seed${SEED}.json`);
    const H = assembleHessian(sys);
    writeHessianMatrixMarket(mtx, H, `Q=${Q} N=${N} seed=${SEED} density=${rho.density}`);
    const sigma = -1e-3 * ours.omega2[0];
    const py = spawnSync('python3', [join(here, 'eigsh.py'), mtx, '--k', String(COUNT + 3), `--sigma=${sigma}`, '--out', json], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`bench/eigsh.py failed (${py.status}): ${py.stderr}`);
    const ref = JSON.parse(readFileSync(json, 'utf8'));
    unlinkSync(mtx);
    const refValues: number[] = ref.values.slice(3);
    const agreement = Math.max(...refValues.map((v, k) => Math.abs(ours.omega2[k] - v) / v));
    const loadAfter = loadavg()[0];

    measurements.push({
      N, Q, density: rho.density, densitySource: rho.source, prepareSeconds,
      hessianBlocks: hessianBlockCount(H),
      loadAverage: { before: load, after: loadAfter },
      lanczos: {
        wallSeconds: { hessian: ours.timings.hessian, eigensolver: ours.timings.eigensolver, total: ours.timings.total },
        cpuSeconds: oursCpu,
        matvecs: ours.matvecs, iterations: ours.iterations, restarts: ours.restarts, blockSize: ours.blockSize, runs: ours.runs,
        converged: ours.converged, tolerance: ours.tolerance, maxResidual: Math.max(...ours.residual),
        omega2: ours.omega2, participation: ours.participation,
      },
      eigsh: {
        wallSeconds: { eigsh: ref.seconds.eigsh, lu: ref.seconds.lu, arpack: ref.seconds.arpack, readMatrix: ref.seconds.read },
        cpuSeconds: ref.seconds.eigshCpu,
        solves: ref.solves, luFill: ref.luFill, sigma, k: ref.k, scipy: ref.scipy,
        maxResidual: Math.max(...ref.residuals.slice(3)), translationEigenvalues: ref.values.slice(0, 3),
      },
      maxRelativeEigenvalueDifference: agreement,
      // > 1: Lanczos faster. Eigensolver alone on both sides (assembly/reading excluded).
      ratioWall: ref.seconds.eigsh / ours.timings.eigensolver,
      ratioCpu: ref.seconds.eigshCpu / oursCpu,
    });
  }
  return {
    measurements,
    note: 'ratioWall = eigsh wall / Lanczos eigensolver wall; ratioCpu = eigsh CPU / measureModes CPU (Hessian assembly included on our side); > 1: Lanczos faster. eigsh runs with single-threaded BLAS. The machine is shared: see loadAverage.',
  };
}
