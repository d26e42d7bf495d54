/**
 * The WebAssembly kernels (built from assembly/ into build/kernels.wasm by `npm run
 * build:kernels`, which `npm ci` runs) and the one memory they work in.
 *
 * Which kernel set runs is chosen once per process by QGLASS_KERNELS = "wasm" (the default) or
 * "js" (the TypeScript reference implementations). If the default is in force and the .wasm has not
 * been built, the JS kernels run and one warning says how to build it; an explicit
 * QGLASS_KERNELS=wasm without the .wasm is an error.
 *
 * Memory: one shared WebAssembly.Memory. Growing a shared memory never detaches the typed-array
 * views over it, so arrays allocated here (positions, forces, neighbor lists, Hessians) stay valid
 * for their whole life and the kernels read and write them in place (no copies per call). Blocks
 * are 64-byte aligned, freed explicitly (releaseArray) or when their view is garbage collected.
 * A subarray does not keep its block alive: keep the view returned by the allocator referenced for
 * as long as any part of it is used.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.ts';

export type KernelSet = 'js' | 'wasm';

// The parts of the WebAssembly API used here (the Node type definitions in use do not declare it).
interface WasmMemory { readonly buffer: ArrayBufferLike; grow(pages: number): number }
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** The exports of build/kernels.wasm; pointers are byte offsets into the kernel memory. */
export interface WasmKernels {
  heapBase(): number;
  pairForcesInversePower(
    rowBegin: number, rowEnd: number, n: number, start: number, boundaryStart: number, pairs: number, pairType: number,
    pos: number, f: number, cell: number, coef: number, withEnergy: boolean, result: number,
  ): void;
  pairForcesSoftSphere(
    rowBegin: number, rowEnd: number, n: number, start: number, boundaryStart: number, pairs: number, pairType: number,
    pos: number, f: number, cell: number, coef: number, withEnergy: boolean, result: number,
  ): void;
  hessianMultiply(rowBegin: number, rowEnd: number, n: number, rowStart: number, colIndex: number, values: number, x: number, y: number): void;
  assembleHessian(
    n: number, count: number, pi: number, pj: number, d: number, r2: number, g: number, k: number,
    rowStart: number, colIndex: number, values: number, fill: number,
  ): void;
  addInto(dst: number, src: number, from: number, to: number): void;
  binCells(from: number, to: number, cx: number, cy: number, cz: number, pos: number, cell: number, far: number, image: number, cellOf: number): number;
  binSort(n: number, ncell: number, cellOf: number, cellStart: number, fill: number, cellAtoms: number): void;
  binGather(
    from: number, to: number, pos: number, species: number, cell: number, image: number, cellAtoms: number, wx: number, wy: number, wz: number, spc: number,
  ): void;
  movedBeyond(n: number, pos: number, reference: number, limit2: number): number;
  neighborFilter(
    rowBegin: number, rowEnd: number, outerStart: number, outerBoundary: number, outerPairs: number, outerType: number, pos: number, cell: number,
    cut2: number, start: number, boundary: number, pairs: number, pairType: number,
  ): number;
  neighborPlace(
    rowBegin: number, rowEnd: number, from: number, to: number, count: number, fromPairs: number, fromType: number, pairs: number, pairType: number,
    start: number, boundary: number,
  ): void;
  neighborPairs(
    cellBegin: number, cellEnd: number, ncell: number, cy: number, cz: number, cellStart: number, cellAtoms: number, wx: number, wy: number, wz: number,
    spc: number, runs: number, runCount: number, cut2: number, cell: number,
    first: number, second: number, shift: number, capacity: number, scratch: number, scratchSize: number, image: number, front: number, back: number,
  ): number;
  verletKickDrift(from: number, to: number, v: number, x: number, f: number, ref: number, half: number, dt: number, closingKick: boolean): number;
  verletKick(from: number, to: number, v: number, f: number, half: number): void;
  neighborRowOffsets(n: number, threads: number, counts: number, start: number, boundaryStart: number): void;
  neighborRowScatter(
    from: number, to: number, n: number, first: number, second: number, shift: number, species: number, front: number, back: number, pairs: number, pairType: number,
  ): void;
  dot(a: number, b: number, n: number): number;
  axpy(s: number, x: number, y: number, n: number): void;
  axpyDot(c: number, x: number, d: number, w: number, n: number): number;
  basisDots(V: number, count: number, n: number, w: number, c: number): void;
  basisSubtract(V: number, count: number, n: number, w: number, c: number): void;
  combineRows(V: number, count: number, n: number, Y: number, yStride: number, rows: number, X: number): void;
  cgAdvance(n: number, alpha: number, x: number, p: number, r: number, q: number): number;
  cgDirection(n: number, beta: number, z: number, p: number): void;
  projectOutTranslations(v: number, count: number): void;
  blockDiagonalApply(count: number, B: number, x: number, y: number): void;
  modeContractions(
    count: number, pi: number, pj: number, d: number, r: number, dphiOverR: number, d2phi: number, d3phi: number, z: number, uzz: number, result: number,
  ): void;
}

