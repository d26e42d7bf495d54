// A worker thread of src/util/threads.ts, copied unchanged into dist/ by the build (plain
// JavaScript: it only instantiates the kernels module on the shared memory and runs kernel calls).
// Control words as in threads.ts: GEN (bumped per call), DONE (threads finished), READY, FAILED
// (index of a failed worker), STOP, KERNEL (index into names).
import { workerData } from 'node:worker_threads';

const GEN = 0, DONE = 1, READY = 2, FAILED = 3, STOP = 4, KERNEL = 5;
const { module, memory, control, args, results, index, row, names, spinMs } = workerData;
const c = new Int32Array(control);
const mine = new Float64Array(args, 8 * row * index, row);
const out = new Float64Array(results);

let kernels = [];
let seen = Atomics.load(c, GEN);
try {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  kernels = names.map((name) => exports[name]);
} catch {
  Atomics.store(c, FAILED, index);
}
Atomics.add(c, READY, 1);
Atomics.notify(c, READY);

for (;;) {
  // poll for the next call for spinMs before sleeping (threads.ts: waking takes as long as a short call)
  if (spinMs > 0) {
    const deadline = performance.now() + spinMs;
    for (let k = 0; Atomics.load(c, GEN) === seen; k++) if ((k & 255) === 255 && performance.now() > deadline) break;
  }
  Atomics.wait(c, GEN, seen);
  seen = Atomics.load(c, GEN);
  if (Atomics.load(c, STOP)) break;
  try {
    out[index] = kernels[Atomics.load(c, KERNEL)](...mine) ?? 0;
  } catch {
    Atomics.store(c, FAILED, index);
  }
  Atomics.add(c, DONE, 1);
  Atomics.notify(c, DONE);
}
