/**
 * One writer per catalog. A run holds CATALOG.lock (created exclusively, holding pid, host and run
 * id) for as long as it runs: a timer renews the lease (the file's mtime) every LEASE/12 seconds,
 * and before each catalog write the run checks the lock is still its own, so a run whose lock was
 * taken over stops before writing anything more.
 *
 * A lock is taken over only when its holder is provably gone: on the same host, when its process
 * no longer exists (a stopped or busy process still holds it, however long); from another host,
 * when its lease has expired (e.g. a Slurm job killed on another node). A holder that wakes after
 * its lease expired renews it if nobody took the lock meanwhile, and otherwise stops.
 *
 * The lease defaults to 120 s; QGLASS_LOCK_LEASE_SECONDS changes it (tests use a short one; on a
 * network file system with slow attribute caching a longer one is safer).
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { SystemError } from '../util/errors.ts';

const DEFAULT_LEASE_SECONDS = 120;

export function leaseSeconds(): number {
  const env = Number(process.env.QGLASS_LOCK_LEASE_SECONDS);
  return env > 0 && Number.isFinite(env) ? env : DEFAULT_LEASE_SECONDS;
}

export interface LockInfo {
  pid: number;
  host: string;
  runId: string;
  startedAt: string;
}

export interface RunLock {
  path: string;
  info: LockInfo;
  /** Why a previous lock was taken over (null: there was none). */
  tookOver: string | null;
  /** Throw LockLostError unless the lock is still this run's (renewing an expired lease that nobody took). */
  assertHeld(): void;
  release(): void;
}

/** The run's lock was taken over by another run: it must stop without writing (an OS-level failure, exit code 4). */
export class LockLostError extends SystemError {
  constructor(message: string) {
    super(message, 'ELOCKLOST');
  }
}

/** Another live run holds the lock. */
export class LockBusyError extends RangeError {}

export function acquireLock(path: string, runId: string): RunLock {
  const info: LockInfo = { pid: process.pid, host: hostname(), runId, startedAt: new Date().toISOString() };
  let tookOver: string | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(info) + '\n');
      closeSync(fd);
      return heldLock(path, info, tookOver);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const staleBecause = staleReason(path);
    if (staleBecause === null) {
      const holder = readLockInfo(path);
      throw new LockBusyError(
        `another run (pid ${holder?.pid ?? '?'} on ${holder?.host ?? '?'}, run ${holder?.runId ?? '?'}, started ${holder?.startedAt ?? '?'}) holds ${path}; ` +
          `nothing was written. Wait for it to finish; if that process is gone for good, delete ${path}`,
      );
    }
    tookOver = staleBecause;
    try { unlinkSync(path); } catch { /* removed by a concurrent taker; retry the exclusive create */ }
  }
  throw new LockBusyError(`could not acquire ${path}: another process keeps taking it`);
}

/** null while the lock's holder may be alive; otherwise why it is provably gone. */
export function staleReason(path: string): string | null {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return 'lock vanished';
  }
  const age = (Date.now() - mtimeMs) / 1000;
  const holder = readLockInfo(path);
  if (holder === null) return age > 5 ? 'unreadable lock file' : null;
  if (holder.host === hostname()) return processAlive(holder.pid) ? null : `run ${holder.runId} (pid ${holder.pid}) is no longer running`;
  const lease = leaseSeconds();
  return age > lease ? `lease of run ${holder.runId} on ${holder.host} expired (not renewed for ${age.toFixed(0)} s > ${lease} s)` : null;
}

export function readLockInfo(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/** Whether the lock at path is held by the live run runId. */
export function heldBy(path: string, runId: string): boolean {
  return readLockInfo(path)?.runId === runId && staleReason(path) === null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function heldLock(path: string, info: LockInfo, tookOver: string | null): RunLock {
  let lost: string | null = null;
  const check = () => {
    if (lost) return;
    const current = readLockInfo(path);
    if (current?.runId !== info.runId) {
      lost = current ? `run ${current.runId} (pid ${current.pid} on ${current.host}) took over ${path}` : `${path} was removed`;
      return;
    }
    const now = new Date();
    try { utimesSync(path, now, now); } catch { lost = `cannot renew ${path}`; }
  };
  const timer = setInterval(check, (leaseSeconds() * 1000) / 12);
  timer.unref();
  let released = false;
  return {
    path, info, tookOver,
    assertHeld() {
      check();
      if (lost) throw new LockLostError(`this run (${info.runId}) lost its lock: ${lost}; stopped without recording anything more (the other run continues the work)`);
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (readLockInfo(path)?.runId === info.runId) unlinkSync(path);
    },
  };
}
