/** A decimal number as people write it: digits, optional fraction and exponent (no hex, binary, octal, Infinity). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The finite decimal number text spells (surrounding blanks allowed), or NaN. */
export function decimalOrNaN(text: string | undefined): number {
  const t = (text ?? '').trim();
  if (!DECIMAL.test(t)) return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : NaN;
}