const PAGE = 65536;
/** 4 GiB, the 32-bit address space: reserving it costs address space only. */
const MAX_PAGES = 65536;
const ALIGN = 64;

let selected: KernelSet | null = null;
let wasm: WasmKernels | null = null;
let memory: WasmMemory | null = null;
let compiled: object | null = null;

/** Where `npm run build:kernels` writes the module (the repository's build/ directory). */
export function kernelsWasmPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/util/ when run from source, dist/src/util/ when run from the compiled package
  const candidates = [join(here, '..', '..', 'build', 'kernels.wasm'), join(here, '..', '..', '..', 'build', 'kernels.wasm')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

/** The kernel set in use: QGLASS_KERNELS, or wasm when built (js with one warning otherwise). */
export function kernelSet(): KernelSet {
  if (selected) return selected;
  const asked = process.env.QGLASS_KERNELS?.trim() || '';
  if (asked !== '' && asked !== 'js' && asked !== 'wasm') {
    throw new UserError(`QGLASS_KERNELS must be "js" or "wasm"; got "${asked}"`);
  }
  if (asked === 'js') return (selected = 'js');
  if (!existsSync(kernelsWasmPath()) && asked === '') {
    process.emitWarning(`${kernelsWasmPath()} is missing, so the slower JavaScript kernels run: build it with \`npm run build:kernels\``);
    return (selected = 'js');
  }
  loadWasm();
  return (selected = 'wasm');
}

/**
 * Switch the kernel set for the rest of the process (tests and benchmarks compare the two in one
 * process). Arrays allocated before stay where they are: the JS kernels work on kernel-memory
 * arrays too, the wasm kernels only on arrays allocated while wasm was in use.
 */
export function useKernels(set: KernelSet): void {
  if (set === 'wasm') loadWasm();
  selected = set;
}

function loadWasm(): void {
  if (wasm) return;
  const path = kernelsWasmPath();
  if (!existsSync(path)) throw new Error(`the WebAssembly kernels are not built (${path} is missing): run \`npm run build:kernels\`, or set QGLASS_KERNELS=js`);
  memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  compiled = new WebAssembly.Module(readFileSync(path));
  wasm = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as WasmKernels;
  heapTop = align(wasm.heapBase());
}

/** The wasm kernels; only valid when kernelSet() is 'wasm'. */
export function wasmKernels(): WasmKernels {
  if (kernelSet() !== 'wasm' || !wasm) throw new Error('the WebAssembly kernels are not in use (QGLASS_KERNELS=js)');
  return wasm;
}

/** The compiled module and the memory, for worker threads that instantiate the same kernels on it (src/util/threads.ts). */
export function wasmModuleAndMemory(): { module: object; memory: WasmMemory } {
  wasmKernels();
  return { module: compiled!, memory: memory! };
}

// ---- allocator: first fit over a sorted free list, coalescing on free, bump at the top ----

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/** Start of the unallocated top of the memory. */
let heapTop = 0;
/** Free blocks below heapTop as [offset, size], sorted by offset, never adjacent. */
const freeBlocks: [number, number][] = [];
/** Size of each live block by offset. */
const live = new Map<number, number>();
const finalizer = new FinalizationRegistry<number>((offset) => freeBlock(offset));

function allocate(bytes: number): number {
  const size = align(Math.max(bytes, 1));
  for (let k = 0; k < freeBlocks.length; k++) {
    const [offset, free] = freeBlocks[k];
    if (free < size) continue;
    if (free === size) freeBlocks.splice(k, 1);
    else freeBlocks[k] = [offset + size, free - size];
    live.set(offset, size);
    return offset;
  }
  const offset = heapTop;
  const end = offset + size;
  const mem = memory!;
  const have = mem.buffer.byteLength;
  if (end > have) {
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) {
      throw new RangeError(`kernel memory exhausted: ${((end / 2 ** 30)).toFixed(2)} GiB needed, the 32-bit WebAssembly limit is 4 GiB`);
    }
    // grow at least by half again, so that a sequence of allocations grows the memory rarely
    mem.grow(Math.min(MAX_PAGES - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 2))));
  }
  heapTop = end;
  live.set(offset, size);
  return offset;
}

