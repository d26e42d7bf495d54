/**
 * The velocity-Verlet sweeps of src/engine/dynamics.ts over particles from .. to of the velocity,
 * position and force arrays (3 numbers per particle), unit masses; the same operations in the same
 * order as the TypeScript loops, so the same bits. Worker threads take one range each.
 */

/**
 * v += half·f (twice when `closingKick`: the previous step's closing kick, left pending, and this
 * step's opening kick, as the same two additions), x += dt·v. Returns the largest squared
 * displacement of a particle of the range from its position in `ref` (NaN if any is NaN).
 */
export function verletKickDrift(from: i32, to: i32, v: usize, x: usize, f: usize, ref: usize, half: f64, dt: f64, closingKick: bool): f64 {
  let worst: f64 = 0;
  for (let i = from; i < to; i++) {
    const o = <usize>i * 24;
    const d0 = kickDriftComponent(v + o, x + o, f + o, half, dt, closingKick) - load<f64>(ref + o);
    const d1 = kickDriftComponent(v + o + 8, x + o + 8, f + o + 8, half, dt, closingKick) - load<f64>(ref + o, 8);
    const d2 = kickDriftComponent(v + o + 16, x + o + 16, f + o + 16, half, dt, closingKick) - load<f64>(ref + o, 16);
    const moved = d0 * d0 + d1 * d1 + d2 * d2;
    if (moved > worst || moved != moved) worst = moved;
  }
  return worst;
}

/** The kicks and the drift of one number; returns the new position. */
// @ts-ignore: decorator
@inline function kickDriftComponent(v: usize, x: usize, f: usize, half: f64, dt: f64, closingKick: bool): f64 {
  const fk = load<f64>(f);
  let vk = load<f64>(v) + half * fk;
  if (closingKick) vk += half * fk;
  store<f64>(v, vk);
  const xk = load<f64>(x) + dt * vk;
  store<f64>(x, xk);
  return xk;
}

/** v += half·f. */
export function verletKick(from: i32, to: i32, v: usize, f: usize, half: f64): void {
  for (let k = 3 * from; k < 3 * to; k++) {
    const o = <usize>k << 3;
    store<f64>(v + o, load<f64>(v + o) + half * load<f64>(f + o));
  }
}
