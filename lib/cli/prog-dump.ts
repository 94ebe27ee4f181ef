// `tsbpf prog dump xlated (id N | pinned PATH | name NAME | tag TAG) [opcodes] [linum] [file FILE] [-j]`:
// a loaded program's instructions as the verifier left them, in bpftool 7.1's text (xlated_dumper.c):
// the BTF signature of each function at its first instruction, its source lines (`; …`) from the
// line info, calls named through /proc/kallsyms, maps by id, the raw bytes with `opcodes`.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Fd } from '../syscall/fd.js';
import { progDumpInfo, progInfo, type ProgLineInfo } from '../syscall/obj.js';
import { btfById } from '../export/map-btf.js';
import type { Btf } from '../btf/btf.js';
import { formatTypeOnly } from '../btf/format-proto.js';
import { decodeInsns, disassemble, kernelSymbols, signed, type DisasmNames, type Insn, type KernelSymbols } from '../disasm/index.js';
import { PSEUDO_CALL, PSEUDO_LD } from '../disasm/opcodes.js';
import { JsonWriter, jsonOptions, type JsonOpts } from './json-writer.js';
import { progCommand } from './prog-load.js';
import { progHeaderJson, progHeaderPlain } from './prog.js';
import { CliError, hexBytes, keyword, openObjects } from './bpf-objects.js';

export interface DumpOptions {
  opcodes?: boolean;
  linum?: boolean;
}

const MASK64 = (1n << 64n) - 1n;

/**
 * How bpftool names a translated program's operands: calls by kallsyms (a helper or kfunc call's
 * imm is its address minus __bpf_call_base; a bpf-to-bpf call's imm indexes the JITed functions),
 * maps by the ids the kernel put in place of their pointers.
 */
function xlatedNames(jitedKsyms: readonly bigint[]): DisasmNames {
  let syms: KernelSymbols | undefined;
  const kallsyms = () => (syms ??= kernelSymbols());
  return {
    call(insn: Insn): string {
      const k = kallsyms();
      const pcRel = insn.src === PSEUDO_CALL.CALL;
      const address = pcRel && insn.imm >>> 0 < jitedKsyms.length ? jitedKsyms[insn.imm >>> 0] : (k.callBase + BigInt(insn.imm)) & MASK64;
      const sym = k.find(address);
      if (!pcRel) return sym ?? `0x${address.toString(16)}`;
      // an interpreted program has no addresses to show
      if (!jitedKsyms.length) return signed(insn.off);
      return `${signed(insn.off)}#${sym ?? `0x${address.toString(16)}`}`;
    },
    imm(insn: Insn, next: Insn, full: bigint): string {
      switch (insn.src) {
        case PSEUDO_LD.MAP_FD: return `map[id:${insn.imm >>> 0}]`;
        case PSEUDO_LD.MAP_VALUE: return `map[id:${insn.imm >>> 0}][0]+${next.imm >>> 0}`;
        case PSEUDO_LD.MAP_IDX_VALUE: return `map[idx:${insn.imm >>> 0}]+${next.imm >>> 0}`;
        case PSEUDO_LD.FUNC: return `subprog[${signed(insn.imm)}]`;
        default: return `0x${full.toString(16)}`;
      }
    },
  };
}

/** C's isspace, as bpftool trims a source line's start */
const ltrim = (s: string): string => s.replace(/^[ \t\n\v\f\r]+/, '');

/**
 * libbpf's bpf_prog_linfo__lfind: from record `skip` on, the last whose instruction is at or before
 * `insn` (none when `skip`'s is after it). bpftool counts one record per line it prints, so a
 * record shared by several instructions can print more than once; that is kept.
 */
export function lineFor(lines: readonly ProgLineInfo[], insn: number, skip: number): ProgLineInfo | undefined {
  if (skip >= lines.length || insn < lines[skip].insnOff) return undefined;
  let j = skip;
  while (j < lines.length && lines[j].insnOff <= insn) j++;
  return lines[j - 1];
}

/** One instruction's annotations and text, in the order bpftool prints them. */
export interface Row {
  index: number;
  proto?: string;
  line?: { src?: string; file?: string; lineNum: number; lineCol: number };
  text: string;
  /** its 8 bytes, 16 for a 64-bit immediate load */
  bytes: Uint8Array;
  wide: boolean;
}

