/**
 * Extended XYZ, the configuration format (docs/file-formats.md).
 *
 * Written:
 *   N
 *   Lattice="lx 0 0 xy ly 0 xz yz lz" Properties=species:S:1:pos:R:3 pbc="T T T" Q=240 ...
 *   H x y z        (small)
 *   He x y z       (large)
 *
 * Species encoding: the chemical symbols of Z = 1 and Z = 2, i.e. H = small, He = large. They match
 * the integer `Z` convention (1 = small, 2 = large), ASE's reader accepts only chemical symbols in
 * `species`, and OVITO maps `species` to its particle types. One column only: OVITO maps `species`
 * and `type` to the same property, so writing both would clash there.
 * Lattice lists the cell vectors a, b, c (ASE/OVITO order). Numbers are printed in the shortest form
 * that parses back to the same float64, so a written file reads back bit for bit. Metadata strings
 * are always quoted, numbers and booleans (T/F) never: a quoted value reads back as a string.
 *
 * Read: a `species` column with S/L or H/He, or an integer `Z` or `type` column with 1 = small and
 * 2 = large (several may be present if they agree); `pos`; other columns are ignored. Files written
 * by ASE read fine. A cell that is not upper triangular is rotated (with the positions) into the
 * upper-triangular form of Box.
 */
import type { Configuration, MetaValue } from '../model/configuration.ts';
import type { Box } from '../space/box.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { FileFormatError, readInputFile } from './format-error.ts';

/** Written symbol per species index (0 = small, 1 = large). */
const SPECIES_SYMBOLS = ['H', 'He'] as const;
/** Accepted `species` labels (case-insensitive) → species index. */
const SPECIES_LABELS: Readonly<Record<string, number>> = { s: 0, l: 1, h: 0, he: 1 };
/** Integer species columns, in order of preference; values 1 = small, 2 = large. */
const INTEGER_SPECIES_COLUMNS = ['Z', 'type'] as const;
/** Comment-line keys with a fixed meaning; metadata may not use them. */
const RESERVED_KEYS = new Set(['lattice', 'properties', 'pbc']);

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT_RE = /^[+-]?\d+$/;
const SAFE_KEY_RE = /^[^\s="'\\{}[\]]+$/;

// ---------------------------------------------------------------------------------------------
// Writing

export function formatExtendedXyz(conf: Configuration): string {
  const { box, positions, species } = conf;
  const n = species.length;
  if (n === 0) throw new RangeError('formatExtendedXyz: the configuration has no particles');
  if (positions.length !== 3 * n) {
    throw new RangeError(`formatExtendedXyz: ${positions.length} coordinates for ${n} particles (expected ${3 * n})`);
  }
  for (const [k, v] of Object.entries(box)) {
    if (!Number.isFinite(v)) throw new RangeError(`formatExtendedXyz: box.${k} is ${v}`);
  }
  if (!(box.lx > 0 && box.ly > 0 && box.lz > 0)) throw new RangeError('formatExtendedXyz: box lengths must be positive');
  const lattice = [box.lx, 0, 0, box.xy, box.ly, 0, box.xz, box.yz, box.lz].map(formatNumber).join(' ');
  const header = [`Lattice="${lattice}"`, 'Properties=species:S:1:pos:R:3', 'pbc="T T T"'];
  for (const [key, value] of Object.entries(conf.meta)) header.push(`${checkMetaKey(key)}=${formatMetaValue(key, value)}`);

  const lines = new Array<string>(n + 3);
  lines[0] = String(n);
  lines[1] = header.join(' ');
  for (let i = 0; i < n; i++) {
    const s = species[i];
    if (s !== 0 && s !== 1) throw new RangeError(`formatExtendedXyz: species[${i}] = ${s}; must be 0 (small) or 1 (large)`);
    const x = positions[3 * i], y = positions[3 * i + 1], z = positions[3 * i + 2];
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) {
      throw new RangeError(`formatExtendedXyz: particle ${i} has a non-finite position (${x}, ${y}, ${z})`);
    }
    lines[i + 2] = `${SPECIES_SYMBOLS[s]} ${formatNumber(x)} ${formatNumber(y)} ${formatNumber(z)}`;
  }
  lines[n + 2] = '';
  return lines.join('\n');
}

export function writeExtendedXyz(path: string, conf: Configuration): void {
  writeFileAtomic(path, formatExtendedXyz(conf));
}

