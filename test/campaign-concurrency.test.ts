/**
 * One campaign, several runs: a stopped holder keeps its lock on its host, a lock taken over from a
 * (simulated) other host stops its old holder before it writes, shard and unsharded catalogs know
 * of each other (in sequence and concurrently), damaged catalogs are refused and never replaced,
 * and shards are balanced by expected work. Short leases (QGLASS_LOCK_LEASE_SECONDS) stand in for
 * the default two minutes; samples are tiny (N = 256, Q = 10 and 20, short NVE, loose quench).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCampaign, initCampaign, type CampaignInput } from '../src/ensemble/campaign.ts';
import { Catalog } from '../src/ensemble/catalog.ts';
import { loadCampaignSamples } from '../src/ensemble/export.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { catalogFiles } from '../src/ensemble/merge.ts';
import { acquireLock } from '../src/ensemble/lock.ts';
import { shardPlan, shardSamples } from '../src/ensemble/shard.ts';
import { paperCampaign } from '../src/cli/commands/paper.ts';

const BIN = new URL('../bin/qglass.mjs', import.meta.url).pathname;
const ROOT = mkdtempSync(join(tmpdir(), 'qglass-concurrency-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

const TINY: CampaignInput = {
  Q: [10, 20], N: 256, samples: 4, seed: 11, density: '10:0.55,20:0.56',
  protocol: { nveTime: 0.1, ftol: 1e-6 }, measure: [], createdBy: 'test',
};

function newCampaign(name: string, overrides: Partial<CampaignInput> = {}): string {
  const dir = join(ROOT, name);
  initCampaign(dir, defineCampaign({ ...TINY, ...overrides }));
  return dir;
}

const LEASE_ENV = { ...process.env, CI: '1', QGLASS_LOCK_LEASE_SECONDS: '1' };

function startRun(dir: string, extra: string[] = []): { child: ChildProcess; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'campaign', 'run', dir, '--workers', '1', ...extra], { env: LEASE_ENV });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, stderr: () => err, exit };
}

async function until(cond: () => boolean, what: string, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function qglass(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: LEASE_ENV });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Per catalog file: sample key → (status, attempts, run that computed it). */
function catalogState(file: string): Map<string, { status: string; attempts: number; runId?: string | null }> {
  const cat = Catalog.openReadonly(file)!;
  try {
    return new Map(cat.samples().map((s) => [`${s.Q}/${s.index}`, { status: s.status, attempts: s.attempts, runId: s.runId }]));
  } finally {
    cat.close();
  }
}

test('a SIGSTOPped run keeps its lock beyond the lease on its own host: a second run refuses before writing, every sample is computed once', async () => {
  const dir = newCampaign('stopped');
  const a = startRun(dir);
  await until(() => /done in/.test(a.stderr()), 'the first sample of run A');
  a.child.kill('SIGSTOP');
  try {
    await sleep(2500); // more than twice the 1 s lease
    const catalog = join(dir, 'catalog.sqlite');
    const before = statSync(catalog).mtimeMs;
    const b = qglass(['campaign', 'run', dir, '--workers', '1']);
    assert.equal(b.code, 2, b.stderr);
    assert.match(b.stderr, new RegExp(`another run \\(pid ${a.child.pid} `));
    assert.match(b.stderr, /nothing was written/);
    assert.equal(statSync(catalog).mtimeMs, before, 'the refused run did not touch the catalog');
  } finally {
    a.child.kill('SIGCONT');
  }
  assert.equal(await a.exit, 0, a.stderr());
  const state = catalogState(join(dir, 'catalog.sqlite'));
  assert.equal(state.size, 8);
  for (const [key, s] of state) assert.deepEqual([s.status, s.attempts], ['done', 1], key);
});

