/** Numbers as the report shows them; pure, so that the page's viewer script shares it. */
export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

/** "value ± error" with the error to two significant digits and the value to the same decimal place. */
export function formatEstimate(e: { value: number; error: number } | null | undefined): string {
  if (!e || !Number.isFinite(e.value)) return '—';
  if (!Number.isFinite(e.error) || e.error <= 0) return formatNumber(e.value);
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(e.error)));
  if (decimals <= 6 && (Math.abs(e.value) >= 1e-3 || e.value === 0) && Math.abs(e.value) < 1e6) return `${e.value.toFixed(decimals)} ± ${e.error.toFixed(decimals)}`;
  const exp = Math.floor(Math.log10(Math.abs(e.value) || e.error));
  const scale = 10 ** exp;
  const d = Math.max(0, 1 - Math.floor(Math.log10(e.error / scale)));
  return `(${(e.value / scale).toFixed(d)} ± ${(e.error / scale).toFixed(d)})·10^${exp}`;
}