/** What a listing is made of: instructions, how to name their operands, and the BTF records on them. */
export interface Listing {
  bytes: Uint8Array;
  littleEndian?: boolean;
  names: DisasmNames;
  btf: Btf | undefined;
  funcInfo: readonly { insnOff: number; typeId: number }[];
  lineInfo: readonly ProgLineInfo[];
}

/**
 * The rows of a listing as bpftool's dump_xlated_plain walks them: a function's signature where
 * its func_info record says it starts, the next source line (lineFor) once per instruction.
 */
export function listingRows(l: Listing): Row[] {
  const { btf, funcInfo, bytes } = l;
  const str = (off: number) => (btf && btf.strings.has(off) ? btf.strings.at(off) : undefined);
  const out: Row[] = [];
  let func = 0;
  let skip = 0;
  for (const d of disassemble(decodeInsns(bytes, l.littleEndian), l.names)) {
    const wide = d.next !== undefined;
    const row: Row = { index: d.index, text: d.text, bytes: bytes.subarray(d.index * 8, (d.index + (wide ? 2 : 1)) * 8), wide };
    if (btf && func < funcInfo.length && funcInfo[func].insnOff === d.index) {
      const sig = formatTypeOnly(btf, funcInfo[func++].typeId);
      if (sig) row.proto = sig;
    }
    const li = lineFor(l.lineInfo, d.index, skip);
    if (li) {
      skip++;
      const src = str(li.lineOff);
      row.line = { src: src === undefined ? undefined : ltrim(src), file: str(li.fileNameOff), lineNum: li.lineCol >>> 10, lineCol: li.lineCol & 0x3ff };
    }
    out.push(row);
  }
  return out;
}

/** bpftool's plain listing: `; source`, `   7: (85) call …`, the bytes under it with `opcodes`. */
export function plainListing(rs: readonly Row[], o: DumpOptions): string {
  let s = '';
  for (const r of rs) {
    if (r.proto) s += `${r.proto}:\n`;
    // bpftool prints no line whose source text it cannot find
    if (r.line?.src !== undefined) {
      s += `; ${r.line.src}`;
      if (o.linum) s += ` [file:${r.line.file ?? ''} line_num:${r.line.lineNum} line_col:${r.line.lineCol}]`;
      s += '\n';
    }
    // printf("% 4d: "): a space where a sign would go, then at least 4 wide
    s += `${` ${r.index}`.padStart(4)}: ${r.text}\n`;
    if (o.opcodes) s += `       ${hexBytes(r.bytes.subarray(0, 8))}${r.wide ? ` ${hexBytes(r.bytes.subarray(8))}` : ''}\n`;
  }
  return s;
}

const hexArray = (w: JsonWriter, b: Uint8Array) => {
  w.startArray();
  for (const x of b) w.raw(`"0x${x.toString(16).padStart(2, '0')}"`);
  w.endArray();
};

/** bpftool's JSON listing: an array of { proto?, src?, file?, line_num?, line_col?, disasm, opcodes? }. */
export function jsonListing(w: JsonWriter, rs: readonly Row[], o: DumpOptions): void {
  w.startArray();
  for (const r of rs) {
    w.startObject();
    if (r.proto) w.field('proto', r.proto);
    if (r.line) {
      if (r.line.src !== undefined) w.field('src', r.line.src);
      if (o.linum) {
        if (r.line.file !== undefined) w.field('file', r.line.file);
        if (r.line.lineNum) w.field('line_num', r.line.lineNum);
        if (r.line.lineCol) w.field('line_col', r.line.lineCol);
      }
    }
    // bpftool writes the text between quotes as it is (no escaping; it has no quotes or backslashes)
    w.name('disasm').raw(`"${r.text}"`);
    if (o.opcodes) {
      const b = r.bytes;
      w.name('opcodes').startObject();
      w.name('code').raw(`"0x${b[0].toString(16).padStart(2, '0')}"`);
      w.name('src_reg').raw(`"0x${(b[1] >> 4).toString(16)}"`);
      w.name('dst_reg').raw(`"0x${(b[1] & 0x0f).toString(16)}"`);
      w.name('off');
      hexArray(w, b.subarray(2, 4));
      w.name('imm');
      hexArray(w, b.subarray(4, r.wide ? 16 : 8));
      w.endObject();
    }
    w.endObject();
  }
  w.endArray();
}

