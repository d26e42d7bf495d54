/**
 * LAMMPS data files (atom_style atomic), written so that LAMMPS can read our glasses with `read_data`
 * and read back from LAMMPS (`write_data`), OVITO or our own writer.
 *
 * Written:
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
import { FileFormatError, readInputFile } from './format-error.ts';
import { inferValue } from './xyz.ts';

/** First words of the title line of our own files; their key=value metadata is read back. */
const OWN_TITLE = 'LAMMPS data file written by qglass';

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
  const title = [`${OWN_TITLE} (atom_style atomic; type 1 = small, type 2 = large)`]
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

// ---------------------------------------------------------------------------------------------
// Reading

/** Sections that may follow the header, with their line count given the header's counts. */
const SECTION_LINES: Readonly<Record<string, (atoms: number, types: number) => number>> = {
  Masses: (_a, t) => t,
  Atoms: (a) => a,
  Velocities: (a) => a,
  'Pair Coeffs': (_a, t) => t,
  'PairIJ Coeffs': (_a, t) => (t * (t + 1)) / 2,
  'Atom Type Labels': (_a, t) => t,
};

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Read a LAMMPS data file of atom_style atomic: `id type x y z` per atom, optionally followed by the
 * image flags `ix iy iz` (positions are then unwrapped by them); type 1 = small, 2 = large. The box
 * [xlo, xhi] × [ylo, yhi] × [zlo, zhi] with optional `xy xz yz` tilts becomes the cell a = (lx, 0, 0),
 * b = (xy, ly, 0), c = (xz, yz, lz) with the positions shifted to the origin. Atoms are returned in
 * order of their ids (write_data may list them in any order). Metadata: the key=value pairs of the
 * title line of files written by qglass (Q, density, ...), none for other files.
 */
export function readLammpsData(path: string): Configuration {
  return parseLammpsData(readInputFile(path).toString('utf8'), path);
}

