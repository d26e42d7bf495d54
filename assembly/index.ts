// The kernels module: every export here is callable from TypeScript through src/util/kernels.ts.
export { pairForcesInversePower, pairForcesSoftSphere } from './forces';
export { hessianMultiply } from './hessian';
export { assembleHessian } from './stiffness';
export { verletKickDrift, verletKick } from './dynamics';
export { dot, axpy, axpyDot, basisDots, basisSubtract, combineRows, cgAdvance, cgDirection, projectOutTranslations, blockDiagonalApply } from './vectors';
export { modeContractions } from './contractions';
export { binCells, binGather, binSort, movedBeyond, neighborFilter, neighborPairs, neighborPlace, neighborRowOffsets, neighborRowScatter } from './neighbors';

/** First byte after the module's static data: the TypeScript allocator hands out memory from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** dst[k] += src[k] for k in [from, to) (f64): the reduction of per-thread partial results, in thread order. */
export function addInto(dst: usize, src: usize, from: i32, to: i32): void {
  for (let k = from; k < to; k++) {
    const a = dst + (<usize>k << 3);
    store<f64>(a, load<f64>(a) + load<f64>(src + (<usize>k << 3)));
  }
}
