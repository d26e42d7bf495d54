/**
 * Checks of output locations made when a command starts, before any computation: a run must not
 * spend an hour and then fail on a missing directory, nor replace anything but a regular file.
 */
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import { assertReplaceable, fileKind } from './atomic-write.ts';

/** A file the command will write: nothing or a regular file there, in an existing writable directory. */
export function checkOutputPath(path: string, option = '--out'): void {
  if (path.trim() === '') throw new UserError(`${option} needs a file name`);
  assertReplaceable(path, option);
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UserError(`${option} ${path}: the directory ${dir} does not exist; create it first or choose another path`);
  }
  if (!st.isDirectory()) throw new UserError(`${option} ${path}: ${dir} is not a directory`);
  requireWritable(dir, `${option} ${path}`);
}

/** A directory the command will create (with its parents) or fill: an existing one must be a writable directory. */
export function checkOutputDirectory(path: string, option: string): void {
  let at = resolve(path);
  for (;;) {
    let st;
    try {
      st = lstatSync(at);
    } catch {
      const up = dirname(at);
      if (up === at) break;
      at = up;
      continue;
    }
    if (st.isSymbolicLink()) st = statSync(at);
    if (!st.isDirectory()) throw new UserError(`${option} ${path}: ${at} is a ${fileKind(st)}, not a directory; choose another path`);
    requireWritable(at, `${option} ${path}`);
    return;
  }
}

function requireWritable(dir: string, what: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new UserError(`${what}: no permission to write in ${dir}`);
  }
}
