#!/usr/bin/env node
// Runs the whole suite with mocha (TypeScript through tsx) and ends with "N passed, N failed".
// Usage: node test/run.mjs [mocha args...]  (default: every test/**/*.test.ts)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-')) ? [] : ['test/**/*.test.ts'];
const r = spawnSync(process.execPath, [
  '--import', 'tsx',
  path.join(root, 'node_modules/mocha/bin/mocha.js'),
  '--reporter', path.join(root, 'test/helpers/reporter.cjs'),
  '--timeout', '60000',
  ...files, ...args,
], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
