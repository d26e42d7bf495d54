/**
 * The soft-sphere controls on a small ensemble: harmonic and Hertzian packings at pressures from
 * 1e-1 to 1e-4 (p/K, G/K, Z, rattlers, packing fraction; fitted exponents of G/K against p/K and of
 * Z − 6 against p below p = 1e-2), and repulsive-q glasses at the paper's six Q at a fixed density
 * (p/K against 3/(Q + 3), G/K). Sizes from QGLASS_CONTROLS_N (default 256) and
 * QGLASS_CONTROLS_SAMPLES (default 4).
 */
import { preparePacking } from '../src/engine/packing.ts';
import { DEFAULT_PREPARE, prepareGlass } from '../src/engine/prepare.ts';
import { harmonicSpheres, hertzianSpheres } from '../src/model/soft-sphere.ts';
import { measureElastic } from '../src/measure/elastic.ts';
import { mechanicalBackbone } from '../src/measure/rattlers.ts';
import { bootstrapMean, powerLawExponent } from '../src/analysis/statistics.ts';

const N = Number(process.env.QGLASS_CONTROLS_N ?? 256);
const SAMPLES = Number(process.env.QGLASS_CONTROLS_SAMPLES ?? 4);
const PRESSURES = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4];
const QS = [10, 20, 40, 80, 160, 240];
const REPULSIVE_DENSITY = 0.6;


function softSpheres(make: typeof harmonicSpheres) {
  const rows = PRESSURES.map((pressure) => {
    const per = { pOverK: [] as number[], GOverK: [] as number[], Z: [] as number[], rattlerFraction: [] as number[], packingFraction: [] as number[], seconds: [] as number[] };
    for (let s = 0; s < SAMPLES; s++) {
      const packing = preparePacking({ law: make(), N, pressure, seed: 1000 + s });
      if (!packing.converged) throw new Error(`${make().name} p = ${pressure} seed ${1000 + s} did not converge`);
      const { system, rattlers } = mechanicalBackbone(packing.system);
      const e = measureElastic(system);
      per.pOverK.push(e.pOverK); per.GOverK.push(e.GOverK); per.Z.push(rattlers!.Z);
      per.rattlerFraction.push(rattlers!.rattlers / N); per.packingFraction.push(packing.packingFraction); per.seconds.push(packing.seconds);
    }
    return { pressure, ...Object.fromEntries(Object.entries(per).map(([k, v]) => [k, bootstrapMean(v)])) } as Record<string, unknown> & { pressure: number; pOverK: { value: number }; GOverK: { value: number }; Z: { value: number } };
  });
  const low = rows.filter((r) => r.pressure <= 1e-2);
  return {
    law: make().name, rows,
    exponents: {
      GOverK_vs_pOverK: powerLawExponent(low.map((r) => r.pOverK.value), low.map((r) => r.GOverK.value)),
      excessZ_vs_p: powerLawExponent(low.map((r) => r.pressure), low.map((r) => r.Z.value - 6)),
    },
  };
}

function repulsive() {
  return QS.map((Q) => {
    const pOverK: number[] = [], GOverK: number[] = [];
    for (let s = 0; s < Math.min(SAMPLES, 2); s++) {
      const r = prepareGlass({ ...DEFAULT_PREPARE, model: 'repulsive-q', Q, N, density: REPULSIVE_DENSITY, seed: 2000 + s });
      const e = measureElastic(r.system);
      pOverK.push(e.pOverK); GOverK.push(e.GOverK);
    }
    const m = bootstrapMean(pOverK);
    return { Q, density: REPULSIVE_DENSITY, pOverK: m, powerLaw: 3 / (Q + 3), relativeDeviation: m.value * (Q + 3) / 3 - 1, GOverK: bootstrapMean(GOverK) };
  });
}

export async function run(): Promise<object> {
  return { N, samples: SAMPLES, harmonic: softSpheres(harmonicSpheres), hertzian: softSpheres(hertzianSpheres), repulsiveQ: repulsive() };
}
