// `tsbpf btf dump file PATH [format raw|c] [-j] [-B BASE]`: bpftool's shape and output. PATH is raw
// BTF (/sys/kernel/btf/*, magic 0xeb9f) or an ELF object whose .BTF section is dumped.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { Btf } from '../btf/btf.js';
import { readElf } from '../elf/index.js';
import { formatBtfRaw } from '../btf/format-raw.js';
import { formatBtfJson } from '../btf/format-json.js';
import { formatBtfC } from '../btf/format-c.js';

const SYSFS_BTF = '/sys/kernel/btf/';
const SYSFS_VMLINUX = '/sys/kernel/btf/vmlinux';

/** A BTF file that cannot be dumped: missing, unreadable, neither BTF nor ELF, no .BTF. */
export class BtfFileError extends TsbpfError {
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/** Parse a raw BTF file or an ELF object's .BTF section (split BTF on `base`). */
export function readBtfFile(path: string, base?: Btf): Btf {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code ?? String(e);
    throw new BtfFileError(`cannot read BTF from ${path}: ${why}`, path, { cause: e });
  }
  let btfBytes = bytes;
  const rawMagic = bytes.length >= 2 && ((bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f));
  if (!rawMagic) {
    const isElf = bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
    if (!isElf) throw new BtfFileError(`${path} is neither raw BTF (magic 0xeb9f) nor an ELF object`, path);
    let btfSection;
    try {
      btfSection = readElf(bytes).section('.BTF');
    } catch (e) {
      if (e instanceof TsbpfError) throw new BtfFileError(`cannot read ELF object ${path}: ${e.message}`, path, { cause: e });
      throw e;
    }
    if (!btfSection) throw new BtfFileError(`${path} has no .BTF section (built without -g?)`, path);
    btfBytes = btfSection.data;
  }
  try {
    return Btf.parse(btfBytes, { base });
  } catch (e) {
    if (e instanceof TsbpfError) throw new BtfFileError(`cannot parse BTF of ${path}: ${e.message}`, path, { cause: e });
    throw e;
  }
}

/** bpftool's keyword matching: any prefix of the word ("form" for "format"). */
function isPrefix(arg: string, word: string): boolean {
  return arg.length > 0 && word.startsWith(arg);
}

interface DumpOptions { json?: boolean; baseBtf?: string }

export function btfDump(words: readonly string[], opts: DumpOptions): string {
  const [source, path, ...rest] = words;
  if (source === undefined || path === undefined) throw new TsbpfError('usage: tsbpf btf dump file PATH [format raw|c] [-j] [-B BASE]');
  if (!isPrefix(source, 'file')) {
    throw new TsbpfError(`unsupported BTF source '${source}': only 'file PATH' is (map, prog and id need a live kernel object)`);
  }
  let format: 'raw' | 'c' = 'raw';
  for (let i = 0; i < rest.length; i++) {
    if (!isPrefix(rest[i]!, 'format')) throw new TsbpfError(`unrecognized option: '${rest[i]}'`);
    const v = rest[++i];
    if (v === undefined) throw new TsbpfError("expecting value for 'format' option");
    if (v !== 'raw' && v !== 'c') throw new TsbpfError(`unrecognized format specifier: '${v}', possible values: raw, c`);
    format = v;
  }
  if (format === 'c' && opts.json) throw new TsbpfError('JSON output for C-syntax dump is not supported');
  // like bpftool: a module's BTF under /sys/kernel/btf sits on vmlinux unless -B names a base
  let base: Btf | undefined;
  if (opts.baseBtf !== undefined) base = readBtfFile(opts.baseBtf);
  else if (path.startsWith(SYSFS_BTF) && path !== SYSFS_VMLINUX) base = readBtfFile(SYSFS_VMLINUX);
  const btf = readBtfFile(path, base);
  if (format === 'c') return formatBtfC(btf);
  return opts.json ? formatBtfJson(btf) : formatBtfRaw(btf);
}

export function registerBtf(program: Command): void {
  const btf = program.command('btf').description('inspect BTF (raw files, /sys/kernel/btf/*, ELF objects)');
  btf
    .command('dump')
    .description('dump BTF types as bpftool does: raw text (default), C header (format c) or JSON (-j)')
    .argument('<words...>', 'file PATH [format raw|c]')
    .option('-j, --json', 'print JSON (raw format only)')
    .option('-B, --base-btf <path>', 'base BTF of a split BTF (default for /sys/kernel/btf/<module>: vmlinux)')
    .action((words: string[], opts: DumpOptions) => {
      const text = btfDump(words, opts);
      // a reader that stops early (| head) closes the pipe: not an error
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
      process.stdout.write(text);
    });
}
