/**
 * A configuration whose energy, forces or virial are not finite (coincident particles, or an
 * overlap so deep that r^−Q overflows) would give null numbers and a meaningless largest force;
 * this check turns it into an error naming the particles involved, with their nearest neighbour.
 */
import { minimumImage } from '../space/box.ts';
import { computeForces } from './forces.ts';
import type { System } from './system.ts';

/** Most particles a message lists. */
const LISTED = 6;

/**
 * Compute forces and throw unless energy, virial and every force component are finite.
 * describe(i) names particle i for the user (e.g. its line in the input file).
 */
export function assertFiniteForces(sys: System, describe: (i: number) => string = (i) => `particle ${i + 1}`): void {
  computeForces(sys);
  const f = sys.forces;
  const bad: number[] = [];
  let badCount = 0;
  for (let i = 0; i < f.length / 3; i++) {
    if (Number.isFinite(f[3 * i]) && Number.isFinite(f[3 * i + 1]) && Number.isFinite(f[3 * i + 2])) continue;
    badCount++;
    if (bad.length < LISTED) bad.push(i);
  }
  if (badCount === 0 && Number.isFinite(sys.energy) && Number.isFinite(sys.virial)) return;
  const what = [!Number.isFinite(sys.energy) && 'energy', !Number.isFinite(sys.virial) && 'virial (pressure, stress)', badCount > 0 && 'forces'].filter(Boolean).join(', ');
  const involved = bad.map((i) => {
    const { j, r } = nearest(sys, i);
    return `${describe(i)} is ${r.toPrecision(3)} λ from ${describe(j)}`;
  });
  throw new NonFiniteError(
    `the ${what} of this configuration ${what.includes(',') ? 'are' : 'is'} not finite` +
      (badCount > 0 ? `: ${badCount} particle(s) with non-finite forces, ${involved.join('; ')}${badCount > LISTED ? '; …' : ''}` : '') +
      '. Particles this close overlap beyond what the potential can represent: fix or remove them',
  );
}

/** Non-finite energy, forces or stress: bad input (exit code 2). */
export class NonFiniteError extends RangeError {}

/** Nearest other particle of i (minimum image), by a plain scan: this runs once, on an error. */
function nearest(sys: System, i: number): { j: number; r: number } {
  const p = sys.positions, d = new Float64Array(3);
  let best = -1, bestR2 = Infinity;
  for (let j = 0; j < p.length / 3; j++) {
    if (j === i) continue;
    d[0] = p[3 * j] - p[3 * i]; d[1] = p[3 * j + 1] - p[3 * i + 1]; d[2] = p[3 * j + 2] - p[3 * i + 2];
    minimumImage(sys.box, d, 0);
    const r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    if (r2 < bestR2) { bestR2 = r2; best = j; }
  }
  return { j: best, r: Math.sqrt(bestR2) };
}
