// `tsbpf object dump FILE [PROG | SECTION] [opcodes] [linum] [-j]`: an object file's programs
// disassembled before load, each linked with the subprograms it calls as the loader links it, in
// the words of `prog dump xlated` (no kernel involved): relocations are named from the object —
// `map[counter]`, `map[.rodata]+16`, `call pc+5#sub_name`, a kfunc or ksym by its extern's name.
import type { Command } from 'commander';
import { readObject, type ObjectSpec } from '../object/read.js';
import { linkProgram } from '../object/link.js';
import type { ProgramSpec, RelocationTarget } from '../object/spec.js';
import { CLASS, JMP, PSEUDO_CALL } from '../disasm/opcodes.js';
import type { DisasmNames, Insn } from '../disasm/index.js';
import { JsonWriter, jsonOptions, type JsonOpts } from './json-writer.js';
import { CliError } from './bpf-objects.js';
import { signed } from '../disasm/index.js';
import { jsonListing, listingRows, plainListing, type DumpOptions, type Row } from './prog-dump.js';

/** A relocation target as an operand: what the loader will put there. */
function targetText(t: RelocationTarget, insn: Insn): string {
  switch (t.kind) {
    case 'map': return `map[${t.map}]`;
    case 'data': return `map[${t.map}]+${t.offset}`;
    case 'call': return `${signed(insn.imm)}#${t.function}`;
    case 'func': return `subprog[${t.function}]`;
    case 'extern': return insn.src === PSEUDO_CALL.KFUNC ? t.name : `ksym[${t.name}]`;
  }
}

interface Dumped { name: string; section: string; rows: Row[] }

function dumpProgram(spec: ObjectSpec, p: ProgramSpec): Dumped {
  const linked = linkProgram(p, spec.functions, spec.littleEndian);
  const fns = new Map([[p.name, p as { relocations: ProgramSpec['relocations'] }], ...spec.functions]);
  const at = new Map<number, RelocationTarget>();
  for (const { name, start } of linked.layout) for (const r of fns.get(name)?.relocations ?? []) at.set(start + r.insn, r.target);
  // a call of an extern is a kfunc call once loaded (clang encodes it as a pc-relative call to -1):
  // shown in the loader's encoding, src_reg BPF_PSEUDO_KFUNC_CALL with the BTF id still to find
  const bytes = linked.insns.slice();
  const view = new DataView(bytes.buffer);
  for (const [i, t] of at) {
    if (t.kind !== 'extern' || bytes[i * 8] !== (CLASS.JMP | JMP.CALL)) continue;
    bytes[i * 8 + 1] = spec.littleEndian ? (PSEUDO_CALL.KFUNC << 4) | (bytes[i * 8 + 1] & 0x0f) : (bytes[i * 8 + 1] & 0xf0) | PSEUDO_CALL.KFUNC;
    view.setInt32(i * 8 + 4, 0, spec.littleEndian);
  }
  const named = (insn: Insn, i: number) => {
    const t = at.get(i);
    return t ? targetText(t, insn) : undefined;
  };
  const names: DisasmNames = { call: named, imm: (insn, _next, _full, i) => named(insn, i) };
  const btf = spec.source.btf;
  const rows = listingRows({
    bytes, littleEndian: spec.littleEndian, names, btf,
    funcInfo: linked.funcInfo.map((f) => ({ insnOff: f.insn, typeId: f.typeId })),
    lineInfo: linked.lineInfo.map((l) => ({ insnOff: l.insn, fileNameOff: l.fileNameOff, lineOff: l.lineOff, lineCol: l.lineCol })),
  });
  return { name: p.name, section: p.section, rows };
}

/** The programs FILE's words name (a program's name or its section), or all of them. */
function chosen(spec: ObjectSpec, which: string | undefined): ProgramSpec[] {
  const all = [...spec.programs.values()];
  if (which === undefined) return all;
  const byName = spec.programs.get(which);
  if (byName) return [byName];
  const bySection = all.filter((p) => p.section === which);
  if (bySection.length) return bySection;
  throw new CliError(`no program or section ${which} in ${spec.name} (programs: ${all.map((p) => `${p.name} (${p.section})`).join(', ') || 'none'})`);
}

export function objectDump(file: string, words: readonly string[], opts: JsonOpts): string {
  const o: DumpOptions = {};
  let which: string | undefined;
  for (const w of words) {
    if (w === 'opcodes' || w === 'linum') o[w] = true;
    else if (which === undefined) which = w;
    else throw new CliError(`unexpected argument: ${w} (expected PROG or SECTION, opcodes, linum)`);
  }
  const spec = readObject(file);
  const dumped = chosen(spec, which).map((p) => dumpProgram(spec, p));
  if (opts.json || opts.pretty) {
    const w = new JsonWriter(opts.pretty);
    w.startArray();
    for (const d of dumped) {
      w.startObject().field('name', d.name).field('section', d.section).name('insns');
      jsonListing(w, d.rows, o);
      w.endObject();
    }
    w.endArray();
    return w.finish();
  }
  return dumped.map((d) => `${d.name} (section ${d.section}):\n${plainListing(d.rows, o)}`).join('\n');
}

export function registerObjectDump(object: Command): void {
  jsonOptions(object.command('dump'))
    .argument('<file>', 'a clang-built BPF object (.o)')
    .argument('[words...]', 'a program name or section (default: every program), opcodes, linum')
    .description("disassemble an object's programs, linked with their subprograms, before load (the text of prog dump xlated)")
    .action((file: string, words: string[], opts: JsonOpts) => { process.stdout.write(objectDump(file, words, opts)); });
}