export function parseLammpsData(text: string, source = '<string>'): Configuration {
  const lines = text.split(/\r?\n/);
  const fail = (line: number | undefined, msg: string): never => { throw new FileFormatError(source, line, msg); };
  const strip = (l: string) => l.replace(/#.*/, '').trim();
  let atoms = -1, types = -1;
  const lo = [NaN, NaN, NaN], hi = [NaN, NaN, NaN];
  let tilt = [0, 0, 0];
  // Header: every non-blank line after the title up to the first section keyword.
  let li = 1;
  for (; li < lines.length; li++) {
    const t = strip(lines[li]);
    if (t === '') continue;
    if (sectionName(t) !== null) break;
    const f = t.split(/\s+/);
    const nums = (k: number) => f.slice(0, k).map((v) => (NUMBER_RE.test(v) ? Number(v) : fail(li + 1, `'${v}' is not a number in '${t}'`)));
    const keyword = f.slice(f.findIndex((v) => !NUMBER_RE.test(v))).join(' ');
    if (keyword === 'atoms') [atoms] = nums(1);
    else if (keyword === 'atom types') [types] = nums(1);
    else if (/^[xyz]lo [xyz]hi$/.test(keyword) && keyword[0] === keyword[4]) {
      const d = 'xyz'.indexOf(keyword[0]);
      [lo[d], hi[d]] = nums(2);
    } else if (keyword === 'xy xz yz') tilt = nums(3);
    else if (/^(bonds|angles|dihedrals|impropers|bond types|angle types|dihedral types|improper types|extra .*)$/.test(keyword)) {
      const [count] = nums(1);
      if (count !== 0) fail(li + 1, `'${t}': only atom_style atomic data files (no bonds, angles, ...) are read`);
    } else if (/^[abc]vec|abc origin$/.test(keyword)) {
      fail(li + 1, `'${t}': general triclinic boxes (avec/bvec/cvec) are not read; write the file with the restricted triclinic box (xy xz yz)`);
    } else {
      fail(li + 1, `unknown header line '${t}' (expected 'N atoms', 'N atom types', 'lo hi xlo xhi', ..., 'xy xz yz xy xz yz')`);
    }
  }
  if (!(Number.isInteger(atoms) && atoms > 0)) fail(undefined, "the header has no 'N atoms' line with N ≥ 1");
  if (!(Number.isInteger(types) && types >= 1)) fail(undefined, "the header has no 'N atom types' line");
  if (types > 2) fail(undefined, `${types} atom types; qglass reads type 1 = small and type 2 = large only`);
  for (let d = 0; d < 3; d++) {
    if (!(hi[d] > lo[d])) fail(undefined, `the header has no valid '${'xyz'[d]}lo ${'xyz'[d]}hi' line (need ${'xyz'[d]}hi > ${'xyz'[d]}lo)`);
  }
  const box: Box = { lx: hi[0] - lo[0], ly: hi[1] - lo[1], lz: hi[2] - lo[2], xy: tilt[0], xz: tilt[1], yz: tilt[2] };

  const positions = new Float64Array(3 * atoms);
  const species = new Uint8Array(atoms);
  const seen = new Uint8Array(atoms);
  let haveAtoms = false;
  while (li < lines.length) {
    const keyLine = li;
    const t = strip(lines[li]);
    if (t === '') { li++; continue; }
    const name = sectionName(t);
    if (name === null) fail(li + 1, `expected a section keyword (Masses, Atoms, Velocities, ...); got '${t}'`);
    const style = lines[li].match(/#\s*(\S+)/)?.[1];
    if (name === 'Atoms' && style !== undefined && style !== 'atomic') {
      fail(li + 1, `'Atoms # ${style}': only atom_style atomic is read (id type x y z [ix iy iz])`);
    }
    const count = SECTION_LINES[name!](atoms, types);
    li++;
    let got = 0;
    for (; li < lines.length && got < count; li++) {
      const row = strip(lines[li]);
      if (row === '') continue;
      if (sectionName(row) !== null) break;
      got++;
      if (name !== 'Atoms') continue;
      const f = row.split(/\s+/);
      if (f.length !== 5 && f.length !== 8) fail(li + 1, `expected 'id type x y z' or 'id type x y z ix iy iz' (atom_style atomic); got ${f.length} columns: '${row}'`);
      const v = f.map((x) => (NUMBER_RE.test(x) ? Number(x) : fail(li + 1, `'${x}' is not a number`)));
      const [id, type] = v;
      if (!Number.isInteger(id) || id < 1 || id > atoms) fail(li + 1, `atom id ${f[0]} is outside 1 … ${atoms} (ids must be 1 … N)`);
      if (type !== 1 && type !== 2) fail(li + 1, `atom type ${f[1]}; must be 1 (small) or 2 (large)`);
      if (seen[id - 1]) fail(li + 1, `atom id ${id} appears twice`);
      seen[id - 1] = 1;
      const [ix, iy, iz] = f.length === 8 ? v.slice(5) : [0, 0, 0];
      if (![ix, iy, iz].every(Number.isInteger)) fail(li + 1, `image flags must be integers; got '${f.slice(5).join(' ')}'`);
      const k = 3 * (id - 1);
      positions[k] = v[2] - lo[0] + ix * box.lx + iy * box.xy + iz * box.xz;
      positions[k + 1] = v[3] - lo[1] + iy * box.ly + iz * box.yz;
      positions[k + 2] = v[4] - lo[2] + iz * box.lz;
      species[id - 1] = type - 1;
    }
    if (got < count) {
      fail(li >= lines.length ? undefined : li + 1, `section '${name}' (line ${keyLine + 1}) holds ${got} of the ${count} lines the header announces (truncated file?)`);
    }
    if (name === 'Atoms') haveAtoms = true;
  }
  if (!haveAtoms) fail(undefined, "no 'Atoms' section");
  return { box, positions, species, meta: titleMetadata(lines[0] ?? '') };
}

function sectionName(line: string): string | null {
  for (const name of Object.keys(SECTION_LINES)) if (line === name) return name;
  return null;
}

/** key=value pairs of our own title line (values as in extended XYZ metadata). */
function titleMetadata(title: string): Record<string, MetaValue> {
  const meta: Record<string, MetaValue> = {};
  if (!title.startsWith(OWN_TITLE)) return meta;
  for (const m of title.matchAll(/(\S+?)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    meta[m[1]] = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : inferValue(m[2]);
  }
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Pair tables and a ready input script

/** One pair type of a `pair_style table` file. */
export interface PairTableSection {
  /** Section keyword (SS, SL, LL). */
  name: string;
  /** Inner and outer distance of the table; rhi is the pair's cutoff. */
  rlo: number;
  rhi: number;
}

/**
 * A `pair_style table` file: per section N points equally spaced in r² (keyword RSQ) from rlo to rhi,
 * each `i r φ(r) −φ′(r)` from `derivatives(section, r², out)` (out[0] = φ, out[1] = φ′, out[2] = φ″),
 * and `FPRIME` the exact force derivatives at both ends for LAMMPS's splines. The r values are computed
 * as LAMMPS recomputes them for RSQ tables, so that `pair_style table linear|spline N` with the same
 * N puts its internal nodes on these points: no interpolation of the file's values in between.
 */
export function formatPairTable(
  sections: readonly PairTableSection[], points: number,
  derivatives: (section: number, r2: number, out: Float64Array) => void, header: string,
): string {
  if (!(Number.isInteger(points) && points >= 2)) throw new RangeError(`a pair table needs an integer number of points ≥ 2; got ${points}`);
  const out = new Float64Array(4);
  const parts: string[] = [header.split('\n').map((l) => `# ${l}`).join('\n'), ''];
  sections.forEach(({ name, rlo, rhi }, t) => {
    if (!(rlo > 0 && rhi > rlo)) throw new RangeError(`pair table section ${name}: need 0 < rlo < rhi; got ${rlo}, ${rhi}`);
    derivatives(t, rlo * rlo, out);
    const fplo = -out[2];
    // φ″ at the cutoff itself, approached from inside (the law returns zeros at r ≥ cutoff)
    derivatives(t, rhi * rhi * (1 - 1e-15), out);
    const fphi = -out[2];
    const lines = new Array<string>(points);
    for (let i = 0; i < points; i++) {
      const r = Math.sqrt(rlo * rlo + ((rhi * rhi - rlo * rlo) * i) / (points - 1));
      derivatives(t, r * r, out);
      lines[i] = `${i + 1} ${r} ${out[0]} ${-out[1]}`;
    }
    parts.push(name, `N ${points} RSQ ${rlo} ${rhi} FPRIME ${fplo} ${fphi}`, '', lines.join('\n'), '');
  });
  return parts.join('\n');
}

/**
 * A LAMMPS input script that reads the data file and the pair table and prints the energy per
 * particle and the pressure at run 0 (lines `energyPerParticle V` and `pressure V`).
 */
export function formatLammpsInput(o: {
  comment: string; dataFile: string; tableFile: string; points: number; style: 'linear' | 'spline';
  coefficients: ReadonlyArray<{ i: number; j: number; section: string; cutoff: number }>; skin: number;
}): string {
  return [
    ...o.comment.split('\n').map((l) => `# ${l}`),
    'units lj',
    'atom_style atomic',
    'boundary p p p',
    `read_data ${o.dataFile}`,
    `pair_style table ${o.style} ${o.points}`,
    // φ vanishes (with φ′ and φ″) at the cutoff by construction: no shift
    'pair_modify shift no',
    ...o.coefficients.map((c) => `pair_coeff ${c.i} ${c.j} ${o.tableFile} ${c.section} ${c.cutoff}`),
    `neighbor ${o.skin} bin`,
    'thermo_style custom step atoms pe press',
    'thermo_modify norm no format float %.17g',
    'run 0',
    'print "energyPerParticle $(pe/atoms:%.17g)"',
    'print "pressure $(press:%.17g)"',
    '',
  ].join('\n');
}
