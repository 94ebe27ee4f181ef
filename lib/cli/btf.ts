// `tsbpf btf dump (file PATH | id N | map MAP [key|value|kv|all] | prog PROG) [format raw|c] [-j]
// [-B BASE]` and `tsbpf btf show|list [id N]`: bpftool 7.1's shape and output. A file is raw BTF
// (/sys/kernel/btf/*, magic 0xeb9f) or an ELF object whose .BTF section is dumped; an id, map or
// program names a BTF object in the kernel (a module's split BTF on top of vmlinux's).
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { Btf } from '../btf/btf.js';
import { readElf } from '../elf/index.js';
import { formatBtfRaw, formatTypeRaw } from '../btf/format-raw.js';
import { formatBtfJson, formatTypeJson } from '../btf/format-json.js';
import { formatBtfC } from '../btf/format-c.js';
import { loadKernelBtf } from '../btf/kernel.js';
import { btfData, btfInfo, getFdById, mapInfo, progInfo, type BtfInfo } from '../syscall/obj.js';
import type { Fd } from '../syscall/fd.js';
import { CliError, keyword, liveObjects, openObject, refused, strtoul } from './bpf-objects.js';
import { IdTable } from './libbpf-hashmap.js';
import { JsonWriter, jsonOptions } from './json-writer.js';

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

interface DumpOptions { json?: boolean; baseBtf?: string }

const USAGE = 'usage: tsbpf btf dump {file PATH | id N | map MAP [key|value|kv|all] | prog PROG} [format raw|c] [-j] [-B BASE]';

/** `id N` as bpftool reads it (strtoul, base 0). */
function btfIdArg(w: string | undefined): number {
  const id = w === undefined ? undefined : strtoul(w, 0);
  if (id === undefined || id > 0xffffffff) throw new CliError(`can't parse ${w ?? 'nothing'} as ID`);
  return id;
}

/** A BTF object of the kernel by id; a module's split BTF on the base -B names, else on vmlinux's (as bpftool). */
function kernelBtf(id: number, baseBtf: string | undefined): Btf {
  const fd = refused(`get btf by id (${id})`, () => getFdById('btf', id));
  try {
    const info = btfInfo(fd.value);
    // bpftool applies -B to any id; a BTF that is not a module's has no base, so here -B is for modules only
    const module = info.kernelBtf && info.name !== 'vmlinux';
    const base = module ? (baseBtf !== undefined ? readBtfFile(baseBtf) : loadKernelBtf()) : undefined;
    return Btf.parse(btfData(fd.value), { base });
  } finally {
    fd.close();
  }
}

/** The BTF id a map or program names (the words after `map` / `prog`), the root types (`key`, …) and what is left. */
function objectBtf(kind: 'map' | 'prog', args: readonly string[]): { btfId: number; roots?: number[]; rest: string[] } {
  const { fd, rest } = openObject(kind, args);
  let btfId: number;
  let roots: number[] | undefined;
  try {
    if (kind === 'prog') {
      btfId = progInfo(fd.value).btfId;
    } else {
      const i = mapInfo(fd.value);
      btfId = i.btfId;
      // bpftool's order of words: key, value, all, kv (so "k" is key); none of them: key and value
      const kv = [i.btfKeyTypeId, i.btfValueTypeId];
      const which = ['key', 'value', 'all', 'kv'].find((word) => keyword(rest[0], word));
      roots = which === 'key' ? [kv[0]] : which === 'value' ? [kv[1]] : which === 'all' ? undefined : kv;
      if (which) rest.shift();
    }
  } finally {
    fd.close();
  }
  // bpftool asks the kernel for BTF object 0 and reports its ENOENT twice: say what it means
  if (!btfId) throw new CliError(`${kind} ${args.slice(0, 2).join(' ')} has no BTF (btf_id 0)`);
  return { btfId, roots, rest };
}

