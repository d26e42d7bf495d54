// Worker-thread entry point, copied unchanged into dist/ by the build. Beside the compiled
// pipeline.js it imports that; in the sources (Node 20 cannot load .ts in a Worker by itself, not
// even under tsx's --import) it loads pipeline.ts through tsx's API.
import { existsSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const source = new URL('./pipeline.ts', import.meta.url);
const { serveSamples } = existsSync(source)
  ? await (await import('tsx/esm/api')).tsImport(source.href, import.meta.url)
  : await import('./pipeline.js');
serveSamples(parentPort);
