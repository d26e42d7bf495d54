/**
 * Hostile input and failures: writers never replace anything but a regular file, outputs are
 * checked before any computation, numbers parse strictly, bounds are enforced before allocation,
 * non-finite physics is an error naming particles, damaged catalogs are refused, and exit codes
 * follow one table.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic-write.ts';
import { checkOutputDirectory, checkOutputPath } from '../src/io/output-path.ts';
import { parseNumber } from '../src/cli/errors.ts';
import { resolveDensities } from '../src/ensemble/campaign.ts';
import { smallGlass } from './fixtures.ts';
import { writeExtendedXyz } from '../src/io/xyz.ts';
import { systemToConfiguration } from '../src/engine/system.ts';

const BIN = new URL('../bin/qglass.mjs', import.meta.url).pathname;
const ROOT = mkdtempSync(join(tmpdir(), 'qglass-robust-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

function qglass(args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' }, timeout: timeoutMs });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function mkfifo(path: string): boolean {
  return spawnSync('mkfifo', [path]).status === 0;
}

const isRoot = process.getuid?.() === 0;

test('the atomic writer refuses to replace a FIFO, a symlink, a directory or a device node, and leaves them as they were', (t) => {
  const dir = join(ROOT, 'writer');
  mkdirSync(dir);
  const target = join(dir, 'target.txt');
  writeFileSync(target, 'original\n');
  const link = join(dir, 'link.txt');
  symlinkSync(target, link);
  assert.throws(() => writeFileAtomic(link, 'new\n'), (e: Error) => e.message.includes(link) && /symbolic link/.test(e.message));
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), target);
  assert.equal(readFileSync(target, 'utf8'), 'original\n');

  const dangling = join(dir, 'dangling.txt');
  symlinkSync(join(dir, 'nowhere'), dangling);
  assert.throws(() => writeFileAtomic(dangling, 'x'), /symbolic link/);
  assert.ok(lstatSync(dangling).isSymbolicLink());

  const sub = join(dir, 'sub');
  mkdirSync(sub);
  assert.throws(() => writeFileAtomic(sub, 'x'), (e: Error) => e.message.includes(sub) && /directory/.test(e.message));
  assert.ok(lstatSync(sub).isDirectory());

  const fifo = join(dir, 'fifo');
  if (mkfifo(fifo)) {
    assert.throws(() => writeFileAtomic(fifo, 'x'), (e: Error) => e.message.includes(fifo) && /FIFO/.test(e.message));
    assert.ok(lstatSync(fifo).isFIFO());
  } else t.diagnostic('mkfifo not available: FIFO case skipped');

  // A device node made here (never on /dev): character device 1,3 is what /dev/null is.
  const dev = join(dir, 'null-device');
  if (isRoot && spawnSync('mknod', [dev, 'c', '1', '3']).status === 0) {
    assert.throws(() => writeFileAtomic(dev, 'x'), (e: Error) => e.message.includes(dev) && /character device/.test(e.message));
    assert.ok(lstatSync(dev).isCharacterDevice());
  } else t.diagnostic('not root or mknod refused: device-node case skipped');

  // A regular file is replaced; no temporary file is left behind.
  writeFileAtomic(target, 'replaced\n');
  assert.equal(readFileSync(target, 'utf8'), 'replaced\n');
});

test('a write into a missing directory names the target, not the hidden temporary file, and is an OS error', () => {
  const path = join(ROOT, 'no-such-dir', 'out.csv');
  assert.throws(() => writeFileAtomic(path, 'x'), (e: Error & { code?: string }) => {
    assert.ok(e.message.includes(path), e.message);
    assert.ok(!e.message.includes('.tmp'), e.message);
    assert.equal(e.code, 'ENOENT');
    return true;
  });
});

test('output locations are checked up front: missing directory, non-regular target, file where a directory is wanted', () => {
  assert.throws(() => checkOutputPath(join(ROOT, 'missing', 'g.xyz'), '--out'), /--out .*does not exist/);
  const fifo = join(ROOT, 'check-fifo');
  if (mkfifo(fifo)) assert.throws(() => checkOutputPath(fifo, '--out'), /--out .*FIFO/);
  const file = join(ROOT, 'plain-file');
  writeFileSync(file, '');
  assert.throws(() => checkOutputDirectory(join(file, 'report'), '--out'), /--out .*plain-file is a regular file, not a directory/);
  checkOutputPath(join(ROOT, 'fresh.xyz'), '--out');
  checkOutputDirectory(join(ROOT, 'new', 'nested', 'dir'), '--out');
});

test('prepare --out onto a FIFO, a symlink or into a missing directory fails at once (exit 2) and clobbers nothing', (t) => {
  // A huge NVE time: had the check come after the computation, this would not finish.
  const base = ['prepare', '--q', '40', '--n', '256', '--density', '0.6', '--nve-time', '1e5'];
  const fifo = join(ROOT, 'prepare-fifo');
  if (mkfifo(fifo)) {
    const r = qglass([...base, '--out', fifo]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /prepare-fifo exists and is not a regular file but a FIFO/);
    assert.ok(lstatSync(fifo).isFIFO());
  } else t.diagnostic('mkfifo not available');
  const target = join(ROOT, 'keep.xyz');
  writeFileSync(target, 'keep');
  const link = join(ROOT, 'prepare-link.xyz');
  symlinkSync(target, link);
  const r2 = qglass([...base, '--out', link]);
  assert.equal(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /symbolic link/);
  assert.equal(readFileSync(target, 'utf8'), 'keep');
  const r3 = qglass([...base, '--out', join(ROOT, 'nope', 'g.xyz')]);
  assert.equal(r3.code, 2, r3.stderr);
  assert.match(r3.stderr, /--out .*nope\/g\.xyz: the directory .*nope does not exist/);
  assert.doesNotMatch(r3.stderr, /\.tmp/);
});

test('campaign export --out and report --out go through the atomic writer: a symlink at the target is refused, its file untouched', () => {
  const dir = join(ROOT, 'camp-export');
  const init = qglass(['campaign', 'init', dir, '--q', '10,240', '--n', '256', '--samples', '2', '--density', '10:0.55,240:0.62', '--measure', 'none']);
  assert.equal(init.code, 0, init.stderr);
  const victim = join(ROOT, 'victim.json');
  writeFileSync(victim, 'precious');
  const link = join(ROOT, 'export-link.json');
  symlinkSync(victim, link);
  const r = qglass(['campaign', 'export', dir, '--format', 'json', '--out', link]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /export-link\.json exists and is not a regular file but a symbolic link/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');

  const ok = qglass(['campaign', 'export', dir, '--format', 'json', '--out', join(ROOT, 'export.json')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(readFileSync(join(ROOT, 'export.json'), 'utf8')).length, 4);

  const reportDir = join(ROOT, 'report-out');
  mkdirSync(reportDir);
  symlinkSync(victim, join(reportDir, 'summary.json'));
  const rep = qglass(['report', dir, '--out', reportDir, '--no-png', '--bootstrap', '10']);
  assert.equal(rep.code, 2, rep.stderr);
  assert.match(rep.stderr, /summary\.json exists and is not a regular file but a symbolic link/);
  assert.equal(readFileSync(victim, 'utf8'), 'precious');
  const missing = qglass(['report', dir, '--out', join(victim, 'sub'), '--no-png']);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /victim\.json is a regular file, not a directory/);
});

test('numbers parse strictly as decimals; a per-Q list with a repeated Q is an error', () => {
  assert.equal(parseNumber('--q', '16'), 16);
  assert.equal(parseNumber('--q', '1.5e2'), 150);
  assert.equal(parseNumber('--q', '-.5'), -0.5);
  for (const bad of ['0x10', '0b101', '0o17', 'Infinity', '1e999', '', ' ', '1_000', '12abc', 'NaN']) {
    assert.throws(() => parseNumber('--q', bad), /--q must be a number in decimal notation/, bad);
  }
  const r = qglass(['energy', join(ROOT, 'whatever.xyz'), '--q', '0x10']);
  assert.equal(r.code, 2);
  assert.throws(() => resolveDensities('10:0.5,10:0.6', [10]), /--density .*Q = 10 .*twice/);
  assert.throws(() => resolveDensities('0x10:0.5', [16]), /--density/);
  const init = qglass(['campaign', 'init', join(ROOT, 'dup'), '--q', '10', '--n', '256', '--samples', '1', '--density', '10:0.5,10:0.6']);
  assert.equal(init.code, 2, init.stderr);
  assert.ok(!existsSync(join(ROOT, 'dup', 'campaign.json')));
});

test('exit codes: unknown option 1, bad input 2', () => {
  assert.equal(qglass(['prepare', '--no-such-option']).code, 1);
  assert.equal(qglass(['nonsense-command']).code, 1);
  assert.equal(qglass(['energy', join(ROOT, 'absent.xyz')]).code, 2);
});

// A small glass file for the measurement commands (written once).
const GLASS = join(ROOT, 'glass.xyz');
function glassLines(): string[] {
  if (!existsSync(GLASS)) {
    const r = smallGlass(40);
    writeExtendedXyz(GLASS, systemToConfiguration(r.system, { Q: 40 }));
  }
  return readFileSync(GLASS, 'utf8').split('\n');
}

/** The glass with atom k's position (1-based) replaced. */
function withAtom(name: string, k: number, pos: (old: number[]) => string[]): string {
  const lines = glassLines();
  const f = lines[k + 1].trim().split(/\s+/);
  const old = f.slice(1, 4).map(Number);
  lines[k + 1] = [f[0], ...pos(old), ...f.slice(4)].join(' ');
  const path = join(ROOT, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

test('bounds are enforced before allocation, each error naming the option and the limit', () => {
  const prep = (...extra: string[]) => qglass(['prepare', '--q', '40', '--n', '256', '--density', '0.6', '--out', join(ROOT, 'b.xyz'), ...extra]);
  let r = qglass(['prepare', '--q', '40', '--n', '4000000000', '--out', join(ROOT, 'b.xyz')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--n 4000000000: at most 1,000,000 particles/);
  r = qglass(['prepare', '--q', '40', '--n', '256', '--density', '1e-8', '--out', join(ROOT, 'b.xyz')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--density 1e-8: the density must lie between 0.01 and 10/);
  r = qglass(['prepare', '--q', '1e6', '--n', '256', '--density', '0.6', '--out', join(ROOT, 'b.xyz')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--q 1e6 .*NVE run would take 1\.67e\+8 steps, more than 1,000,000.*--force/);
  r = prep('--nve-time', '1e4', '--dt', '1e-3');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /1\.00e\+7 steps/);
  r = qglass(['campaign', 'init', join(ROOT, 'huge'), '--q', '10,20', '--n', '256', '--samples', '1e9', '--density', '0.6']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--samples 1000000000: .* exceeds the limit of 1,000,000 samples per campaign/);
  r = qglass(['campaign', 'init', join(ROOT, 'bigq'), '--q', '1e6', '--n', '256', '--samples', '1', '--density', '0.6']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Q = 1000000 .*--force/);
  glassLines();
  r = qglass(['measure', 'gr', GLASS, '--bin', '1e-7']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--bin 1e-7: .* bins .*at most 100,000 bins/);
  r = qglass(['report', join(ROOT, 'camp-export'), '--bootstrap', '1e9', '--out', join(ROOT, 'rep-b')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--bootstrap must be between 2 and 100000/);
});

test('non-finite energies and forces are an error naming the particles: coincident atoms, a 0.05 λ overlap at Q = 240', () => {
  const lines = glassLines();
  const first = lines[2].trim().split(/\s+/).slice(1, 4);
  const coincident = withAtom('coincident.xyz', 2, () => first);
  let r = qglass(['energy', coincident, '--json']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /coincident\.xyz \(q-model, Q = 40\): the .*not finite/);
  assert.match(r.stderr, /atom 1 \(line 3\) is 0\.00 λ from atom 2 \(line 4\)/);

  const overlap = withAtom('overlap.xyz', 2, () => first.map((x, d) => String(Number(x) + (d === 0 ? 0.05 : 0))));
  r = qglass(['energy', overlap, '--q', '240', '--json']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /atom 1 \(line 3\) is 0\.0500 λ from atom 2 \(line 4\)/);
  // The same file at a soft Q is fine: the check does not reject legitimate overlaps.
  assert.equal(qglass(['energy', overlap, '--q', '10', '--json']).code, 0);
});

test('coordinates far outside the cell or beyond float64, and an impossible atom count, name the file and line', () => {
  glassLines();
  for (const [name, value] of [['far.xyz', '1e10'], ['inf.xyz', '1e999']] as const) {
    const path = withAtom(name, 5, (old) => [value, String(old[1]), String(old[2])]);
    const r = qglass(['energy', path]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${name}:7: .*atom 5|${name}:7: pos column 1`));
    assert.doesNotMatch(r.stderr, /dynamics or minimisation has diverged/);
  }
  const lines = glassLines();
  const path = join(ROOT, 'count.xyz');
  writeFileSync(path, ['1000000000000', ...lines.slice(1)].join('\n'));
  const r = qglass(['energy', path]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /count\.xyz:\d+: the file ends after \d+ of the 1000000000000 atoms declared on line 1/);
  assert.doesNotMatch(r.stderr, /typed array/);
});

test('measure modes names the option at fault, not internal API', () => {
  glassLines();
  let r = qglass(['measure', 'modes', GLASS, '--count', '766', '--no-elastic']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--count 766 .*at most/);
  assert.doesNotMatch(r.stderr, /symmetricEigen/);
  r = qglass(['measure', 'modes', GLASS, '--count', '5', '--block', '300', '--no-elastic']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--block 300 is too large for N = 256/);
});
