/**
 * Worker threads for one large sample (`--threads T`). setThreads(T) starts T − 1 worker threads
 * (src/util/kernel-worker.mjs) that instantiate the kernels module on the same shared memory; a
 * parallel kernel call then gives every thread (this one is thread 0) its own argument row, runs
 * the kernel on all of them and returns when all are done. Synchronisation is by Atomics.wait and
 * Atomics.notify on a shared Int32Array: no message per call. Waking a sleeping thread takes about
 * 30 µs here, as long as a small kernel call, so while there are no more threads than cores each
 * side first polls for SPIN_MS before it sleeps.
 *
 * The callers decide what each thread computes and how the parts are combined: the pair forces
 * (src/engine/forces.ts) and H·z (src/linalg/hessian.ts) give each thread a range of rows and its
 * own output buffer, added up in thread order afterwards; the neighbor pair search
 * (src/space/neighbors.ts) a range of cells, whose pairs are concatenated in thread order. So a
 * result depends on T only through the order of the sums, and is the same bits run to run.
 *
 * Campaigns run one sample per worker and keep T = 1.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from './errors.ts';
import { kernelArray, kernelSet, releaseArray, wasmKernels, wasmModuleAndMemory } from './kernels.ts';

/** The kernels a parallel call can run (the worker resolves them by index in this list). */
const PARALLEL_KERNELS = ['pairForcesInversePower', 'pairForcesSoftSphere', 'hessianMultiply', 'neighborPairs', 'neighborRowScatter', 'verletKickDrift', 'verletKick', 'addInto', 'binCells', 'binGather', 'neighborFilter', 'neighborPlace'] as const;
export type ParallelKernel = (typeof PARALLEL_KERNELS)[number];

/** Numbers per thread's argument row (the longest kernel signature has 21). */
const ROW = 24;
// Words of the control array; kernel-worker.mjs uses the same layout.
const GEN = 0, DONE = 1, READY = 2, FAILED = 3, STOP = 4, KERNEL = 5, WORDS = 8;
/** How long a thread polls for the next call (a worker) or for the workers to finish (this one) before it sleeps. */
const SPIN_MS = 0.5;

interface Pool {
  workers: Worker[];
  /** Poll before sleeping (no more threads than cores). */
  spin: boolean;
  control: Int32Array;
  rows: Float64Array[];
  results: Float64Array;
}

let threads = 1;
let pool: Pool | null = null;

/** Threads in use (1 unless setThreads asked for more). */
export function threadCount(): number {
  return threads;
}

/** The largest thread count accepted: four per available core. */
export function maxThreads(): number {
  return 4 * availableParallelism();
}

/** Why t is not an acceptable thread count (null if it is); `what` names it in the message. */
export function threadCountProblem(t: number, what = 'threads'): string | null {
  if (Number.isInteger(t) && t >= 1 && t <= maxThreads()) return null;
  return `${what} must be a whole number from 1 to ${maxThreads()} (4 × the ${availableParallelism()} available cores); got ${t}`;
}

/**
 * Use t threads (this one and t − 1 workers) for the force, neighbor-search and Hessian-product
 * kernels from now on; t = 1 stops the workers. t > 1 needs the WebAssembly kernels.
 */
export function setThreads(t: number): void {
  const problem = threadCountProblem(t);
  if (problem) throw new UserError(problem);
  if (t === threads) return;
  if (t > 1 && kernelSet() !== 'wasm') {
    throw new UserError(
      `${t} threads need the WebAssembly kernels, but the TypeScript ones are in use (QGLASS_KERNELS=js, or build/kernels.wasm not built): ` +
      'run with one thread, or unset QGLASS_KERNELS and build the kernels with `npm run build:kernels`',
    );
  }
  stopPool();
  if (t > 1) pool = startPool(t);
  threads = t;
}

function startPool(t: number): Pool {
  const { module, memory } = wasmModuleAndMemory();
  const control = new Int32Array(new SharedArrayBuffer(4 * WORDS));
  const args = new Float64Array(new SharedArrayBuffer(8 * ROW * t));
  const results = new Float64Array(new SharedArrayBuffer(8 * t));
  const workers: Worker[] = [];
  const spin = t <= availableParallelism();
  for (let k = 1; k < t; k++) {
    const w = new Worker(new URL('./kernel-worker.mjs', import.meta.url), {
      workerData: {
        module, memory, control: control.buffer, args: args.buffer, results: results.buffer, index: k, row: ROW, names: PARALLEL_KERNELS,
        spinMs: spin ? SPIN_MS : 0,
      },
    });
    w.unref(); // idle workers must not keep the process alive
    workers.push(w);
  }
  // the workers start on their own threads while this one waits (no event loop needed)
  const deadline = Date.now() + 60_000;
  for (let ready = Atomics.load(control, READY); ready < t - 1; ready = Atomics.load(control, READY)) {
    if (Date.now() > deadline) break;
    Atomics.wait(control, READY, ready, 1000);
  }
  const started = Atomics.load(control, READY);
  if (started < t - 1 || Atomics.load(control, FAILED) !== 0) {
    for (const w of workers) void w.terminate();
    throw new Error(`worker threads did not start (${started} of ${t - 1} ready${Atomics.load(control, FAILED) ? ', one failed to load the kernels' : ''})`);
  }
  const rows = Array.from({ length: t }, (_, k) => args.subarray(k * ROW, (k + 1) * ROW));
  return { workers, spin, control, rows, results };
}

