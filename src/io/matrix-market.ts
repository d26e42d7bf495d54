/**
 * Matrix Market coordinate files (https://math.nist.gov/MatrixMarket/formats.html) for sparse
 * symmetric matrices: the Hessian goes out to other tools (scipy.io.mmread, Octave, Julia) for
 * cross-checks, and comes back for tests. Symmetric storage keeps the lower triangle (row ≥ column,
 * 1-based). Values are written in JavaScript's shortest round-trip form, so a reader recovers
 * every float64 bit for bit.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { BlockHessian } from '../linalg/hessian.ts';
import { FileFormatError, readInputFile } from './format-error.ts';

/** A sparse matrix as coordinate triplets (0-based). */
export interface CoordinateMatrix {
  rows: number;
  cols: number;
  symmetric: boolean;
  row: Int32Array;
  col: Int32Array;
  value: Float64Array;
}

/** Lines are flushed to the file in chunks of about this many characters. */
const CHUNK_CHARS = 1 << 20;

/**
 * Write the 3n×3n block Hessian as `matrix coordinate real symmetric` (lower triangle, exact zeros
 * of stored blocks omitted). A comment line records `comment` (e.g. N, Q and the source file).
 */
export function writeHessianMatrixMarket(path: string, H: BlockHessian, comment = ''): { entries: number } {
  const { n, rowStart, colIndex, values } = H;
  let entries = 0;
  forEachLowerEntry(H, () => { entries++; });
  const fd = openSync(path, 'w');
  try {
    let buf = '%%MatrixMarket matrix coordinate real symmetric\n';
    for (const line of comment.split('\n')) if (line) buf += `% ${line}\n`;
    buf += `${3 * n} ${3 * n} ${entries}\n`;
    for (let i = 0; i < n; i++) {
      for (let k = rowStart[i]; k < rowStart[i + 1]; k++) {
        const j = colIndex[k];
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
          // block (i, j), j ≥ i, entry (3i+a, 3j+b): its mirror (3j+b, 3i+a) is in the lower triangle
          if (j === i && b < a) continue;
          const v = values[9 * k + 3 * a + b];
          if (v === 0) continue;
          buf += `${3 * j + b + 1} ${3 * i + a + 1} ${v}\n`;
        }
      }
      if (buf.length > CHUNK_CHARS) { writeSync(fd, buf); buf = ''; }
    }
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
  return { entries };
}

function forEachLowerEntry(H: BlockHessian, visit: () => void): void {
  const { n, rowStart, colIndex, values } = H;
  for (let i = 0; i < n; i++) {
    for (let k = rowStart[i]; k < rowStart[i + 1]; k++) {
      const j = colIndex[k];
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        if (j === i && b < a) continue;
        if (values[9 * k + 3 * a + b] !== 0) visit();
      }
    }
  }
}

/** Read a `matrix coordinate real general|symmetric` file (symmetric: the stored triangle only). */
export function readMatrixMarket(path: string): CoordinateMatrix {
  const lines = readInputFile(path).toString('utf8').split('\n');
  const header = lines[0]?.trim().toLowerCase().split(/\s+/) ?? [];
  if (header[0] !== '%%matrixmarket' || header[1] !== 'matrix' || header[2] !== 'coordinate' || header[3] !== 'real') {
    throw new FileFormatError(path, 1, `expected '%%MatrixMarket matrix coordinate real general|symmetric'; got '${lines[0]?.trim()}'`);
  }
  if (header[4] !== 'general' && header[4] !== 'symmetric') {
    throw new FileFormatError(path, 1, `only general and symmetric matrices are supported; got '${header[4]}'`);
  }
  let li = 1;
  while (li < lines.length && (lines[li].startsWith('%') || lines[li].trim() === '')) li++;
  const size = (lines[li] ?? '').trim().split(/\s+/).map(Number);
  if (size.length !== 3 || !size.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new FileFormatError(path, li + 1, `expected 'rows cols entries'; got '${lines[li]?.trim()}'`);
  }
  const [rows, cols, count] = size;
  const row = new Int32Array(count), col = new Int32Array(count), value = new Float64Array(count);
  let e = 0;
  for (li++; li < lines.length && e < count; li++) {
    const t = lines[li].trim();
    if (t === '' || t.startsWith('%')) continue;
    const parts = t.split(/\s+/);
    const r = Number(parts[0]), c = Number(parts[1]), v = Number(parts[2]);
    if (parts.length !== 3 || !Number.isInteger(r) || !Number.isInteger(c) || r < 1 || r > rows || c < 1 || c > cols || !Number.isFinite(v)) {
      throw new FileFormatError(path, li + 1, `expected 'row col value' with 1 ≤ row ≤ ${rows}, 1 ≤ col ≤ ${cols}; got '${t}'`);
    }
    row[e] = r - 1; col[e] = c - 1; value[e] = v;
    e++;
  }
  if (e !== count) throw new FileFormatError(path, undefined, `header announces ${count} entries but the file holds ${e}`);
  return { rows, cols, symmetric: header[4] === 'symmetric', row, col, value };
}
