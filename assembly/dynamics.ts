/**
 * The velocity-Verlet sweeps of src/engine/dynamics.ts over numbers from .. to of the velocity,
 * position and force arrays (3 per particle), unit masses; the same operations in the same order
 * as the TypeScript loops, so the same bits. Worker threads take one range each.
 */

/** v += half·f, x += dt·v; returns the largest |v| component of the range. */
export function verletKickDrift(from: i32, to: i32, v: usize, x: usize, f: usize, half: f64, dt: f64): f64 {
  let vmax: f64 = 0;
  for (let k = from; k < to; k++) {
    const o = <usize>k << 3;
    const vk = load<f64>(v + o) + half * load<f64>(f + o);
    store<f64>(v + o, vk);
    store<f64>(x + o, load<f64>(x + o) + dt * vk);
    vmax = max(vmax, abs(vk));
  }
  return vmax;
}

/** v += half·f. */
export function verletKick(from: i32, to: i32, v: usize, f: usize, half: f64): void {
  for (let k = from; k < to; k++) {
    const o = <usize>k << 3;
    store<f64>(v + o, load<f64>(v + o) + half * load<f64>(f + o));
  }
}
