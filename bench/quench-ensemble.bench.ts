/**
 * Does the choice of minimiser bias the glasses? The same end-of-NVE liquids quenched by L-BFGS
 * (the default) and by Polak–Ribière+ CG reach different minima (the paths part); their ensembles
 * of E/N and p must be indistinguishable (Welch's t and two-sample Kolmogorov–Smirnov tests).
 * Sizes: QGLASS_BENCH_N (default 256), QGLASS_BENCH_SAMPLES liquids per Q (default 20),
 * QGLASS_BENCH_Q (default 10,240).
 */
import { DEFAULT_PREPARE, prepareLiquid } from '../src/engine/prepare.ts';
import { minimize, type DescentMethod } from '../src/engine/minimize.ts';
import { createSystem, virialPressure } from '../src/engine/system.ts';
import { resolveDensity } from '../src/model/presets.ts';
import { mean, std } from '../src/analysis/statistics.ts';
import { ksTest, welchTest } from './timestep.bench.ts';

const N = Number(process.env.QGLASS_BENCH_N ?? 256);
const SAMPLES = Number(process.env.QGLASS_BENCH_SAMPLES ?? 20);
const QS = (process.env.QGLASS_BENCH_Q ?? '10,240').split(',').map(Number);
const METHODS: Array<{ name: string; method: DescentMethod; lineTol: number }> = [
  { name: 'lbfgs', method: 'lbfgs', lineTol: 0.9 },
  { name: 'cg-pr', method: 'cg-pr', lineTol: 0.1 },
];

export async function run(): Promise<object> {
  const out: Record<string, unknown> = { N, samples: SAMPLES };
  for (const Q of QS) {
    const { density } = resolveDensity('zero-pressure', Q);
    const values: Record<string, { energyPerParticle: number[]; pressure: number[] }> = {};
    for (const m of METHODS) values[m.name] = { energyPerParticle: [], pressure: [] };
    for (let seed = 1; seed <= SAMPLES; seed++) {
      const liquid = prepareLiquid({ ...DEFAULT_PREPARE, Q, N, density, seed }).system;
      for (const m of METHODS) {
        const sys = createSystem(liquid.model, liquid.box, liquid.positions.slice(), liquid.species.slice(), liquid.neighbors.skin);
        const r = minimize(sys, { method: m.method, lineTol: m.lineTol });
        if (!r.converged) throw new Error(`Q=${Q} seed ${seed} ${m.name}: ${JSON.stringify(r)}`);
        values[m.name].energyPerParticle.push(r.energy / N);
        values[m.name].pressure.push(virialPressure(sys));
      }
      process.stderr.write(`Q=${Q} seed ${seed}: ${METHODS.map((m) => `${m.name} E/N ${values[m.name].energyPerParticle.at(-1)!.toFixed(6)}`).join(', ')}\n`);
    }
    const compare = (q: 'energyPerParticle' | 'pressure') => {
      const a = values.lbfgs[q], b = values['cg-pr'][q];
      return {
        lbfgs: { mean: mean(a), standardError: std(a) / Math.sqrt(a.length) },
        cgPr: { mean: mean(b), standardError: std(b) / Math.sqrt(b.length) },
        welch: welchTest(a, b), ks: ksTest(a, b),
      };
    };
    out[`Q${Q}`] = { density, energyPerParticle: compare('energyPerParticle'), pressure: compare('pressure'), values };
  }
  return out;
}
