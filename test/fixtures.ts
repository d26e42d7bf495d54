/** Small glasses for tests: the full protocol with a short NVE run, cached per (Q, N, seed). */
import { DEFAULT_PREPARE, prepareGlass, randomSpecies, type PrepareResult } from '../src/engine/prepare.ts';
import { createSystem, type System } from '../src/engine/system.ts';
import type { PairLaw } from '../src/model/pair-law.ts';
import { cubicBox, deform, type Box } from '../src/space/box.ts';
import { fccCellsFor, fccPositions } from '../src/space/lattice.ts';
import { createRandom } from '../src/util/random.ts';

/** The shear the kernel tests deform boxes by (tilts xy, xz, yz all non-zero). */
export const TEST_SHEAR = [0, 0.07, -0.04, 0, 0, 0.05, 0, 0, 0];

/**
 * An fcc lattice of n particles at density rho with random species, each coordinate jiggled by up to
 * ±amplitude/2 (in a box sheared by TEST_SHEAR if asked): disordered, without relaxation.
 */
export function jiggledLattice(law: PairLaw, n: number, rho: number, seed: number, amplitude: number, shear = false): System {
  const L = Math.cbrt(n / rho);
  const rng = createRandom(seed);
  let box: Box = cubicBox(L);
  let pos = fccPositions(fccCellsFor(n), L);
  for (let i = 0; i < pos.length; i++) pos[i] += amplitude * (rng.uniform() - 0.5);
  if (shear) ({ box, pos } = deform(box, pos, TEST_SHEAR));
  return createSystem(law, box, pos, randomSpecies(n, rng));
}

const cache = new Map<string, PrepareResult>();

/** A quenched glass (max |F| < ftol) of N particles at density rho; nveTime 1 τ keeps tests fast. */
export function smallGlass(Q: number, N = 256, seed = 1, rho = Q <= 20 ? 0.55 : 0.62, ftol = 1e-11): PrepareResult {
  const key = `${Q}/${N}/${seed}/${rho}/${ftol}`;
  let r = cache.get(key);
  if (!r) {
    r = prepareGlass({ ...DEFAULT_PREPARE, Q, N, density: rho, seed, nveTime: 1, ftol });
    if (!r.quench.converged) throw new Error(`fixture glass did not converge: ${JSON.stringify(r.quench)}`);
    cache.set(key, r);
  }
  return r;
}
