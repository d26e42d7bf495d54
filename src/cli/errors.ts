/** An error caused by the user's input: printed without a stack trace, exit code 2. */
export class UserError extends Error {}

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
