/**
 * CLI start-up: wall time of `qglass --version` and `qglass energy small.xyz` (N = 256 FCC lattice,
 * Q = 240) against plain `node -e ''`, from the compiled dist/ (built first if stale), and the same
 * two commands run from the sources through tsx for comparison. Commands alternate within each
 * round so that machine load hits them alike; the minimum over rounds is the figure of merit (the
 * least-disturbed run), the median is recorded beside it. On a loaded machine wall times mostly
 * measure the wait for a core, so the CPU time (user + system) of each command is recorded too:
 * the mean over rounds, from the children's times in /proc/self/stat (10 ms ticks).
 * Options (environment): QGLASS_BENCH_RUNS rounds (default 15), QGLASS_BENCH_N particles (default 256).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent } from '../bin/compiled.mjs';
import { cubicBox } from '../src/space/box.ts';
import { fccCellsFor, fccPositions } from '../src/space/lattice.ts';
import { writeExtendedXyz } from '../src/io/xyz.ts';

const RUNS = Number(process.env.QGLASS_BENCH_RUNS ?? 15);
const N = Number(process.env.QGLASS_BENCH_N ?? 256);
const root = new URL('../', import.meta.url);
const bin = fileURLToPath(new URL('bin/qglass.mjs', root));
const source = fileURLToPath(new URL('src/cli/main.ts', root));

/** CPU seconds (user + system) of this process's finished children so far. */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the ") " of the command name, cutime and cstime are the 14th and 15th fields.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function measure(args: string[]): { wall: number; cpu: number } {
  const c0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wall, cpu: childCpuSeconds() - c0 };
}

function stats(xs: { wall: number; cpu: number }[]) {
  const s = xs.map((x) => x.wall).sort((a, b) => a - b);
  return { min: s[0], median: s[s.length >> 1], cpuMean: xs.reduce((a, x) => a + x.cpu, 0) / xs.length, runs: s.length };
}

export async function run(): Promise<object> {
  if (!compiledIsCurrent(root)) {
    const b = spawnSync(process.execPath, [fileURLToPath(new URL('scripts/build.mjs', root))], { stdio: 'inherit' });
    if (b.status !== 0) throw new Error('build failed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'qglass-startup-'));
  try {
    const k = fccCellsFor(N);
    const L = Math.cbrt(N / 0.65);
    const xyz = join(dir, 'small.xyz');
    writeExtendedXyz(xyz, { box: cubicBox(L), positions: fccPositions(k, L), species: Uint8Array.from({ length: N }, (_, i) => i & 1), meta: { Q: 240 } });

    const commands: Record<string, string[]> = {
      node: ['-e', ''],
      version: [bin, '--version'],
      energy: [bin, 'energy', xyz],
      versionFromSource: ['--import', 'tsx', source, '--version'],
      energyFromSource: ['--import', 'tsx', source, 'energy', xyz],
    };
    const times: Record<string, { wall: number; cpu: number }[]> = Object.fromEntries(Object.keys(commands).map((c) => [c, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const [name, args] of Object.entries(commands)) {
        // The sources compile at every start (seconds each): a few rounds show the difference.
        if (name.endsWith('FromSource') && r >= 3) continue;
        times[name].push(measure(args));
      }
    }
    const s = Object.fromEntries(Object.entries(times).map(([c, t]) => [c, stats(t)]));
    const above = (c: string) => ({ min: s[c].min - s.node.min, median: s[c].median - s.node.median, cpuMean: s[c].cpuMean - s.node.cpuMean });
    return {
      N, rounds: RUNS, seconds: s,
      aboveNode: { version: above('version'), energy: above('energy'), versionFromSource: above('versionFromSource'), energyFromSource: above('energyFromSource') },
      target: 'compiled CLI within 0.5 s of node -e \'\'',
      loadAverage: (await import('node:os')).loadavg(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
