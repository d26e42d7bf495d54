/** Seeded random streams (xoroshiro128+ from pure-rand): one seed reproduces one sample bit for bit. */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box–Muller, both deviates used). */
  normal(): number;
  /** Uniform integer in [0, n). */
  below(n: number): number;
}

export function validateSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer in [0, 2^32 − 1]; got ${seed}`);
  }
}

export function createRandom(seed: number): Random {
  validateSeed(seed);
  const rng: RandomGenerator = xoroshiro128plus(seed | 0);
  let spare = NaN;
  return {
    uniform: () => uniformFloat64(rng),
    normal: () => {
      if (!Number.isNaN(spare)) {
        const v = spare;
        spare = NaN;
        return v;
      }
      let u = 0;
      while (u === 0) u = uniformFloat64(rng);
      const v = uniformFloat64(rng);
      const rad = Math.sqrt(-2 * Math.log(u));
      spare = rad * Math.sin(2 * Math.PI * v);
      return rad * Math.cos(2 * Math.PI * v);
    },
    below: (n: number) => uniformInt(rng, 0, n - 1),
  };
}

/** A 32-bit seed derived from several integers (splitmix-style mixing), e.g. (master seed, Q, index). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (Math.round(p * 1000) >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
