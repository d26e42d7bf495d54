/** Small glasses for tests: the full protocol with a short NVE run, cached per (Q, N, seed). */
import { DEFAULT_PREPARE, prepareGlass, type PrepareResult } from '../src/engine/prepare.ts';

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
