// The kernels module: every export here is callable from TypeScript through src/util/kernels.ts.
export { pairForcesInversePower, pairForcesSoftSphere } from './forces';
export { hessianMultiply } from './hessian';
export { assembleHessian } from './stiffness';
export { neighborPairs, neighborRows } from './neighbors';

/** First byte after the module's static data: the TypeScript allocator hands out memory from here. */
export function heapBase(): usize {
  return __heap_base;
}
