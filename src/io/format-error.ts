/** Malformed input files: the message names the file and, where it applies, the 1-based line. */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';

export class FileFormatError extends UserError {
  readonly source: string;
  readonly line: number | undefined;

  constructor(source: string, line: number | undefined, message: string) {
    super(line === undefined ? `${source}: ${message}` : `${source}:${line}: ${message}`);
    this.name = 'FileFormatError';
    this.source = source;
    this.line = line;
  }
}

/** A whole input file; a missing or unreadable file is a clear input error, not a stack trace. */
export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UserError(`cannot read '${path}': ${why}`);
  }
}
