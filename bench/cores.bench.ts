/**
 * What the machine allows two threads: a floating-point-bound loop (eight independent
 * multiply-add chains over 16 KiB, in L1) and a streaming read of a 256 MiB array (far beyond the
 * caches), each run on one worker thread alone and then on two at once. Rates are per thread (best
 * pass for the stream); `together` is the sum of the two over the rate of one alone. The ceiling
 * for `--threads 2` on this machine: if together ≈ 2 for both, the cores and their memory paths
 * are independent and a parallel kernel that scales less is limited by its own parallel share.
 */
import { Worker } from 'node:worker_threads';

const SECONDS = 4;

// each loop inside a function: top-level variables of an eval'd worker script are slow globals
const flopsLoop = `(() => {
const a = new Float64Array(2048).map((_, i) => 1 + i * 1e-6);
let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
const t0 = performance.now(); let reps = 0;
while (performance.now() - t0 < ${SECONDS * 1000}) {
  for (let i = 0; i < 2048; i += 8) {
    s0 = s0 * 0.999 + a[i]; s1 = s1 * 0.999 + a[i + 1]; s2 = s2 * 0.999 + a[i + 2]; s3 = s3 * 0.999 + a[i + 3];
    s4 = s4 * 0.999 + a[i + 4]; s5 = s5 * 0.999 + a[i + 5]; s6 = s6 * 0.999 + a[i + 6]; s7 = s7 * 0.999 + a[i + 7];
  }
  reps++;
}
const seconds = (performance.now() - t0) / 1000;
require('node:worker_threads').parentPort.postMessage({ rate: (reps * 2048 * 2) / seconds / 1e9, check: s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 });
})();`;

const streamLoop = `(() => {
const a = new Float64Array(32 * 1024 * 1024).fill(1);
let best = Infinity, check = 0;
const t0 = performance.now();
while (performance.now() - t0 < ${SECONDS * 1000}) {
  const t = performance.now();
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let i = 0; i < a.length; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3]; }
  check += s0 + s1 + s2 + s3;
  best = Math.min(best, performance.now() - t);
}
require('node:worker_threads').parentPort.postMessage({ rate: (a.length * 8) / (best / 1000) / 1e9, check });
})();`;

function onThreads(code: string, threads: number): Promise<number[]> {
  return Promise.all(Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (m: { rate: number; check: number }) => {
      if (!(m.check > 0)) reject(new Error('loop result lost'));
      resolve(m.rate);
      void w.terminate();
    });
    w.once('error', reject);
  })));
}

export async function run(): Promise<object> {
  const out: Record<string, unknown> = { seconds: SECONDS };
  for (const [name, code, unit] of [['floatingPoint', flopsLoop, 'GFLOP/s per thread'], ['stream', streamLoop, 'GB/s per thread']] as const) {
    const [alone] = await onThreads(code, 1);
    const pair = await onThreads(code, 2);
    out[name] = { unit, alone: +alone.toFixed(3), twoAtOnce: pair.map((r) => +r.toFixed(3)), together: +((pair[0] + pair[1]) / alone).toFixed(2) };
    process.stderr.write(`  ${name}: ${alone.toFixed(2)} alone, ${pair.map((r) => r.toFixed(2)).join(' + ')} together (${((pair[0] + pair[1]) / alone).toFixed(2)}×) ${unit}\n`);
  }
  return out;
}
