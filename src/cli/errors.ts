import { UserError } from '../util/errors.ts';

export { UserError };

/** Parse a numeric option strictly: the whole string must be a finite number. */
export function parseNumber(name: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UserError(`${name} must be a number; got '${raw}'`);
  return v;
}

export function parseInteger(name: string, raw: string): number {
  const v = parseNumber(name, raw);
  if (!Number.isInteger(v)) throw new UserError(`${name} must be an integer; got '${raw}'`);
  return v;
}