test('a lock whose lease expired on another host is taken over; its old holder, resumed, stops without recording anything', async () => {
  // The takeover itself: a lock of a run on another node, not renewed for longer than the lease.
  const lockDir = join(ROOT, 'lease');
  mkdirSync(lockDir);
  const lockFile = join(lockDir, 'catalog.sqlite.lock');
  writeFileSync(lockFile, JSON.stringify({ pid: 999999, host: 'another-node', runId: 'remote', startedAt: '' }));
  process.env.QGLASS_LOCK_LEASE_SECONDS = '1';
  try {
    assert.throws(() => acquireLock(lockFile, 'local'), /another run \(pid 999999 on another-node/);
    const old = new Date(Date.now() - 5000);
    utimesSync(lockFile, old, old);
    const lock = acquireLock(lockFile, 'local');
    assert.match(lock.tookOver!, /lease of run remote on another-node expired/);
    lock.assertHeld();
    lock.release();
  } finally {
    delete process.env.QGLASS_LOCK_LEASE_SECONDS;
  }

  // The old holder: stopped mid-run, its lock taken meanwhile; on waking it records nothing more.
  const dir = newCampaign('taken-over');
  const lockPath = join(dir, 'catalog.sqlite.lock');
  const a = startRun(dir);
  await until(() => /done in/.test(a.stderr()), 'the first sample of run A');
  a.child.kill('SIGSTOP');
  let doneBefore: number;
  try {
    await sleep(1500);
    doneBefore = [...catalogState(join(dir, 'catalog.sqlite')).values()].filter((s) => s.status === 'done').length;
    // What a run on another node leaves after taking the lock over (its pid is this test's, alive).
    writeFileSync(lockPath, JSON.stringify({ pid: process.pid, host: 'another-node', runId: 'run-B', startedAt: new Date().toISOString() }));
  } finally {
    a.child.kill('SIGCONT');
  }
  const code = await a.exit;
  assert.equal(code, 4, a.stderr());
  assert.match(a.stderr(), /lost its lock: run run-B .* took over/);
  const doneAfter = [...catalogState(join(dir, 'catalog.sqlite')).values()].filter((s) => s.status === 'done').length;
  assert.equal(doneAfter, doneBefore, 'the resumed run recorded nothing after losing its lock');
  assert.equal(JSON.parse(readFileSync(lockPath, 'utf8')).runId, 'run-B', 'and left the new holder\'s lock alone');
  process.stderr.write(`# takeover: ${doneBefore} of 8 samples done before the stop, ${doneAfter} after the old holder woke\n`);
});

let serialRecords: unknown[] = [];

function numbers(dir: string): unknown[] {
  return loadCampaignSamples(dir).map((r) => ({ Q: r.Q, index: r.index, status: r.status, e: r.energyPerParticle, p: r.pressure, f: r.maxForce }));
}

test('a shard run followed by an unsharded run: the shard\'s samples are copied, not recomputed', async () => {
  const dir = newCampaign('shard-then-all');
  const shard = await runCampaign(dir, { workers: 1, shard: { index: 0, count: 2 } });
  const inShard = shardSamples(defineCampaign(TINY), { index: 0, count: 2 }).length;
  assert.equal(shard.computed, inShard);
  const all = await runCampaign(dir, { workers: 1 });
  assert.equal(all.recovery.imported, inShard);
  assert.equal(all.computed, 8 - inShard);
  // And the other shard now finds everything done in the unsharded catalog.
  const other = await runCampaign(dir, { workers: 1, shard: { index: 1, count: 2 } });
  assert.equal(other.computed, 0);
  assert.equal(other.recovery.imported, 8 - inShard);
  serialRecords = numbers(dir);
  assert.ok(serialRecords.every((r) => (r as { status: string }).status === 'done'));
  process.stderr.write(`# shard then unsharded: ${shard.computed} + ${all.computed} computed, ${all.recovery.imported} copied\n`);
});

test('a sharded and an unsharded run at the same time compute every sample exactly once between them', async () => {
  const dir = newCampaign('concurrent');
  const [s, u] = await Promise.all([
    runCampaign(dir, { workers: 1, shard: { index: 1, count: 2 } }),
    runCampaign(dir, { workers: 1 }),
  ]);
  assert.equal(s.computed + u.computed, 8, `shard computed ${s.computed}, unsharded ${u.computed}`);
  const states = catalogFiles(dir).map(catalogState);
  const unsharded = states[0];
  for (const [key, st] of unsharded) assert.equal(st.status, 'done', key);
  // Over both catalogs each sample was started once, by one run (a copied record keeps the run that computed it).
  const runs = new Map<string, Set<string>>();
  for (const st of states) {
    for (const [key, x] of st) {
      if (x.attempts === 0) continue;
      assert.equal(x.attempts, 1, `${key}: ${x.attempts} attempts`);
      runs.set(key, (runs.get(key) ?? new Set()).add(String(x.runId)));
    }
  }
  assert.equal(runs.size, 8);
  for (const [key, r] of runs) assert.equal(r.size, 1, `${key} computed by runs ${[...r].join(', ')}`);
  assert.deepEqual(numbers(dir), serialRecords);
  process.stderr.write(`# concurrent: shard computed ${s.computed}, unsharded ${u.computed} (+${u.importedDuringRun} copied meanwhile)\n`);
});

test('a damaged or truncated catalog is refused with its path and what to do, and left as it was', async () => {
  const src = join(ROOT, 'shard-then-all');
  for (const damage of ['random-bytes', 'empty', 'half'] as const) {
    const dir = join(ROOT, `damaged-${damage}`);
    cpSync(src, dir, { recursive: true });
    for (const f of catalogFiles(dir).slice(1)) rmSync(f);
    const file = join(dir, 'catalog.sqlite');
    const size = statSync(file).size;
    if (damage === 'random-bytes') {
      const fd = openSync(file, 'r+');
      const junk = Buffer.alloc(2048);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 17) & 0xff;
      writeSync(fd, junk, 0, junk.length, Math.floor(size / 2));
      closeSync(fd);
    } else truncateSync(file, damage === 'empty' ? 0 : Math.floor(size / 2));
    const bytes = readFileSync(file);
    for (const cmd of [['campaign', 'run', dir, '--workers', '1'], ['campaign', 'status', dir], ['campaign', 'export', dir, '--format', 'csv']]) {
      const r = qglass(cmd);
      assert.equal(r.code, 2, `${damage} ${cmd[1]}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`catalog ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged`), `${damage} ${cmd[1]}`);
      assert.match(r.stderr, /move it aside/);
    }
    assert.ok(readFileSync(file).equals(bytes), `${damage}: the damaged catalog was not modified`);
  }
});

test('a shard whose sibling catalog is damaged or empty (as one being created looked to older versions) computes its own samples and leaves the sibling as it was', () => {
  const dir = newCampaign('sibling-empty');
  const sibling = join(dir, 'catalog.shard-1-of-2.sqlite');
  writeFileSync(sibling, '');
  const r = qglass(['campaign', 'run', dir, '--shard', '0/2', '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  const cat = Catalog.openReadonly(join(dir, 'catalog.shard-0-of-2.sqlite'))!;
  const done = cat.samples().filter((s) => s.status === 'done').length;
  cat.close();
  assert.equal(done, shardSamples(defineCampaign(TINY), { index: 0, count: 2 }).length);
  assert.equal(statSync(sibling).size, 0);
});

test('a new catalog appears at its name complete: a reader polling the directory while another process creates catalogs never finds one empty or without tables', async () => {
  const dir = join(ROOT, 'creation-race');
  mkdirSync(dir);
  const count = 150;
  const src = new URL('../src/ensemble/catalog.ts', import.meta.url).href;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e',
    `const { Catalog } = await import(${JSON.stringify(src)}); for (let k = 0; k < ${count}; k++) Catalog.open(${JSON.stringify(dir)} + '/c' + k + '.sqlite').close();`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  let running = true;
  void exit.then(() => { running = false; });
  const seen = new Set<string>();
  const problems: string[] = [];
  let reads = 0;
  while (running || seen.size < count) {
    for (const f of readdirSync(dir).filter((n) => /^c\d+\.sqlite$/.test(n))) {
      if (seen.has(f)) continue;
      try {
        Catalog.openReadonly(join(dir, f), 'quick')!.close();
        seen.add(f);
        reads++;
      } catch (e) {
        problems.push(`${f}: ${(e as Error).message}`);
        seen.add(f);
      }
    }
    if (!running && seen.size < count) break;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(await exit, 0, err);
  assert.deepEqual(problems, []);
  assert.equal(reads, count);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary files left');
});

test('shards are balanced by expected work on the paper\'s six Q: max/mean ≤ 1.05 and every Q in every shard', () => {
  const { definition } = paperCampaign('full');
  assert.deepEqual(definition.Q, [10, 20, 40, 80, 160, 240]);
  for (const n of [2, 3, 4, 6, 12, 100]) {
    const { shards } = shardPlan(definition, n);
    assert.equal(shards.length, n);
    assert.equal(shards.reduce((t, s) => t + s.samples, 0), definition.Q.length * definition.samples);
    const work = shards.map((s) => s.expectedWork);
    const mean = work.reduce((a, b) => a + b, 0) / n;
    const ratio = Math.max(...work) / mean;
    assert.ok(ratio <= 1.05, `n = ${n}: max/mean = ${ratio}`);
    for (const s of shards) for (const Q of definition.Q) assert.ok(s.perQ[String(Q)] > 0, `n = ${n}, shard ${s.index} has no Q = ${Q}`);
    process.stderr.write(`# n = ${n}: max/mean expected work ${ratio.toFixed(4)}\n`);
  }
  // Deterministic, and every sample in exactly one shard.
  const def = defineCampaign({ ...TINY, samples: 30 });
  const seen = new Set<number>();
  for (let i = 0; i < 4; i++) for (const s of shardSamples(def, { index: i, count: 4 })) { assert.ok(!seen.has(s.ordinal)); seen.add(s.ordinal); }
  assert.equal(seen.size, 60);
  assert.deepEqual(shardPlan(def, 4), shardPlan(def, 4));
});

test('report and export name samples whose artefacts are missing, truncated or (with --verify full) altered', () => {
  const dir = join(ROOT, 'artefacts-damaged');
  cpSync(join(ROOT, 'shard-then-all'), dir, { recursive: true });
  const glass = (Q: number, i: number) => join(dir, 'samples', `Q${Q}`, `0000${i}-glass.xyz`);
  rmSync(glass(10, 0));
  truncateSync(glass(20, 1), 100);
  const bytes = readFileSync(glass(10, 2));
  bytes[bytes.length - 2] ^= 1; // same size, different content
  writeFileSync(glass(10, 2), bytes);

  const quick = qglass(['campaign', 'export', dir, '--format', 'json']);
  assert.equal(quick.code, 0, quick.stderr);
  assert.match(quick.stderr, /sample Q=10 #0 is damaged: samples\/Q10\/00000-glass\.xyz is missing/);
  assert.match(quick.stderr, /sample Q=20 #1 is damaged: .*has 100 bytes/);
  assert.doesNotMatch(quick.stderr, /Q=10 #2/);
  const full = qglass(['campaign', 'export', dir, '--format', 'json', '--verify', 'full']);
  assert.match(full.stderr, /sample Q=10 #2 is damaged: .*does not match its recorded SHA-256/);

  const out = join(ROOT, 'damaged-report');
  const rep = qglass(['report', dir, '--out', out, '--no-png', '--bootstrap', '20', '--verify', 'full', '--json']);
  assert.equal(rep.code, 0, rep.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const named = (summary.warnings as string[]).filter((w) => /is damaged/.test(w));
  assert.equal(named.length, 3, JSON.stringify(summary.warnings));
});

test('SIGTERM stops a run with exit code 143, its sample in progress back to pending', async () => {
  const dir = newCampaign('sigterm');
  const a = startRun(dir);
  await until(() => /done in/.test(a.stderr()), 'the first sample');
  a.child.kill('SIGTERM');
  assert.equal(await a.exit, 143, a.stderr());
  const states = [...catalogState(join(dir, 'catalog.sqlite')).values()].map((s) => s.status);
  assert.ok(states.includes('done') && states.includes('pending'), states.join(','));
  assert.ok(!states.includes('failed') && !states.includes('running'), states.join(','));
});

test('a full disk (ENOSPC) leaves the sample pending, not failed, and stops the run with an OS error', async (t) => {
  const dir = newCampaign('enospc');
  const mnt = join(ROOT, 'small-fs');
  mkdirSync(mnt);
  if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status !== 0) {
    t.skip('cannot mount a small tmpfs here (needs root): ENOSPC case skipped');
    return;
  }
  try {
    symlinkSync(mnt, join(dir, 'samples'));
    // Fill the file system completely.
    const fd = openSync(join(mnt, 'filler'), 'w');
    try { for (;;) writeSync(fd, Buffer.alloc(4096)); } catch (err) { assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC'); }
    closeSync(fd);
    await assert.rejects(runCampaign(dir, { workers: 1 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOSPC', err.message);
      assert.match(err.message, /stays pending/);
      return true;
    });
    const state = catalogState(join(dir, 'catalog.sqlite'));
    const statuses = [...state.values()].map((s) => s.status);
    assert.ok(statuses.every((s) => s === 'pending'), statuses.join(','));
    // Space again: the next run computes everything, no --retries needed.
    rmSync(join(mnt, 'filler'));
    const again = await runCampaign(dir, { workers: 1 });
    assert.equal(again.computed, 8);
    assert.equal(again.failed, 0);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('reading its own open catalog again keeps the process\'s SQLite locks: another process opening the catalog leaves the live write-ahead log in place', (t) => {
  const dir = mkdtempSync(join(ROOT, 'locks-'));
  const path = join(dir, 'catalog.sqlite');
  const writer = Catalog.open(path);
  writer.setMeta('probe', '1');
  // POSIX locks of this process on the catalog (Linux lists them in /proc/locks)
  const inode = statSync(path).ino;
  const held = () => readFileSync('/proc/locks', 'utf8').split('\n').some((l) => l.includes(`:${inode} `) && l.split(/\s+/).includes(String(process.pid)));
  const procLocks = existsSync('/proc/locks');
  if (procLocks) assert.ok(held(), 'the writer holds its lock');
  // what a run does at its start (verify, then status reads) while its writer is open
  Catalog.openReadonly(path)!.close();
  if (procLocks) assert.ok(held(), 'still held after the catalog was read again');
  // another process's SQLite (Python's, an older one) closing the catalog deletes the log it thinks abandoned
  const other = spawnSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(path)}); c.execute('SELECT count(*) FROM meta').fetchone(); c.close()`], { encoding: 'utf8' });
  if (other.error) t.diagnostic('python3 not found: the second process is not tried');
  else {
    assert.equal(other.status, 0, other.stderr);
    assert.ok(existsSync(`${path}-wal`), 'the writer\'s log is still there');
  }
  writer.setMeta('probe', '2');
  writer.close();
  const reader = Catalog.openReadonly(path)!;
  assert.equal(reader.meta('probe'), '2');
  reader.close();
});
