/**
 * Benchmark driver: `npm run bench [-- NAME ...]` runs every bench/NAME.bench.ts (or the named
 * ones) in turn and writes each one's result to bench/results/NAME.json with the machine it ran on.
 * A benchmark module exports `run(): Promise<object>`. With QGLASS_BENCH_TAG=T the result goes to
 * NAME-T.json instead (runs at other sizes or settings).
 */
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const names = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();
if (wanted.length > 0 && names.length !== wanted.length) {
  const missing = wanted.filter((w) => !names.includes(w));
  throw new Error(`no such benchmark: ${missing.join(', ')} (have: bench/*.bench.ts)`);
}
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version };
mkdirSync(join(here, 'results'), { recursive: true });
for (const name of names) {
  process.stderr.write(`bench ${name} ...\n`);
  const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { run: () => Promise<object> };
  const t0 = performance.now();
  const result = await mod.run();
  const out = { name, date: new Date().toISOString(), machine, wallSeconds: (performance.now() - t0) / 1000, result };
  // QGLASS_BENCH_TAG keeps a run with non-default settings apart: NAME-TAG.json
  const file = `${name}${process.env.QGLASS_BENCH_TAG ? `-${process.env.QGLASS_BENCH_TAG}` : ''}.json`;
  writeFileSync(join(here, 'results', file), JSON.stringify(out, null, 2) + '\n');
  process.stderr.write(`bench ${name}: wrote bench/results/${file}\n`);
}
