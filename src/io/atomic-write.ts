/**
 * Atomic file replacement: the data goes to a temporary file in the target's directory, is flushed
 * to disk, and only then renamed over the target. rename(2) within one file system is atomic, so
 * after a crash the target holds either its old content or the complete new one, never a torn file.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  // Same directory as the target (rename across file systems is not atomic); a dot name hides it.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = openSync(tmp, 'wx');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already renamed or never created */ }
    throw err;
  }
  syncDirectory(dir);
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
