/**
 * HDF5 files through h5wasm (HDF5 compiled to WebAssembly; h5py, h5dump and HDFView read its
 * files). A file is described as a tree of groups and datasets with attributes, then written in one
 * go, atomically: to a temporary file beside the target, renamed over it when complete. h5wasm is
 * loaded only when a file is written, so commands that never write HDF5 do not pay its start-up.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type H5Attribute = string | number;

export interface H5Dataset {
  kind: 'dataset';
  /** Row-major data: float64, int64, int8 (booleans: 1, 0, −1 for missing) or variable-length UTF-8 strings. */
  data: Float64Array | BigInt64Array | Int8Array | string[];
  shape: number[];
  attributes?: Record<string, H5Attribute>;
}

export interface H5Group {
  kind: 'group';
  children: Map<string, H5Group | H5Dataset>;
  attributes?: Record<string, H5Attribute>;
}

export function h5Group(attributes?: Record<string, H5Attribute>): H5Group {
  return { kind: 'group', children: new Map(), attributes };
}

const DTYPE = { Float64Array: '<d', BigInt64Array: '<q', Int8Array: '<b' } as const;

export async function writeHdf5(path: string, root: H5Group): Promise<void> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const file = new h5wasm.File(tmp, 'w');
  try {
    const write = (target: InstanceType<typeof h5wasm.Group>, node: H5Group | H5Dataset, name: string | null) => {
      if (node.kind === 'group') {
        const g = name === null ? target : target.create_group(name);
        for (const [k, v] of Object.entries(node.attributes ?? {})) g.create_attribute(k, v);
        for (const [k, child] of node.children) write(g, child, k);
        return;
      }
      const ds = Array.isArray(node.data)
        ? target.create_dataset({ name: name!, data: node.data, shape: node.shape })
        : target.create_dataset({ name: name!, data: node.data, shape: node.shape, dtype: DTYPE[node.data.constructor.name as keyof typeof DTYPE] });
      for (const [k, v] of Object.entries(node.attributes ?? {})) ds.create_attribute(k, v);
    };
    write(file, root, null);
    file.close();
    renameSync(tmp, path);
  } catch (err) {
    try { file.close(); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* never created or already renamed */ }
    throw err;
  }
}
