/**
 * Atomic file replacement: the data goes to a temporary file in the target's directory, is flushed
 * to disk, and only then renamed over the target. rename(2) within one file system is atomic, so
 * after a crash the target holds either its old content or the complete new one, never a torn file.
 *
 * Only a regular file (or nothing) is ever replaced: rename(2) would silently turn a device node,
 * FIFO, socket, symlink or directory at the target into a regular file (as root, /dev/null).
 */
import { closeSync, fsyncSync, lstatSync, openSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SystemError, UserError } from '../util/errors.ts';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  assertReplaceable(path, null);
  const dir = dirname(path);
  // Same directory as the target (rename across file systems is not atomic); a dot name hides it.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    // Checked again just before the rename: something may have appeared at the path meanwhile.
    assertReplaceable(path, null);
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already renamed or never created */ }
    throw describeWriteError(err, path);
  }
  syncDirectory(dir);
}

/** What kind of file system object a stat describes, for messages. */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'regular file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'special file';
}

/** Throw unless nothing or a regular file (not a symlink to one) is at path. option: the option that named it, if any. */
export function assertReplaceable(path: string, option: string | null): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw describeWriteError(err, path);
  }
  if (!st.isFile()) {
    throw new UserError(`${option ? `${option} ` : ''}${path} exists and is not a regular file but a ${fileKind(st)}; qglass replaces only regular files: choose another path`);
  }
}

/** An OS error of a write, re-worded to name the target (never the hidden temporary file). */
function describeWriteError(err: unknown, path: string): Error {
  if (err instanceof UserError || err instanceof SystemError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== 'string') return err as Error;
  const why: Record<string, string> = {
    ENOENT: `its directory ${dirname(path)} does not exist`,
    ENOTDIR: `a component of ${dirname(path)} is not a directory`,
    EACCES: `no permission to write in ${dirname(path)}`,
    EPERM: `not permitted to write in ${dirname(path)}`,
    EROFS: `${dirname(path)} is on a read-only file system`,
    ENOSPC: 'no space left on the device (the previous content, if any, is intact)',
    EDQUOT: 'disk quota exceeded (the previous content, if any, is intact)',
    EIO: 'I/O error (the previous content, if any, is intact)',
  };
  return new SystemError(`cannot write ${path}: ${why[e.code] ?? e.message} (${e.code})`, e.code);
}

/** Make the rename itself durable. Best effort: some file systems refuse fsync on a directory. */
function syncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* durability of the directory entry is not guaranteed there; the file is complete either way */ }
  finally {
    if (fd >= 0) closeSync(fd);
  }
}
