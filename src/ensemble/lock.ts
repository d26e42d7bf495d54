/**
 * One writer per catalog: a run holds CATALOG.lock (created exclusively, holding pid, host and run
 * id) and touches it every few seconds. A lock is stale, and taken over, when its process is gone
 * (same host) or it has not been touched for STALE_SECONDS (any host, e.g. a Slurm job killed on
 * another node). Stale samples of the dead run are then re-queued by the new run.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export const HEARTBEAT_SECONDS = 10;
export const STALE_SECONDS = 120;

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
  release(): void;
}

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
      throw new RangeError(
        `another run (pid ${holder?.pid ?? '?'} on ${holder?.host ?? '?'}, started ${holder?.startedAt ?? '?'}) is using this catalog; ` +
          `wait for it to finish, or if that process is gone, delete ${path}`,
      );
    }
    tookOver = staleBecause;
    try { unlinkSync(path); } catch { /* removed by a concurrent taker; retry the exclusive create */ }
  }
  throw new RangeError(`could not acquire ${path}: another process keeps taking it`);
}

/** null while the lock's holder looks alive; otherwise why it is stale. */
export function staleReason(path: string): string | null {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return 'lock vanished';
  }
  const holder = readLockInfo(path);
  if (holder && holder.host === hostname() && !processAlive(holder.pid)) return `run ${holder.runId} (pid ${holder.pid}) is no longer running`;
  if (holder === null && Date.now() - mtimeMs > 5000) return 'unreadable lock file';
  const age = (Date.now() - mtimeMs) / 1000;
  if (age > STALE_SECONDS) return `lock of run ${holder?.runId ?? '?'} not refreshed for ${age.toFixed(0)} s`;
  return null;
}

export function readLockInfo(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
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
  const timer = setInterval(() => {
    const now = new Date();
    try { utimesSync(path, now, now); } catch { /* lock removed under us: nothing to refresh */ }
  }, HEARTBEAT_SECONDS * 1000);
  timer.unref();
  let released = false;
  return {
    path, info, tookOver,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      const current = readLockInfo(path);
      if (current && current.runId === info.runId) unlinkSync(path);
    },
  };
}
