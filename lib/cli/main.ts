#!/usr/bin/env node
// tsbpf command line: bpftool's shape (object verb args…, -j for JSON), one file per object kind.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerCommands } from './commands.js';
import { JsonWriter } from './json-writer.js';

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// the package root is two levels up from lib/cli (sources) or three from dist/lib/cli (built)
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'tsbpf') return pkg.version;
    } catch { /* keep walking up */ }
  }
  return 'unknown';
}

/**
 * bpftool takes its output options anywhere (`bpftool -j map show`, `bpftool map -j show`); here the
 * commands that print declare them, so they are moved after the command words (up to a `--`).
 */
const JSON_OPTIONS = new Set(['-j', '--json', '-p', '--pretty']);
const OUTPUT_OPTIONS = new Set([...JSON_OPTIONS, '-f', '--bpffs']);
function outputOptionsLast(argv: readonly string[]): string[] {
  const head = argv.slice(0, 2);
  const rest = argv.slice(2);
  const end = rest.includes('--') ? rest.indexOf('--') : rest.length;
  const moved = rest.slice(0, end).filter((a) => OUTPUT_OPTIONS.has(a));
  if (moved.length === 0) return [...argv];
  const kept = rest.slice(0, end).filter((a) => !OUTPUT_OPTIONS.has(a));
  return [...head, ...kept, ...moved, ...rest.slice(end)];
}

const argv = outputOptionsLast(process.argv);

/**
 * An error as bpftool's p_err prints it: `Error: …` on stderr, or under -j/-p a `{"error": "…"}`
 * object on stdout (what a script parsing the JSON reads). The status is 1 in both cases (bpftool
 * exits 255, its `return -1` for every failure, plain or JSON); tsbpf keeps one failure status.
 */
function printError(message: string): void {
  const words = argv.slice(2, argv.includes('--') ? argv.indexOf('--') : undefined);
  if (words.some((a) => JSON_OPTIONS.has(a))) {
    const pretty = words.includes('-p') || words.includes('--pretty');
    process.stdout.write(new JsonWriter(pretty).startObject().field('error', message).endObject().finish());
  } else {
    process.stderr.write(`Error: ${message}\n`);
  }
}

const program = new Command('tsbpf')
  .description('a pure-TypeScript BPF toolchain: inspect objects and BTF, load programs, attach TC/XDP, read maps, list links')
  .version(packageVersion(), '-V, --version', 'print the version')
  // a usage mistake is one `Error: …` line and status 1, as the commands' own errors (and bpftool's)
  // are, not commander's `error: …` and a help page (`--help` shows that)
  .configureOutput({ outputError: (str) => printError(str.replace(/^error: /, '').trimEnd()) })
  .enablePositionalOptions();

// a reader that stops early (`tsbpf map dump … | head`) is not an error: end quietly, as a C tool
// does on SIGPIPE, instead of an unhandled 'error' event and its stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

registerCommands(program);

program.parseAsync(argv).catch((err: unknown) => {
  printError((err as Error).message ?? String(err));
  process.exitCode = 1;
});