/** The dump of one program: text, or into `w` under -j. */
export function dumpXlated(fd: number, o: DumpOptions, w?: JsonWriter): string {
  const d = progDumpInfo(fd);
  if (d.xlated.length === 0) throw new CliError('error retrieving insn dump: kernel.kptr_restrict set?');
  let btf: Btf | undefined;
  if (d.info.btfId) {
    try {
      btf = btfById(d.info.btfId);
    } catch (e) {
      throw new CliError('failed to get btf', { cause: e });
    }
  }
  const rs = listingRows({ bytes: d.xlated, names: xlatedNames(d.jitedKsyms), btf, funcInfo: d.funcInfo, lineInfo: d.lineInfo });
  if (w) {
    jsonListing(w, rs, o);
    return '';
  }
  return plainListing(rs, o);
}

interface CommandOptions extends JsonOpts, DumpOptions { file?: string }

/** `opcodes`, `linum` (bpftool 7.1 takes one of them; both are taken here) and `file FILE` after the program. */
function dumpWords(rest: readonly string[]): CommandOptions {
  const o: CommandOptions = {};
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (keyword(w, 'opcodes')) o.opcodes = true;
    else if (keyword(w, 'linum')) o.linum = true;
    else if (keyword(w, 'file')) {
      if (rest[i + 1] === undefined) throw new CliError('expected file path');
      o.file = rest[++i];
    } else if (keyword(w, 'visual')) throw new CliError('visual (a DOT graph of the control flow) is not supported; use bpftool prog dump xlated … visual');
    else throw new CliError(`unexpected argument: ${w} (expected opcodes, linum or file FILE)`);
  }
  return o;
}

export function progDump(args: readonly string[], opts: JsonOpts): string {
  const [what, ...handle] = args;
  if (keyword(what, 'jited')) throw new CliError('jited dumps need a native disassembler (bpftool prog dump jited); tsbpf dumps xlated instructions');
  if (!keyword(what, 'xlated')) throw new CliError(`expected 'xlated' or 'jited', got: ${what ?? ''}`);
  if (handle.length < 2) throw new CliError('expected a program: id N | pinned PATH | name NAME | tag TAG');
  const { fds, rest, what: named } = openObjects('prog', handle);
  const json = !!(opts.json || opts.pretty);
  try {
    const o = { ...dumpWords(rest), ...opts };
    if (fds.length === 0) throw new CliError(`no program matches ${named}`);
    if (o.file) {
      if (fds.length > 1) throw new CliError('several programs matched');
      writeFileSync(o.file, progDumpInfo(fds[0].value).xlated, { mode: 0o600 });
      return json ? 'null\n' : '';
    }
    const w = new JsonWriter(opts.pretty);
    const several = fds.length > 1;
    const out: string[] = [];
    if (json && several) w.startArray();
    fds.forEach((fd: Fd, i) => {
      if (json) {
        if (several) {
          w.startObject();
          progHeaderJson(w, fd.value, progInfo(fd.value));
          w.name('insns');
        }
        dumpXlated(fd.value, o, w);
        if (several) w.endObject();
      } else {
        if (several) out.push(progHeaderPlain(fd.value, progInfo(fd.value)));
        out.push(dumpXlated(fd.value, o));
        if (several && i !== fds.length - 1) out.push('\n');
      }
    });
    if (json && several) w.endArray();
    return json ? w.finish() : out.join('');
  } finally {
    for (const fd of fds) fd.close();
  }
}

export function registerProgDump(program: Command): void {
  jsonOptions(progCommand(program).command('dump'))
    .argument('<args...>', 'xlated (id N | pinned PATH | name NAME | tag TAG) [opcodes] [linum] [file FILE]')
    .description("print a loaded program's translated instructions (bpftool prog dump xlated)")
    .action((args: string[], o: JsonOpts) => { process.stdout.write(progDump(args, o)); });
}
