/**
 * LAMMPS data files (atom_style atomic) so that LAMMPS can read our glasses with `read_data`:
 * type 1 = small, type 2 = large, both of mass 1; box from the origin, [0, lx] × [0, ly] × [0, lz],
 * plus an `xy xz yz` tilt line when the box is triclinic. Numbers are printed in their shortest
 * exact form, so LAMMPS reads the same float64 values.
 *
 * LAMMPS refuses tilts larger than half the box length (without `box tilt large`); such a box is
 * written with an equivalent, reduced set of cell vectors (c − k·b, c − m·a, b − m·a describe the same
 * periodic lattice). Positions outside the box are fine: read_data maps them back into it.
 */
import type { Configuration, MetaValue } from '../model/configuration.ts';
import type { Box } from '../space/box.ts';
import { writeFileAtomic } from './atomic-write.ts';

export function formatLammpsData(conf: Configuration): string {
  const { positions, species } = conf;
  const n = species.length;
  if (n === 0) throw new RangeError('formatLammpsData: the configuration has no particles');
  if (positions.length !== 3 * n) throw new RangeError(`formatLammpsData: ${positions.length} coordinates for ${n} particles (expected ${3 * n})`);
  const box = reduceTilts(conf.box);
  const { lx, ly, lz, xy, xz, yz } = box;
  if (![lx, ly, lz, xy, xz, yz].every(Number.isFinite) || !(lx > 0 && ly > 0 && lz > 0)) {
    throw new RangeError(`formatLammpsData: invalid box ${JSON.stringify(conf.box)}`);
  }
  const title = ['LAMMPS data file written by qglass (atom_style atomic; type 1 = small, type 2 = large)']
    .concat(Object.entries(conf.meta).map(([k, v]) => `${k}=${titleValue(v)}`)).join(' ');
  const lines = [
    title.replace(/[\r\n]+/g, ' '),
    '',
    `${n} atoms`,
    '2 atom types',
    '',
    `0 ${lx} xlo xhi`,
    `0 ${ly} ylo yhi`,
    `0 ${lz} zlo zhi`,
  ];
  if (xy !== 0 || xz !== 0 || yz !== 0) lines.push(`${xy} ${xz} ${yz} xy xz yz`);
  lines.push('', 'Masses', '', '1 1.0', '2 1.0', '', 'Atoms # atomic', '');
  for (let i = 0; i < n; i++) {
    const s = species[i];
    if (s !== 0 && s !== 1) throw new RangeError(`formatLammpsData: species[${i}] = ${s}; must be 0 (small) or 1 (large)`);
    const x = positions[3 * i], y = positions[3 * i + 1], z = positions[3 * i + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) {
      throw new RangeError(`formatLammpsData: particle ${i} has a non-finite position (${x}, ${y}, ${z})`);
    }
    lines.push(`${i + 1} ${s + 1} ${x} ${y} ${z}`);
  }
  lines.push('');
  return lines.join('\n');
}

export function writeLammpsData(path: string, conf: Configuration): void {
  writeFileAtomic(path, formatLammpsData(conf));
}

function titleValue(v: MetaValue): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  return String(v);
}

/** The same periodic lattice with every tilt within half the corresponding box length. */
function reduceTilts(box: Box): Box {
  let { xy, xz, yz } = box;
  const { lx, ly } = box;
  const k = Math.round(yz / ly); // c − k·b
  if (Math.abs(yz) > 0.5 * ly && k !== 0) { yz -= k * ly; xz -= k * xy; }
  const m = Math.round(xz / lx); // c − m·a
  if (Math.abs(xz) > 0.5 * lx && m !== 0) xz -= m * lx;
  const p = Math.round(xy / lx); // b − p·a
  if (Math.abs(xy) > 0.5 * lx && p !== 0) xy -= p * lx;
  return { ...box, xy, xz, yz };
}
