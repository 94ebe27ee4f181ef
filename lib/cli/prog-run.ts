// `tsbpf prog run PROG data_in FILE|- [data_out FILE|-] [data_size_out L] [ctx_in FILE|-]
// [ctx_out FILE|-] [ctx_size_out M] [repeat N]`: bpftool 7.1's prog run. PROG is named as the other
// prog commands name it (id, pinned, name, tag). The program runs in the kernel (BPF_PROG_TEST_RUN)
// on the packet and context read from the files ('-': stdin); the packet and context it leaves go
// to the output files, or to stdout as bpftool's hex dump ('-'; a JSON array of bytes under -j).
// Then `Return value: R, duration (average): Dns`, or under -j `{"retval":R,"duration":D}`.
// Differences, chosen: without data_size_out/ctx_size_out the room is the most the program can give
// back (bpftool's is 32 KiB, which a TC program growing its packet can overflow); ctx_out without
// ctx_in gives the context the kernel made; output files that cannot be written are found before
// the program runs.
import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import { BpfProgram } from '../program/program.js';
import { TestRunNoSpaceError } from '../syscall/prog.js';
import { errnoMessage } from '../syscall/errno.js';
import { TsbpfError } from '../errors.js';
import { CliError, keyword, openObject, strtoul } from './bpf-objects.js';
import { jsonOptions, jsonOrText, type JsonOpts } from './json-writer.js';
import { progCommand } from './prog-load.js';

/** The words after PROG. Files are paths or '-' (stdin for inputs, stdout for outputs). */
export interface RunArgs {
  dataIn?: string;
  dataOut?: string;
  /** 0 or absent: the library's default room */
  dataSizeOut?: number;
  ctxIn?: string;
  ctxOut?: string;
  ctxSizeOut?: number;
  repeat?: number;
}

const GROUPS = [['data_in', 'data_out', 'data_size_out'], ['ctx_in', 'ctx_out', 'ctx_size_out']] as const;
const KEYWORDS = "'data_in', 'data_out', 'data_size_out', 'ctx_in', 'ctx_out', 'ctx_size_out' or 'repeat'";

/** How bpftool reads a keyword's number (strtoul, base 0), in its words when it cannot. */
function sizeArg(w: string, what: string): number {
  const n = strtoul(w, 0);
  if (n === undefined) throw new CliError(`can't parse ${w} as ${what}`);
  if (n > 0xffffffff) throw new CliError(`${what} ${w} is over 4294967295`);
  return n;
}

/** bpftool's do_run argument loop: keywords by any unambiguous prefix, each with one value. */
export function parseRunArgs(words: readonly string[]): RunArgs {
  const a: RunArgs = {};
  for (let i = 0; i < words.length; i += 2) {
    const w = words[i];
    for (const group of GROUPS) {
      const matches = group.filter((k) => keyword(w, k));
      if (matches.length > 1) throw new CliError(`ambiguous prefix: '${w}' could be '${matches.join("' or '")}'`);
    }
    const key = [...GROUPS.flat(), 'repeat'].find((k) => keyword(w, k));
    if (!key) throw new CliError(`expected no more arguments, ${KEYWORDS}, got: '${w}'?`);
    const v = words[i + 1];
    if (v === undefined) throw new CliError(`expected a ${key.endsWith('_in') || key.endsWith('_out') ? 'FILE (or -)' : 'number'} after '${key}'`);
    switch (key) {
      case 'data_in':
      case 'ctx_in':
        if (key === 'data_in') a.dataIn = v;
        else a.ctxIn = v;
        if (a.dataIn === '-' && a.ctxIn === '-') throw new CliError('cannot use standard input for both data_in and ctx_in');
        break;
      case 'data_out': a.dataOut = v; break;
      case 'ctx_out': a.ctxOut = v; break;
      case 'data_size_out': a.dataSizeOut = sizeArg(v, 'output data size'); break;
      case 'ctx_size_out': a.ctxSizeOut = sizeArg(v, 'output context size'); break;
      default: a.repeat = sizeArg(v, 'repeat number');
    }
  }
  if (a.dataIn === undefined && a.ctxIn === undefined) throw new CliError("a program runs on 'data_in FILE' (a packet) and/or 'ctx_in FILE' (a context): give one");
  return a;
}

/** bpftool's strerror words for a file that cannot be read or written. */
function fileError(path: string, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const n = code ? (osConstants.errno as Record<string, number>)[code] : undefined;
  return new CliError(`failed to open ${path}: ${n ? errnoMessage(n) : (e as Error).message}`, { cause: e });
}

