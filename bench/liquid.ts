/**
 * A liquid-like configuration for kernel and dynamics benchmarks that need no prepared glass: an
 * fcc lattice at the Q-model's zero-pressure density, jiggled, relaxed by capped FIRE steps until
 * no hard overlaps remain (E/N < 0.5), spatially sorted. Neighbor counts and memory order are those
 * of a glass at that density; at T = 0.8 (the NVE benchmarks) the glass melts anyway.
 */
import { cubicBox } from '../src/space/box.ts';
import { fccCellsFor, fccPositions } from '../src/space/lattice.ts';
import { createSystem, sortSpatially, type System } from '../src/engine/system.ts';
import { minimizeFire } from '../src/engine/minimize.ts';
import { randomSpecies } from '../src/engine/prepare.ts';
import { qModel } from '../src/model/q-model.ts';
import { resolveDensity } from '../src/model/presets.ts';
import { createRandom } from '../src/util/random.ts';

export function benchLiquid(Q: number, N: number, seed = 1): System {
  const { density } = resolveDensity('zero-pressure', Q);
  const L = Math.cbrt(N / density);
  const rng = createRandom(seed);
  const pos = fccPositions(fccCellsFor(N), L);
  for (let i = 0; i < pos.length; i++) pos[i] += 0.15 * (rng.uniform() - 0.5);
  const sys = createSystem(qModel(Q), cubicBox(L), pos, randomSpecies(N, rng));
  minimizeFire(sys, { maxStep: 0.05, stopWhen: (s) => s.energy / N < 0.5, maxIterations: 3000 });
  sortSpatially(sys);
  return sys;
}
