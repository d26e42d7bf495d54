/**
 * A real Slurm job array on this machine: munged, slurmctld and slurmd are started with a one-node
 * configuration in a temporary directory, `campaign slurm`'s script is submitted as a two-task
 * array, one task is cancelled mid-run (scancel: SIGTERM) and resubmitted alone, the shards are
 * merged, and every sample must have been computed exactly once and equal an unsharded run.
 * Skips with a message where Slurm cannot be started (not root, packages missing: .ci/run installs
 * slurm-wlm and munge from Debian).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCampaign, initCampaign, type CampaignInput } from '../../src/ensemble/campaign.ts';
import { loadCampaignSamples } from '../../src/ensemble/export.ts';
import { runCampaign } from '../../src/ensemble/runner.ts';
import { Catalog } from '../../src/ensemble/catalog.ts';
import { parseSlurmTime, suggestArraySize } from '../../src/ensemble/slurm.ts';
import { measuredSecondsPerWork } from '../../src/ensemble/shard.ts';
import { expectedSampleWork } from '../../src/ensemble/shard.ts';

const BIN = new URL('../../bin/qglass.mjs', import.meta.url).pathname;
const ROOT = mkdtempSync(join(tmpdir(), 'qglass-slurm-'));
const started: string[] = []; // pid files of the daemons this test started

after(() => {
  const pids: number[] = [];
  for (const pidFile of started.reverse()) {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      pids.push(pid);
    } catch { /* already gone */ }
  }
  // slurmctld saves its state as it stops: wait for the daemons to exit before removing their files
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let k = 0; k < 100 && pids.some(alive); k++) Atomics.wait(pause, 0, 0, 100);
  rmSync(ROOT, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

const TINY: CampaignInput = {
  Q: [10, 20], N: 256, samples: 4, seed: 5, density: '10:0.55,20:0.56',
  protocol: { nveTime: 0.3, ftol: 1e-8 }, measure: [], createdBy: 'test',
};

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const which = (name: string) => run('sh', ['-c', `command -v ${name}`]).code === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start munged, slurmctld and slurmd on a private configuration; the reason when that is impossible. */
async function startSlurm(): Promise<{ env: NodeJS.ProcessEnv } | string> {
  if (process.getuid?.() !== 0) return 'not root: slurmd must run as root';
  const missing = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel'].filter((n) => !which(n));
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install slurm-wlm munge)`;
  const munge = join(ROOT, 'munge');
  mkdirSync(munge);
  chmodSync(munge, 0o700);
  for (const d of ['state', 'spool']) mkdirSync(join(ROOT, d));
  const key = join(munge, 'munge.key');
  let r = run('mungekey', ['--create', `--keyfile=${key}`, '--force']);
  if (r.code !== 0) return `mungekey failed: ${r.err}`;
  const socket = join(munge, 'munge.socket');
  r = run('munged', [`--key-file=${key}`, `--socket=${socket}`, `--pid-file=${join(munge, 'munged.pid')}`, `--log-file=${join(munge, 'munged.log')}`, `--seed-file=${join(munge, 'seed')}`, '--force']);
  if (r.code !== 0) return `munged did not start: ${r.err}`;
  started.push(join(munge, 'munged.pid'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const host = hostname();
  const conf = join(ROOT, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=qglasstest', `SlurmctldHost=${host}`, 'SlurmUser=root', 'SlurmdUser=root',
    'AuthType=auth/munge', `AuthInfo=socket=${socket}`, 'CredType=cred/munge',
    `StateSaveLocation=${join(ROOT, 'state')}`, `SlurmdSpoolDir=${join(ROOT, 'spool')}`,
    `SlurmctldPidFile=${join(ROOT, 'slurmctld.pid')}`, `SlurmdPidFile=${join(ROOT, 'slurmd.pid')}`,
    `SlurmctldPort=${port}`, `SlurmdPort=${port + 1}`,
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SchedulerType=sched/builtin',
    'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core', 'ReturnToService=2', 'KillWait=10',
    'JobCompType=jobcomp/none', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none', 'MpiDefault=none',
    `SlurmctldLogFile=${join(ROOT, 'slurmctld.log')}`, `SlurmdLogFile=${join(ROOT, 'slurmd.log')}`,
    `NodeName=${host} CPUs=${availableParallelism()} State=UNKNOWN`,
    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP', '',
  ].join('\n'));
  const env = { ...process.env, SLURM_CONF: conf };
  r = run('slurmctld', ['-f', conf, '-i'], env);
  if (r.code !== 0) return `slurmctld did not start: ${r.err}`;
  started.push(join(ROOT, 'slurmctld.pid'));
  r = run('slurmd', ['-f', conf], env);
  if (r.code !== 0) return `slurmd did not start: ${r.err}`;
  started.push(join(ROOT, 'slurmd.pid'));
  for (let i = 0; i < 60; i++) {
    const s = run('sinfo', ['-h', '-o', '%T'], env);
    if (s.code === 0 && /idle/.test(s.out)) return { env };
    await sleep(500);
  }
  return `the Slurm node did not become idle: ${run('sinfo', [], env).out} ${readFileSync(join(ROOT, 'slurmd.log'), 'utf8').slice(-500)}`;
}

/** Wait until no task of the job is queued or running. */
async function waitForJob(jobId: string, env: NodeJS.ProcessEnv, ms = 150_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const q = run('squeue', ['-h', '-j', jobId, '-o', '%i %T'], env);
    if (q.code !== 0 || q.out.trim() === '') return;
    await sleep(500);
  }
  throw new Error(`job ${jobId} still in the queue after ${ms / 1000} s`);
}

const doneLine = /^Q=(\d+) #(\d+) done in/gm;

test('a Slurm job array: one task cancelled mid-run and resubmitted; after merge every sample was computed once and equals an unsharded run', async (t) => {
  const slurm = await startSlurm();
  if (typeof slurm === 'string') {
    t.skip(`Slurm cannot be started here: ${slurm}`);
    return;
  }
  const { env } = slurm;
  const dir = join(ROOT, 'campaign');
  initCampaign(dir, defineCampaign(TINY));
  const gen = run(process.execPath, [BIN, 'campaign', 'slurm', dir, '--array', '0-1', '--cpus-per-task', '1', '--time', '10:00'], env);
  assert.equal(gen.code, 0, gen.err);
  const script = join(ROOT, 'job.sh');
  writeFileSync(script, gen.out);

  const sub = run('sbatch', ['--parsable', script], env);
  assert.equal(sub.code, 0, sub.err);
  const jobId = sub.out.trim().split(';')[0];
  const outFile = (task: number, job = jobId) => join(dir, `slurm-${job}_${task}.out`);
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

  // Cancel task 1 once it has finished its first sample (it has three more to go).
  const t0 = Date.now();
  while (!/done in/.test(read(outFile(1)))) {
    if (Date.now() - t0 > 120_000) throw new Error(`task 1 never finished a sample: ${read(outFile(1))}`);
    await sleep(200);
  }
  const cancel = run('scancel', [`${jobId}_1`], env);
  assert.equal(cancel.code, 0, cancel.err);
  await waitForJob(jobId, env);
  const cancelled = read(outFile(1));
  assert.match(cancelled, /SIGTERM: stopping/, cancelled);
  const beforeResubmit = [...cancelled.matchAll(doneLine)].length;
  assert.ok(beforeResubmit < 4, `task 1 finished all its samples before it was cancelled: ${cancelled}`);

  // Resubmit the cancelled task alone: the same shard resumes.
  const again = run('sbatch', ['--parsable', '--array=1', script], env);
  assert.equal(again.code, 0, again.err);
  const jobId2 = again.out.trim().split(';')[0];
  await waitForJob(jobId2, env);
  const resumed = read(outFile(1, jobId2));
  assert.match(resumed, /shard 1\/2/, resumed);

  const merge = run(process.execPath, [BIN, 'campaign', 'merge', dir, '--json'], env);
  assert.equal(merge.code, 0, merge.err);

  // Every sample computed exactly once over all task logs.
  const logs = readdirSync(dir).filter((f) => /^slurm-.*\.out$/.test(f)).map((f) => read(join(dir, f)));
  const computed = logs.flatMap((l) => [...l.matchAll(doneLine)].map((m) => `${m[1]}/${m[2]}`));
  const unique = new Set(computed);
  const cat = Catalog.openReadonly(join(dir, 'catalog.sqlite'))!;
  const merged = cat.samples();
  cat.close();
  process.stderr.write(
    `# slurm: job ${jobId} (2 tasks) + resubmitted ${jobId2}; task 1 cancelled after ${beforeResubmit} sample(s); ` +
      `${computed.length} computations of ${unique.size} distinct samples; merged catalog: ${merged.filter((s) => s.status === 'done').length}/${merged.length} done\n`,
  );
  assert.equal(unique.size, 8, `task logs:\n${logs.join("\n---\n")}`);
  assert.equal(computed.length, 8, `computed: ${computed.join(' ')}`);
  assert.ok(merged.every((s) => s.status === 'done'));

  // The same numbers and glasses as one unsharded run.
  const refDir = join(ROOT, 'reference');
  initCampaign(refDir, defineCampaign(TINY));
  const ref = await runCampaign(refDir, { workers: 1 });
  assert.equal(ref.computed, 8);
  const view = (d: string) => loadCampaignSamples(d).map((r) => ({
    Q: r.Q, index: r.index, seed: r.seed, e: r.energyPerParticle, p: r.pressure, f: r.maxForce,
    glass: createHash('sha256').update(readFileSync(join(d, r.artefacts.glass!))).digest('hex'),
  }));
  assert.deepEqual(view(dir), view(refDir));
});