function stopPool(): void {
  if (!pool) return;
  const { control, workers } = pool;
  Atomics.store(control, STOP, 1);
  Atomics.add(control, GEN, 1);
  Atomics.notify(control, GEN);
  for (const w of workers) void w.terminate();
  pool = null;
  threads = 1;
  for (const b of buffers.values()) releaseArray(b);
  buffers.clear();
}

/** Thread k's argument row (k = 0: this thread): the kernel's arguments in order, booleans as 0/1. */
export function threadArgs(k: number): Float64Array {
  return pool!.rows[k];
}

/** Run `kernel` on every thread with its argument row; returns each thread's return value (numbers). */
export function runParallel(kernel: ParallelKernel): Float64Array {
  const p = pool!;
  const c = p.control;
  Atomics.store(c, KERNEL, PARALLEL_KERNELS.indexOf(kernel));
  Atomics.store(c, DONE, 0);
  Atomics.add(c, GEN, 1);
  Atomics.notify(c, GEN);
  p.results[0] = callKernel(kernel, p.rows[0]);
  if (p.spin) {
    // poll for SPIN_MS, as kernel-worker.mjs does for the next call
    const deadline = performance.now() + SPIN_MS;
    for (let k = 0; Atomics.load(c, DONE) < threads - 1; k++) if ((k & 255) === 255 && performance.now() > deadline) break;
  }
  for (let done = Atomics.load(c, DONE); done < threads - 1; done = Atomics.load(c, DONE)) Atomics.wait(c, DONE, done);
  const failed = Atomics.load(c, FAILED);
  if (failed !== 0) {
    Atomics.store(c, FAILED, 0);
    throw new Error(`the ${kernel} kernel failed on worker thread ${failed}`);
  }
  return p.results;
}

/** `kernel` on this thread with the arguments of row a; its return value (0 if none). */
function callKernel(kernel: ParallelKernel, a: Float64Array): number {
  // the arguments one by one: a spread goes through the typed array's iterator on every call
  return (wasmKernels()[kernel] as (...a: number[]) => number | undefined)(
    a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20],
    a[21], a[22], a[23],
  ) ?? 0;
}

const soloArgs = new Float64Array(ROW);
const soloResult = new Float64Array(1);

/**
 * Run `kernel` on every thread in use, thread t with the arguments `fill` writes into its row (in
 * order, booleans as 0/1); with one thread it runs here alone. Returns each thread's return value.
 */
export function runOnThreads(kernel: ParallelKernel, fill: (t: number, args: Float64Array) => void): Float64Array {
  if (threads === 1) {
    fill(0, soloArgs);
    soloResult[0] = callKernel(kernel, soloArgs);
    return soloResult;
  }
  for (let t = 0; t < threads; t++) fill(t, pool!.rows[t]);
  return runParallel(kernel);
}

/**
 * Bounds of T row ranges of about equal work: row r holds prefix[r + 1] − prefix[r] units (pairs,
 * blocks, atoms). Range k is out[k] .. out[k + 1]; out has T + 1 entries.
 */
export function splitRows(prefix: Int32Array, n: number, out: Int32Array): Int32Array {
  const T = out.length - 1;
  const total = prefix[n] - prefix[0];
  out[0] = 0;
  out[T] = n;
  for (let k = 1; k < T; k++) {
    const target = prefix[0] + (total * k) / T;
    let lo = out[k - 1], hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prefix[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    out[k] = lo;
  }
  return out;
}

/** A kernel-memory Float64Array of `length` for thread k's partial results of one use, kept between calls. */
export function threadBuffer(use: string, k: number, length: number): Float64Array {
  const key = `${use}:${k}`;
  let b = buffers.get(key);
  if (b?.length !== length) {
    b = kernelArray(Float64Array, length);
    buffers.set(key, b);
  }
  return b;
}
const buffers = new Map<string, Float64Array>();

/**
 * Add threads 1 … T−1's vectors of one use (3 numbers per row) into dst, in thread order: thread t
 * wrote only rows from rows[t] on (a row's partners come later), so the sum starts there. Each
 * addition is split over the threads in equal ranges; every number gets the same additions in the
 * same order as on one thread.
 */
export function addThreadVectors(use: string, dst: Float64Array, rows: Int32Array, n: number): void {
  for (let t = 1; t < threads; t++) {
    const src = threadBuffer(use, t, 3 * n).byteOffset, begin = 3 * rows[t], length = 3 * n - begin;
    for (let k = 0; k < threads; k++) {
      const a = threadArgs(k);
      a[0] = dst.byteOffset; a[1] = src; a[2] = begin + Math.floor((length * k) / threads); a[3] = begin + Math.floor((length * (k + 1)) / threads);
    }
    runParallel('addInto');
  }
}

/** Bounds array for splitRows, one per use, kept between calls. */
export function threadBounds(use: string): Int32Array {
  let b = bounds.get(use);
  if (b?.length !== threads + 1) {
    b = new Int32Array(threads + 1);
    bounds.set(use, b);
  }
  return b;
}
const bounds = new Map<string, Int32Array>();