/** Shortest decimal that parses back to the same float64; −0 keeps its sign, non-finite as Python spells it. */
function formatNumber(x: number): string {
  if (Object.is(x, -0)) return '-0';
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return String(x);
}

function checkMetaKey(key: string): string {
  if (!SAFE_KEY_RE.test(key)) {
    throw new RangeError(`extended XYZ metadata key '${key}' must be non-empty without spaces, '=', quotes, backslashes or brackets`);
  }
  if (RESERVED_KEYS.has(key.toLowerCase())) throw new RangeError(`metadata key '${key}' is reserved by the extended XYZ format`);
  return key;
}

function formatMetaValue(key: string, value: MetaValue): string {
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (typeof value !== 'string') throw new RangeError(`metadata '${key}' has unsupported type ${typeof value}`);
  if (/[\r\n]/.test(value)) throw new RangeError(`metadata '${key}' contains a line break, which the one-line header cannot hold`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// ---------------------------------------------------------------------------------------------
// Reading

export function readExtendedXyz(path: string): Configuration {
  return parseExtendedXyz(readInputFile(path).toString('utf8'), path);
}

interface Column {
  name: string;
  type: string;
  /** Index of the first field of this property in an atom line. */
  start: number;
}

export function parseExtendedXyz(text: string, source = '<string>'): Configuration {
  const fail = (line: number | undefined, msg: string): never => {
    throw new FileFormatError(source, line, msg);
  };
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let k = 0; k < lines.length; k++) if (lines[k].endsWith('\r')) lines[k] = lines[k].slice(0, -1);

  if (lines.length === 0 || lines[0].trim() === '') fail(1, 'expected the number of atoms on the first line; the file is empty or the line is blank');
  const countText = lines[0].trim();
  if (!/^\d+$/.test(countText)) fail(1, `expected the number of atoms on the first line, found '${clip(countText)}'`);
  const n = Number(countText);
  if (n === 0 || !Number.isSafeInteger(n)) fail(1, `the atom count must be a positive integer; found ${countText}`);
  if (lines.length < 2) fail(2, 'the file ends before the comment line (Lattice=..., Properties=...)');

  // Comment line: Lattice, Properties, pbc and metadata.
  const pairs = parseKeyValues(lines[1], (msg) => fail(2, msg));
  let latticeText: string | undefined;
  let propertiesText = 'species:S:1:pos:R:3';
  let pbcText: string | undefined;
  const meta: Record<string, MetaValue> = {};
  for (const { key, value, quoted } of pairs) {
    const lower = key.toLowerCase();
    if (lower === 'lattice') latticeText = value;
    else if (lower === 'properties') propertiesText = value;
    else if (lower === 'pbc') pbcText = value;
    else meta[key] = quoted ? value : inferValue(value);
  }
  if (latticeText === undefined) fail(2, 'no Lattice="ax ay az bx by bz cx cy cz" on the comment line: qglass needs the periodic cell');
  const lattice = latticeText!.split(/[\s,]+/).filter((t) => t !== '');
  if (lattice.length !== 9 || !lattice.every((t) => FLOAT_RE.test(t))) {
    fail(2, `Lattice must hold 9 numbers (cell vectors a, b, c); found "${clip(latticeText!)}"`);
  }
  if (pbcText !== undefined) {
    const flags = pbcText.split(/[\s,]+/).filter((t) => t !== '');
    if (flags.length !== 3 || !flags.every((f) => /^(T|True|true|1|F|False|false|0)$/.test(f))) {
      fail(2, `pbc must be three flags like "T T T"; found "${clip(pbcText)}"`);
    }
    if (!flags.every((f) => /^(T|True|true|1)$/.test(f))) {
      fail(2, `pbc="${pbcText}": qglass handles fully periodic boxes only; every direction must be T`);
    }
  }

  // Properties=name:type:ncols:...
  const fields = propertiesText.split(':');
  if (fields.length % 3 !== 0 || fields.length === 0) fail(2, `Properties must be name:type:columns triples; found '${clip(propertiesText)}'`);
  const columns = new Map<string, Column & { ncols: number }>();
  let width = 0;
  for (let k = 0; k < fields.length; k += 3) {
    const [name, type, colsText] = [fields[k], fields[k + 1], fields[k + 2]];
    if (!/^[RISL]$/.test(type)) fail(2, `Properties: column '${name}' has type '${type}'; must be R, I, S or L`);
    if (!/^[1-9]\d*$/.test(colsText)) fail(2, `Properties: column '${name}' has a column count '${colsText}'; must be a positive integer`);
    if (columns.has(name)) fail(2, `Properties: column '${name}' is declared twice`);
    columns.set(name, { name, type, start: width, ncols: Number(colsText) });
    width += Number(colsText);
  }
  const pos = columns.get('pos');
  if (!pos || pos.type !== 'R' || pos.ncols !== 3) fail(2, `Properties must contain pos:R:3 (the positions); found '${clip(propertiesText)}'`);
  const labelColumn = columns.get('species');
  if (labelColumn && (labelColumn.type !== 'S' || labelColumn.ncols !== 1)) fail(2, `Properties: species must be species:S:1; found ${labelColumn.name}:${labelColumn.type}:${labelColumn.ncols}`);
  const intColumns: Column[] = [];
  for (const name of INTEGER_SPECIES_COLUMNS) {
    const c = columns.get(name);
    if (!c) continue;
    if (c.type !== 'I' || c.ncols !== 1) fail(2, `Properties: ${name} must be ${name}:I:1 (1 = small, 2 = large); found ${name}:${c.type}:${c.ncols}`);
    intColumns.push(c);
  }
  if (!labelColumn && intColumns.length === 0) {
    fail(2, `Properties has no species column: give species:S:1 (S/L or H/He) or an integer Z:I:1 or type:I:1 column (1 = small, 2 = large); found '${clip(propertiesText)}'`);
  }
  const propertyList = [...columns.values()].map((c) => `${c.name}:${c.type}:${c.ncols}`).join(' ');

  // Atom lines.
  const positions = new Float64Array(3 * n);
  const species = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const lineNo = i + 3;
    const line = lines[i + 2];
    if (line === undefined || (line.trim() === '' && blankFrom(lines, i + 2))) {
      fail(lineNo, `the file ends after ${i} of the ${n} atoms declared on line 1 (truncated file?)`);
    }
    const f = line!.trim().split(/\s+/);
    if (f.length !== width || f[0] === '') {
      fail(lineNo, `expected ${width} columns (${propertyList}), found ${f[0] === '' ? 0 : f.length}`);
    }
    for (let d = 0; d < 3; d++) {
      const t = f[pos!.start + d];
      if (!FLOAT_RE.test(t)) fail(lineNo, `pos column ${d + 1} is not a number: '${clip(t)}'`);
      positions[3 * i + d] = Number(t);
    }
    let s = -1;
    if (labelColumn) {
      const label = f[labelColumn.start];
      s = SPECIES_LABELS[label.toLowerCase()] ?? -1;
      if (s < 0) fail(lineNo, `unknown species '${clip(label)}': use S or H for small, L or He for large`);
    }
    for (const c of intColumns) {
      const t = f[c.start];
      if (!INT_RE.test(t)) fail(lineNo, `${c.name} is not an integer: '${clip(t)}'`);
      const v = Number(t);
      if (v !== 1 && v !== 2) fail(lineNo, `${c.name} = ${t}; must be 1 (small) or 2 (large)`);
      if (s >= 0 && s !== v - 1) fail(lineNo, `${c.name} = ${t} disagrees with the species given in another column`);
      s = v - 1;
    }
    species[i] = s;
  }
  for (let k = n + 2; k < lines.length; k++) {
    if (lines[k].trim() !== '') {
      fail(k + 1, `unexpected content after the ${n} atoms declared on line 1 (a wrong atom count, or several frames: qglass reads one configuration per file)`);
    }
  }

  const box = toUpperTriangular(lattice.map(Number), positions, (msg) => fail(2, msg));
  return { box, positions, species, meta };
}