test('array sizing: Slurm times, --target-time from measured sample times, plan --json', () => {
  assert.equal(parseSlurmTime('30'), 1800);
  assert.equal(parseSlurmTime('5:00'), 300);
  assert.equal(parseSlurmTime('02:00:00'), 7200);
  assert.equal(parseSlurmTime('1-02:03:04'), 93784);
  assert.equal(parseSlurmTime('2-12'), 2.5 * 86400);
  assert.throws(() => parseSlurmTime('soon'), /HH:MM:SS/);
  const def = defineCampaign({ ...TINY, samples: 50 });
  // 36 s per unit of work, 100 units left, 1 core: 3600 s of work, +20% headroom over a 1 h target → 2 tasks.
  assert.equal(suggestArraySize(def, 100, 36, 3600, 1), 2);
  assert.equal(suggestArraySize(def, 100, 36, 3600, 4), 1);
  assert.equal(suggestArraySize(def, 1e9, 36, 60, 1), 100, 'never more tasks than samples');
  const rate = measuredSecondsPerWork(def, [{ Q: 10, seconds: 2 }, { Q: 20, seconds: null }]);
  assert.ok(rate !== null && Math.abs(rate * expectedSampleWork(def, 10) - 2) < 1e-12);

  const dir = join(ROOT, 'plan');
  initCampaign(dir, def);
  const plan = run(process.execPath, [BIN, 'campaign', 'plan', dir, '--shards', '3', '--json']);
  assert.equal(plan.code, 0, plan.err);
  const { shards } = JSON.parse(plan.out);
  assert.deepEqual(shards.map((s: { index: number }) => s.index), [0, 1, 2]);
  assert.equal(shards.reduce((t: number, s: { samples: number }) => t + s.samples, 0), 100);
  for (const s of shards) assert.deepEqual(Object.keys(s.perQ), ['10', '20']);
  const noData = run(process.execPath, [BIN, 'campaign', 'slurm', dir, '--target-time', '1:00:00']);
  assert.equal(noData.code, 2);
  assert.match(noData.err, /--target-time needs the time of a few finished samples/);
});
