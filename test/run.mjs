#!/usr/bin/env node
// Runs the whole suite with mocha (TypeScript through tsx) and ends with "N passed, N failed".
// Usage: node test/run.mjs [mocha args...]  (default: every test/**/*.test.ts)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-')) ? [] : ['test/**/*.test.ts'];
const resultFile = path.join(mkdtempSync(path.join(tmpdir(), 'tsbpf-run-')), 'result.json');
const r = spawnSync(process.execPath, [
  '--import', 'tsx',
  path.join(root, 'node_modules/mocha/bin/mocha.js'),
  '--reporter', path.join(root, 'test/helpers/reporter.cjs'),
  '--timeout', '60000',
  ...files, ...args,
], { cwd: root, stdio: 'inherit', env: { ...process.env, TSBPF_RESULT_FILE: resultFile } });
// mocha's status counts failures only; the reporter's count also has the skips CI does not allow
let failed = 0;
try {
  failed = JSON.parse(readFileSync(resultFile, 'utf8')).failed;
} catch { /* no result: mocha did not get to the end, its status says why */ }
rmSync(path.dirname(resultFile), { recursive: true, force: true });
process.exit(r.status || (failed > 0 ? 1 : 0));