export function btfDump(words: readonly string[], opts: DumpOptions): string {
  const [source, ...args] = words;
  if (source === undefined || args.length === 0) throw new CliError(USAGE);
  let load: () => Btf;
  let roots: number[] | undefined;
  let rest: string[];
  if (keyword(source, 'map') || keyword(source, 'prog')) {
    if (args.length < 2) throw new CliError(USAGE);
    const o = objectBtf(keyword(source, 'map') ? 'map' : 'prog', args);
    ({ roots, rest } = o);
    load = () => kernelBtf(o.btfId, opts.baseBtf);
  } else if (keyword(source, 'id')) {
    const id = btfIdArg(args[0]);
    rest = args.slice(1);
    load = () => kernelBtf(id, opts.baseBtf);
  } else if (keyword(source, 'file')) {
    const path = args[0];
    rest = args.slice(1);
    // like bpftool: a module's BTF under /sys/kernel/btf sits on vmlinux unless -B names a base
    load = () => {
      let base: Btf | undefined;
      if (opts.baseBtf !== undefined) base = readBtfFile(opts.baseBtf);
      else if (path.startsWith(SYSFS_BTF) && path !== SYSFS_VMLINUX) base = readBtfFile(SYSFS_VMLINUX);
      return readBtfFile(path, base);
    };
  } else {
    throw new CliError(`unrecognized BTF source specifier: '${source}'`);
  }
  let format: 'raw' | 'c' = 'raw';
  for (let i = 0; i < rest.length; i++) {
    if (!keyword(rest[i], 'format')) throw new CliError(`unrecognized option: '${rest[i]}'`);
    const v = rest[++i];
    if (v === undefined) throw new CliError("expecting value for 'format' option");
    if (v !== 'raw' && v !== 'c') throw new CliError(`unrecognized format specifier: '${v}', possible values: raw, c`);
    format = v;
  }
  const btf = load();
  if (format === 'c') {
    if (opts.json) throw new CliError('JSON output for C-syntax dump is not supported');
    return formatBtfC(btf, roots ? { rootIds: roots } : {});
  }
  if (!roots) return opts.json ? formatBtfJson(btf) : formatBtfRaw(btf);
  // a map's key and value types (id 0, void, where the map has no key type: bpftool's "[0] UNKNOWN")
  if (opts.json) return `{"types":[${roots.map((id) => formatTypeJson(btf.type(id))).join(',')}]}\n`;
  return roots.map((id) => `${formatTypeRaw(btf, btf.type(id))}\n`).join('');
}

interface ShowOptions { json?: boolean; pretty?: boolean }

/** bpftool's build_btf_tables: BTF id → the ids of the programs (or maps) using it, in its hashmap's order. */
function usersOf(kind: 'prog' | 'map'): IdTable<number> {
  const table = new IdTable<number>();
  for (const fd of liveObjects(kind)) {
    try {
      const i = kind === 'prog' ? progInfo(fd.value) : mapInfo(fd.value);
      if (i.btfId) table.append(i.btfId, i.id);
    } finally {
      fd.close();
    }
  }
  return table;
}

/** `btf show [id N]`: every BTF object (or one) with its size, name and the programs and maps using it. */
export function btfShow(args: readonly string[], o: ShowOptions): string {
  let only: number | undefined;
  if (args.length) {
    if (!keyword(args[0], 'id')) throw new CliError(`expected 'id', got: '${args[0]}'?`);
    if (args.length !== 2) throw new CliError(args.length < 2 ? "expected a BTF id after 'id'" : `unexpected arguments: ${args.slice(2).join(' ')}`);
    only = btfIdArg(args[1]);
  }
  const progs = usersOf('prog');
  const maps = usersOf('map');
  const w = new JsonWriter(o.pretty);
  const out: string[] = [];
  const one = (i: BtfInfo) => {
    if (o.json) {
      w.startObject().field('id', i.id).field('size', i.btfSize);
      w.name('prog_ids').startArray();
      for (const id of progs.get(i.id)) w.number(id);
      w.endArray().name('map_ids').startArray();
      for (const id of maps.get(i.id)) w.number(id);
      w.endArray().field('kernel', i.kernelBtf);
      if (i.name) w.field('name', i.name);
      w.endObject();
      return;
    }
    let s = `${i.id}: ${i.kernelBtf ? `name [${i.name}]` : `name ${i.name || '<anon>'}`}  size ${i.btfSize}B`;
    const p = progs.get(i.id);
    const m = maps.get(i.id);
    if (p.length) s += `  prog_ids ${p.join(',')}`;
    if (m.length) s += `  map_ids ${m.join(',')}`;
    out.push(`${s}\n`);
  };
  const info = (fd: Fd) => {
    try {
      return btfInfo(fd.value);
    } finally {
      fd.close();
    }
  };
  if (only !== undefined) {
    one(info(refused(`can't get BTF object by id (${only})`, () => getFdById('btf', only))));
  } else {
    if (o.json) w.startArray();
    for (const fd of liveObjects('btf')) one(info(fd));
    if (o.json) w.endArray();
  }
  return o.json ? w.finish() : out.join('');
}

export function registerBtf(program: Command): void {
  const btf = program.command('btf').description('inspect BTF: files, /sys/kernel/btf/*, ELF objects and the BTF objects of the kernel');
  btf
    .command('dump')
    .description('dump BTF types as bpftool does: raw text (default), C header (format c) or JSON (-j)')
    .argument('<words...>', 'file PATH | id N | map MAP [key|value|kv|all] | prog PROG, then [format raw|c]')
    .option('-j, --json', 'print JSON (raw format only)')
    .option('-B, --base-btf <path>', 'base BTF of a split BTF (default for a kernel module\'s: vmlinux)')
    .action((words: string[], opts: DumpOptions) => {
      process.stdout.write(btfDump(words, opts));
    });
  jsonOptions(btf.command('show'))
    .alias('list')
    .argument('[target...]', '"id N" (default: every BTF object)')
    .description('list the BTF objects of the kernel: id, name, size, the programs and maps using each')
    .action((target: string[], o: ShowOptions) => { process.stdout.write(btfShow(target, { ...o, json: o.json || o.pretty })); });
}
