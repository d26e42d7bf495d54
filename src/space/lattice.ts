import { checkParticleCount } from '../model/limits.ts';
/** FCC starting lattices: N = 4k³ particles in a cubic box of k³ conventional cells. */

export function fccCellsFor(n: number): number {
  checkParticleCount(n);
  const k = Math.round(Math.cbrt(n / 4));
  if (!Number.isInteger(n) || n <= 0 || 4 * k ** 3 !== n) {
    const lo = Math.max(1, Math.floor(Math.cbrt(n / 4)));
    const options = [lo, lo + 1].map((c) => 4 * c ** 3);
    const nearest = options.reduce((a, b) => (Math.abs(a - n) <= Math.abs(b - n) ? a : b));
    throw new RangeError(
      `N must be 4·k³ (an FCC lattice of k³ cells); ${n} is not. Nearest valid N: ${nearest} (valid: ${options.join(', ')})`,
    );
  }
  return k;
}

/** Positions of a k×k×k FCC lattice filling a cube of side length. */
export function fccPositions(k: number, length: number): Float64Array {
  const a = length / k;
  const basis = [0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5];
  const pos = new Float64Array(12 * k ** 3);
  let p = 0;
  for (let ix = 0; ix < k; ix++) for (let iy = 0; iy < k; iy++) for (let iz = 0; iz < k; iz++) {
    for (let b = 0; b < 4; b++) {
      pos[p++] = (ix + 0.25 + basis[3 * b]) * a;
      pos[p++] = (iy + 0.25 + basis[3 * b + 1]) * a;
      pos[p++] = (iz + 0.25 + basis[3 * b + 2]) * a;
    }
  }
  return pos;
}