function freeBlock(offset: number): void {
  const size = live.get(offset);
  if (size === undefined) return;
  live.delete(offset);
  let lo = 0, hi = freeBlocks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (freeBlocks[mid][0] < offset) lo = mid + 1;
    else hi = mid;
  }
  let start = offset, end = offset + size;
  if (lo < freeBlocks.length && freeBlocks[lo][0] === end) { end += freeBlocks[lo][1]; freeBlocks.splice(lo, 1); }
  if (lo > 0 && freeBlocks[lo - 1][0] + freeBlocks[lo - 1][1] === start) { lo--; start = freeBlocks[lo][0]; freeBlocks.splice(lo, 1); }
  if (end === heapTop) heapTop = start;
  else freeBlocks.splice(lo, 0, [start, end - start]);
}

export type KernelArray = Float64Array | Int32Array | Uint8Array;
export interface KernelArrayType<T extends KernelArray> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * A zeroed array of `length` elements: a view into the kernel memory once the wasm kernels are
 * loaded (also while useKernels('js') is in force, so that arrays made then stay usable by both
 * sets), an ordinary typed array in a process that runs the JS kernels only.
 */
export function kernelArray<T extends KernelArray>(type: KernelArrayType<T>, length: number): T {
  if (!kernelMemoryActive()) return new type(length);
  const offset = allocate(length * type.BYTES_PER_ELEMENT);
  const view = new type(currentBuffer(), offset, length);
  view.fill(0);
  finalizer.register(view, offset, view);
  return view;
}

/** Whether kernelArray allocates in the kernel memory (the wasm kernels are loaded). */
export function kernelMemoryActive(): boolean {
  kernelSet();
  return wasm !== null;
}

/** Kernel-memory buffers reused between calls, by name: see scratchArray. */
const scratch = new Map<string, Float64Array>();

/**
 * A kernel-memory buffer of exactly `length` numbers kept under `name` and reused by the next call
 * with that name (its contents are then overwritten): staging for callers whose arrays are not in
 * the kernel memory, without an allocation per call.
 */
export function scratchArray(name: string, length: number): Float64Array {
  let a = scratch.get(name);
  if (a?.length !== length) { a = kernelArray(Float64Array, length); scratch.set(name, a); }
  return a;
}

/** `source` copied into the scratch buffer kept under `name` (see scratchArray). */
export function scratchCopy(name: string, source: Float64Array): Float64Array {
  const a = scratchArray(name, source.length);
  a.set(source);
  return a;
}

/** A kernel-memory copy of `source` (see kernelArray). */
export function kernelCopy<T extends KernelArray>(type: KernelArrayType<T>, source: ArrayLike<number>): T {
  const a = kernelArray(type, source.length);
  a.set(source);
  return a;
}

/** True when the kernels can address `a`: a view (or subarray) of the kernel memory. */
export function inKernelMemory(a: KernelArray): boolean {
  return memoryBuffers.has(a.buffer);
}

/** Every buffer object the memory has handed out (a new one after each grow; all alias the same bytes). */
const memoryBuffers = new WeakSet<ArrayBufferLike>();

function currentBuffer(): ArrayBufferLike {
  const b = memory!.buffer;
  memoryBuffers.add(b);
  return b;
}

/** Give a block back now instead of at garbage collection. The view must not be used afterwards. */
export function releaseArray(a: KernelArray): void {
  if (!inKernelMemory(a)) return;
  finalizer.unregister(a);
  freeBlock(a.byteOffset);
}

/** Bytes currently allocated and the memory's size (for tests and benchmarks). */
export function kernelMemoryUsage(): { allocatedBytes: number; memoryBytes: number } {
  let allocatedBytes = 0;
  for (const size of live.values()) allocatedBytes += size;
  return { allocatedBytes, memoryBytes: memory?.buffer.byteLength ?? 0 };
}