function readInput(path: string | undefined): Uint8Array | undefined {
  if (path === undefined) return undefined;
  try {
    return new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (e) {
    throw fileError(path, e);
  }
}

/** An output file must be writable before the program runs (its run may count in maps, or take long). */
function checkWritable(path: string | undefined): void {
  if (path === undefined || path === '-') return;
  try {
    accessSync(existsSync(path) ? path : dirname(path), constants.W_OK);
  } catch (e) {
    throw fileError(path, e);
  }
}

/** bpftool's hex_print: offset, 16 bytes in pairs, and their ASCII ('.' when not printable). */
export function hexDump(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 16) {
    s += `${i.toString(16).padStart(7, '0')}\t`;
    for (let j = i; j < i + 16; j++) s += j < b.length ? `${b[j].toString(16).padStart(2, '0')}${j % 2 ? ' ' : ''}` : `  ${j % 2 ? ' ' : ''}`;
    s += '| ';
    for (let j = i; j < i + 16 && j < b.length; j++) s += `${b[j] < 0x20 || b[j] > 0x7e ? '.' : String.fromCharCode(b[j])}${j === i + 7 ? ' ' : ''}`;
    s += '\n';
  }
  return s;
}

export interface RunOutcome {
  retval: number;
  duration: number;
  data: Uint8Array;
  ctx: Uint8Array;
}

/** Run the program named by the head of `args` with the options after it. The program's fd is closed. */
export function runProgram(args: readonly string[]): { outcome: RunOutcome; a: RunArgs } {
  const { fd, rest } = openObject('prog', args);
  let a: RunArgs;
  try {
    a = parseRunArgs(rest);
  } catch (e) {
    fd.close();
    throw e;
  }
  const prog = BpfProgram.fromFd(fd);
  try {
    checkWritable(a.dataOut);
    checkWritable(a.ctxOut);
    const data = readInput(a.dataIn);
    const ctx = readInput(a.ctxIn);
    // ctx_out without ctx_in: the context the kernel made for the run
    const ctxSizeOut = a.ctxSizeOut || (a.ctxOut !== undefined && !ctx ? 1024 : undefined);
    let outcome: RunOutcome;
    try {
      outcome = prog.testRun({ data, ctx, dataSizeOut: a.dataSizeOut || undefined, ctxSizeOut, repeat: a.repeat });
    } catch (e) {
      if (e instanceof TestRunNoSpaceError) {
        const option = e.output === 'data' ? 'data_size_out' : 'ctx_size_out';
        throw new CliError(`failed to run program: ${errnoMessage(e.code)}: the output ${e.output === 'data' ? 'packet' : 'context'} is ${e.needed} bytes, more than ${option} ${e.room} (the program ran, retval ${e.retval}): give ${option} ${e.needed} or more`, { cause: e });
      }
      if (e instanceof TsbpfError) throw new CliError(`failed to run program: ${e.message}`, { cause: e });
      throw e;
    }
    for (const [path, bytes] of [[a.dataOut, outcome.data], [a.ctxOut, outcome.ctx]] as const) {
      if (path === undefined || path === '-') continue;
      try {
        writeFileSync(path, bytes);
      } catch (e) {
        throw fileError(path, e);
      }
    }
    return { outcome, a };
  } finally {
    prog.close();
  }
}

/** What `prog run` prints: the outputs sent to stdout, then the verdict and duration. */
export function runText(outcome: RunOutcome, a: RunArgs, opts: JsonOpts): string {
  const toStdout = (path: string | undefined, b: Uint8Array) => path === '-' && b.length > 0;
  const value = {
    ...(toStdout(a.dataOut, outcome.data) ? { data_out: Array.from(outcome.data) } : {}),
    ...(toStdout(a.ctxOut, outcome.ctx) ? { ctx_out: Array.from(outcome.ctx) } : {}),
    retval: outcome.retval,
    duration: outcome.duration,
  };
  return jsonOrText(opts, value, () => [
    toStdout(a.dataOut, outcome.data) ? hexDump(outcome.data) : '',
    toStdout(a.ctxOut, outcome.ctx) ? hexDump(outcome.ctx) : '',
    `Return value: ${outcome.retval}, duration${(a.repeat ?? 1) > 1 ? ' (average)' : ''}: ${outcome.duration}ns\n`,
  ].join(''));
}

const USAGE = 'PROG data_in FILE|- [data_out FILE|-] [data_size_out L] [ctx_in FILE|-] [ctx_out FILE|-] [ctx_size_out M] [repeat N]';

export function registerProgRun(program: Command): void {
  jsonOptions(progCommand(program).command('run'), 'print JSON: {"retval":…,"duration":…} (and "data_out"/"ctx_out" byte arrays for -)')
    .argument('<args...>', `${USAGE}; PROG is "id N", "pinned PATH", "name NAME" or "tag TAG"`)
    .description('run a program in the kernel on a packet and/or context, without attaching it (bpftool prog run)')
    .action((args: string[], opts: JsonOpts) => {
      const { outcome, a } = runProgram(args);
      process.stdout.write(runText(outcome, a, opts));
    });
}