function blankFrom(lines: string[], from: number): boolean {
  for (let k = from; k < lines.length; k++) if (lines[k].trim() !== '') return false;
  return true;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Unquoted metadata: numbers (also Python's nan/inf), T/F booleans, anything else a string. */
export function inferValue(v: string): MetaValue {
  if (FLOAT_RE.test(v)) return Number(v);
  const lower = v.toLowerCase();
  if (lower === 'nan' || lower === '+nan' || lower === '-nan') return NaN;
  if (/^\+?inf(inity)?$/.test(lower)) return Infinity;
  if (/^-inf(inity)?$/.test(lower)) return -Infinity;
  if (v === 'T' || v === 'True' || v === 'true') return true;
  if (v === 'F' || v === 'False' || v === 'false') return false;
  return v;
}

/**
 * The comment line as key=value pairs, following ASE's rules: values may be delimited by "", '',
 * {} or []; a backslash escapes the next character; a key without '=' means true.
 */
function parseKeyValues(line: string, fail: (msg: string) => never): { key: string; value: string; quoted: boolean }[] {
  const closers: Record<string, string> = { '"': '"', "'": "'", '{': '}', '[': ']' };
  const out: { key: string; value: string; quoted: boolean }[] = [];
  let i = 0;
  const len = line.length;
  const isSpace = (c: string) => c === ' ' || c === '\t';
  // One token: an optionally delimited run up to whitespace (or '=' when reading a key).
  const token = (stopAtEquals: boolean): { text: string; quoted: boolean } => {
    let text = '';
    let quoted = false;
    while (i < len && !isSpace(line[i]) && !(stopAtEquals && line[i] === '=')) {
      const c = line[i];
      if (c === '\\' && i + 1 < len) {
        text += line[i + 1];
        i += 2;
      } else if (c in closers) {
        const close = closers[c];
        const open = i;
        quoted = true;
        i++;
        while (i < len && line[i] !== close) {
          if (line[i] === '\\' && i + 1 < len) i++;
          text += line[i];
          i++;
        }
        if (i >= len) fail(`unterminated ${c} starting at column ${open + 1} of the comment line`);
        i++;
      } else {
        text += c;
        i++;
      }
    }
    return { text, quoted };
  };
  while (i < len) {
    if (isSpace(line[i])) { i++; continue; }
    const key = token(true).text;
    if (key === '') fail(`a value without a key at column ${i + 1} of the comment line`);
    if (i < len && line[i] === '=') {
      i++;
      const { text, quoted } = token(false);
      out.push({ key, value: text, quoted });
    } else {
      out.push({ key, value: 'T', quoted: false });
    }
  }
  return out;
}

/**
 * The Box of cell vectors a, b, c. An upper-triangular cell (a along x, b in the xy plane, positive
 * diagonal) is taken as is, so positions stay bit-exact. Any other cell is rotated so that it becomes
 * upper triangular, and the positions with it (r → R r); a left-handed cell is mirrored as well, which
 * leaves every pair distance unchanged.
 */
function toUpperTriangular(m: number[], pos: Float64Array, fail: (msg: string) => never): Box {
  const [ax, ay, az, bx, by, bz, cx, cy, cz] = m;
  if (!m.every(Number.isFinite)) fail('Lattice contains a non-finite number');
  if (ay === 0 && az === 0 && bz === 0 && ax > 0 && by > 0 && cz > 0) {
    return { lx: ax, ly: by, lz: cz, xy: bx, xz: cx, yz: cy };
  }
  const la = Math.hypot(ax, ay, az), lb = Math.hypot(bx, by, bz), lc = Math.hypot(cx, cy, cz);
  const det = ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
  if (!(Math.abs(det) > 1e-12 * la * lb * lc)) fail('Lattice vectors are linearly dependent (the cell has no volume)');
  // Orthonormal frame: e1 along a, e2 in the (a, b) plane, e3 completing a frame in which c·e3 > 0.
  const e1 = [ax / la, ay / la, az / la];
  const xy = bx * e1[0] + by * e1[1] + bz * e1[2];
  const u = [bx - xy * e1[0], by - xy * e1[1], bz - xy * e1[2]];
  const ly = Math.hypot(u[0], u[1], u[2]);
  const e2 = [u[0] / ly, u[1] / ly, u[2] / ly];
  const sign = det > 0 ? 1 : -1;
  const e3 = [
    sign * (e1[1] * e2[2] - e1[2] * e2[1]),
    sign * (e1[2] * e2[0] - e1[0] * e2[2]),
    sign * (e1[0] * e2[1] - e1[1] * e2[0]),
  ];
  const dot = (e: number[], x: number, y: number, z: number) => e[0] * x + e[1] * y + e[2] * z;
  for (let k = 0; k < pos.length; k += 3) {
    const x = pos[k], y = pos[k + 1], z = pos[k + 2];
    pos[k] = dot(e1, x, y, z);
    pos[k + 1] = dot(e2, x, y, z);
    pos[k + 2] = dot(e3, x, y, z);
  }
  return { lx: la, xy, ly, xz: dot(e1, cx, cy, cz), yz: dot(e2, cx, cy, cz), lz: dot(e3, cx, cy, cz) };
}
