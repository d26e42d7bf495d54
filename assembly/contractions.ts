/**
 * κ, τ, the k±/f± split of κ and U‴:zz for a vector z over the pairs of a contraction table, as
 * src/measure/contractions.ts `modeContractions` (the same operations in the same order, so the same
 * bits). Pointers: pi, pj i32; d (3 per pair), r, dphiOverR, d2phi, d3phi, z, uzz f64; uzz = 0 skips
 * U‴:zz. result receives the ten Neumaier sums (value, compensation) of k₊, k₋, f₊, f₋, τ.
 */

// Neumaier's step: the compensation term of adding v to s (t = s + v)
// @ts-ignore: decorator
@inline function compensation(s: f64, v: f64, t: f64): f64 {
  return abs(s) >= abs(v) ? (s - t) + v : (v - t) + s;
}

export function modeContractions(
  count: i32, pi: usize, pj: usize, d: usize, r: usize, dphiOverR: usize, d2phi: usize, d3phi: usize, z: usize, uzz: usize, result: usize,
): void {
  let kp: f64 = 0, kpc: f64 = 0, km: f64 = 0, kmc: f64 = 0, fp: f64 = 0, fpc: f64 = 0, fm: f64 = 0, fmc: f64 = 0, ta: f64 = 0, tac: f64 = 0;
  for (let p = 0; p < count; p++) {
    const o = <usize>p << 3;
    const zi = z + <usize>load<i32>(pi + (<usize>p << 2)) * 24, zj = z + <usize>load<i32>(pj + (<usize>p << 2)) * 24;
    const rr = load<f64>(r + o), inv = 1 / rr;
    const dp = d + <usize>p * 24;
    const nx = load<f64>(dp) * inv, ny = load<f64>(dp, 8) * inv, nz = load<f64>(dp, 16) * inv;
    const zx = load<f64>(zj) - load<f64>(zi), zy = load<f64>(zj, 8) - load<f64>(zi, 8), zz = load<f64>(zj, 16) - load<f64>(zi, 16);
    const a = nx * zx + ny * zy + nz * zz;
    const px = zx - a * nx, py = zy - a * ny, pz = zz - a * nz;
    const b2 = px * px + py * py + pz * pz;
    const g1 = load<f64>(dphiOverR + o), phi2 = load<f64>(d2phi + o), phi3 = load<f64>(d3phi + o);
    const a2 = a * a;

    const s = phi2 * a2;
    if (phi2 >= 0) { const t = kp + s; kpc += compensation(kp, s, t); kp = t; }
    else { const t = km + s; kmc += compensation(km, s, t); km = t; }
    const f = g1 * b2;
    if (g1 >= 0) { const t = fp + f; fpc += compensation(fp, f, t); fp = t; }
    else { const t = fm + f; fmc += compensation(fm, f, t); fm = t; }

    const C = (phi2 - g1) * inv;
    const c3 = phi3 * a2 * a + 3 * C * a * b2;
    { const t = ta + c3; tac += compensation(ta, c3, t); ta = t; }

    if (uzz != 0) {
      const cn = phi3 * a2 + C * (b2 - 2 * a2), cz = 2 * C * a;
      const gx = cn * nx + cz * zx, gy = cn * ny + cz * zy, gz = cn * nz + cz * zz;
      const ui = uzz + (zi - z), uj = uzz + (zj - z);
      store<f64>(uj, load<f64>(uj) + gx); store<f64>(uj, load<f64>(uj, 8) + gy, 8); store<f64>(uj, load<f64>(uj, 16) + gz, 16);
      store<f64>(ui, load<f64>(ui) - gx); store<f64>(ui, load<f64>(ui, 8) - gy, 8); store<f64>(ui, load<f64>(ui, 16) - gz, 16);
    }
  }
  store<f64>(result, kp); store<f64>(result, kpc, 8); store<f64>(result, km, 16); store<f64>(result, kmc, 24);
  store<f64>(result, fp, 32); store<f64>(result, fpc, 40); store<f64>(result, fm, 48); store<f64>(result, fmc, 56);
  store<f64>(result, ta, 64); store<f64>(result, tac, 72);
}
