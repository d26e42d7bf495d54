/**
 * NumPy .npy arrays (format 1.0) for eigenvectors and other arrays: little-endian '<f8', '<i4' or
 * '<f4', C order. The file is the magic "\x93NUMPY", version bytes, a little-endian uint16 header
 * length, a Python-literal header dict padded with spaces and a newline so that the data start at a
 * multiple of 64 bytes, then the raw data. Reading also accepts versions 2.0 and 3.0 (uint32 length).
 */
import { writeFileAtomic } from './atomic-write.ts';
import { FileFormatError, readInputFile } from './format-error.ts';

export type NpyData = Float64Array | Int32Array | Float32Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;

function descrOf(data: NpyData): string {
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Float32Array) return '<f4';
  throw new RangeError('npy: data must be a Float64Array, Int32Array or Float32Array');
}

export function formatNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const descr = descrOf(data);
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`npy: shape entries must be non-negative integers; got [${shape.join(', ')}]`);
    count *= d;
  }
  if (count !== data.length) throw new RangeError(`npy: shape [${shape.join(', ')}] holds ${count} elements but the data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1; // + the closing newline
  const headerLen = dict.length + 1 + ((ALIGN - (unpadded % ALIGN)) % ALIGN);
  if (headerLen > 0xffff) throw new RangeError('npy: header too long for format 1.0');
  const prefix = MAGIC.length + 4;
  const out = new Uint8Array(prefix + headerLen + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  out[8] = headerLen & 0xff; out[9] = headerLen >> 8;
  const header = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let k = 0; k < headerLen; k++) out[prefix + k] = header.charCodeAt(k);
  // Typed arrays use the platform's byte order; every platform Node runs on is little-endian.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + headerLen);
  return out;
}

export function writeNpy(path: string, data: NpyData, shape: readonly number[]): void {
  writeFileAtomic(path, formatNpy(data, shape));
}

export function parseNpy(bytes: Uint8Array, source = '<bytes>'): NpyArray {
  const fail = (msg: string): never => { throw new FileFormatError(source, undefined, `not a readable .npy file: ${msg}`); };
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) fail('it does not start with the magic "\\x93NUMPY"');
  const major = bytes[6];
  let headerLen: number, prefix: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    prefix = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('the header length is cut off');
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 0x1000000;
    prefix = 12;
  } else {
    return fail(`unsupported format version ${major}.${bytes[7]}`);
  }
  if (prefix + headerLen > bytes.length) fail(`the header claims ${headerLen} bytes but the file has ${bytes.length - prefix} after the prefix`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(prefix, prefix + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`malformed header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported (save with C order, e.g. numpy.ascontiguousarray)');
  const shape = shapeText!.split(',').map((t) => t.trim()).filter((t) => t !== '').map((t) => {
    if (!/^\d+$/.test(t)) fail(`invalid shape (${shapeText})`);
    return Number(t);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = descr === '<f8' ? 8 : descr === '<i4' || descr === '<f4' ? 4 : 0;
  if (itemSize === 0) fail(`data type '${descr}' is not supported (only '<f8', '<i4', '<f4')`);
  const start = prefix + headerLen;
  if (bytes.length - start !== count * itemSize) {
    fail(`shape (${shape.join(', ')}) of '${descr}' needs ${count * itemSize} data bytes, the file has ${bytes.length - start} (truncated?)`);
  }
  // Copy into a fresh, aligned buffer (the data offset need not be a multiple of 8; Buffer.slice would not copy).
  const raw = new Uint8Array(bytes.subarray(start)).buffer;
  const data = descr === '<f8' ? new Float64Array(raw) : descr === '<i4' ? new Int32Array(raw) : new Float32Array(raw);
  return { data, shape };
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readInputFile(path), path);
}
