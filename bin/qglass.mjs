#!/usr/bin/env node
// Entry point: Node 20 cannot run TypeScript by itself, so register tsx's loader first.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
