/**
 * The kernels side by side, TypeScript reference (js) against WebAssembly (wasm), on the same
 * configuration in one process: ns per listed pair for a force evaluation, ms per neighbor-list
 * build, ms per Hessian assembly from the pair table, ns per stored 3×3 block for H·z. N = QGLASS_BENCH_N (default 10976) at Q = 10 and 240 at
 * their zero-pressure densities, on a liquid-like configuration (bench/liquid.ts): per-pair and
 * per-block costs depend on the number of neighbors and the memory order, both as in a glass.
 * Rounds alternate js and wasm; the best round of each counts (CPU time, see bestOf).
 */
import { buildNeighborList } from '../src/space/neighbors.ts';
import { computeForces } from '../src/engine/forces.ts';
import { hessianBlockCount, hessianMultiply } from '../src/linalg/hessian.ts';
import { assembleHessian } from '../src/measure/hessian.ts';
import { buildPairTable } from '../src/engine/pair-table.ts';
import { createRandom } from '../src/util/random.ts';
import { benchLiquid } from './liquid.ts';
import { kernelArray, releaseArray, useKernels, type KernelSet } from '../src/util/kernels.ts';

const N = Number(process.env.QGLASS_BENCH_N ?? 10976);
const ROUNDS = 6;
const SETS: KernelSet[] = ['js', 'wasm'];

/**
 * Best time (ms) per call of fn over the rounds, per kernel set, alternating the sets. Time is the
 * process's CPU time (user + system), not wall time: on a shared machine other processes stretch
 * wall time but not the CPU time of this single-threaded loop (caches and memory bandwidth are
 * still shared, hence the best of several rounds).
 */
function bestOf(reps: number, fn: () => void): Record<KernelSet, number> {
  const best: Record<KernelSet, number> = { js: Infinity, wasm: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    for (const set of SETS) {
      useKernels(set);
      fn(); // warm-up (JIT, first-touch)
      const t = process.cpuUsage();
      for (let k = 0; k < reps; k++) fn();
      const used = process.cpuUsage(t);
      best[set] = Math.min(best[set], (used.user + used.system) / 1000 / reps);
    }
  }
  useKernels('wasm');
  return best;
}

function row(unit: string, js: number, wasm: number): Record<string, number | string> {
  return { unit, js: +js.toPrecision(4), wasm: +wasm.toPrecision(4), speedup: +(js / wasm).toFixed(2) };
}

export async function run(): Promise<object> {
  useKernels('wasm');
  const out: Record<string, unknown> = { N, rounds: ROUNDS, time: 'process CPU time, best round', configuration: 'bench/liquid.ts' };
  for (const Q of [10, 240]) {
    const sys = benchLiquid(Q, N);
    computeForces(sys);
    const listed = sys.neighbors.start[N];
    const force = bestOf(Q === 10 ? 50 : 30, () => computeForces(sys, false));
    const build = bestOf(10, () => buildNeighborList(sys.neighbors, sys.box, sys.positions, sys.species));
    const pairs = buildPairTable(sys);
    const assembly = bestOf(5, () => {
      const A = assembleHessian(sys, pairs);
      // given back at once: left to the collector, the kernel memory would grow during the rounds
      for (const a of [A.values, A.colIndex, A.rowStart]) releaseArray(a);
    });
    const H = assembleHessian(sys, pairs);
    const blocks = hessianBlockCount(H);
    const x = kernelArray(Float64Array, 3 * N), y = kernelArray(Float64Array, 3 * N);
    const rng = createRandom(2);
    for (let k = 0; k < x.length; k++) x[k] = rng.normal();
    const product = bestOf(20, () => hessianMultiply(H, x, y));
    out[`Q${Q}`] = {
      listedPairsPerAtom: +(listed / N).toFixed(2), blocks, skin: sys.neighbors.skin,
      force: row('ns per listed pair', (force.js * 1e6) / listed, (force.wasm * 1e6) / listed),
      neighborBuild: row('ms per build', build.js, build.wasm),
      hessianAssembly: row('ms per assembly', assembly.js, assembly.wasm),
      hessianProduct: row('ns per stored block', (product.js * 1e6) / blocks, (product.wasm * 1e6) / blocks),
    };
    process.stderr.write(`Q=${Q}: ${JSON.stringify(out[`Q${Q}`])}\n`);
  }
  return out;
}
