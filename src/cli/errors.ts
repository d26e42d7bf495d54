import { SystemError, UserError } from '../util/errors.ts';
import { EXIT } from '../util/exit-codes.ts';
import { decimalOrNaN } from '../util/decimal.ts';

export { SystemError, UserError };

/**
 * The exit code of a command that failed with err: bad input (UserError, RangeError) 2, an
 * operating-system failure (an errno code such as ENOSPC, EIO, EACCES) 4, anything else 1.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UserError || err instanceof RangeError) return EXIT.badInput;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (err instanceof SystemError || (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code))) return EXIT.system;
  return EXIT.usage;
}

/** Parse a numeric option strictly: the whole string must be a finite decimal number. */
export function parseNumber(name: string, raw: string): number {
  const v = decimalOrNaN(raw);
  if (Number.isNaN(v)) throw new UserError(`${name} must be a number in decimal notation; got '${raw}'`);
  return v;
}

export function parseInteger(name: string, raw: string): number {
  const v = parseNumber(name, raw);
  if (!Number.isInteger(v)) throw new UserError(`${name} must be an integer; got '${raw}'`);
  return v;
}
