// `tsbpf object show FILE [-j]`: what an object file holds, read without touching the kernel —
// programs (section, type, expected attach type, instructions with appended subprograms) and
// maps (their definitions), global variables, license.
import type { Command } from 'commander';
import { readObject, type ObjectSpec } from '../object/read.js';
import { linkProgram } from '../object/link.js';
import { jsonOptions, jsonOrText, type JsonOpts } from './json-writer.js';
import { registerObjectDump } from './object-dump.js';

export interface ObjectDescription {
  name: string;
  license: string;
  kernelVersion: number;
  endianness: 'little' | 'big';
  programs: {
    name: string; section: string; type: string; attachType: string; attachTo: string;
    insns: number; linkedInsns: number; subprograms: string[]; autoload: boolean; flags: number;
  }[];
  maps: {
    name: string; kernelName: string; kind: string; type: string; keySize: number; valueSize: number;
    maxEntries: number; flags: number; pinning: string; inner?: string; values?: (string | null)[];
  }[];
  variables: { name: string; map: string; offset: number; size: number; readOnly: boolean }[];
}

export function describeObject(spec: ObjectSpec): ObjectDescription {
  return {
    name: spec.name,
    license: spec.license,
    kernelVersion: spec.kernelVersion,
    endianness: spec.littleEndian ? 'little' : 'big',
    programs: [...spec.programs.values()].map((p) => {
      const linked = linkProgram(p, spec.functions, spec.littleEndian);
      return {
        name: p.name, section: p.section, type: p.typeName, attachType: p.attachTypeName, attachTo: p.attachTo,
        insns: p.instructions.length / 8, linkedInsns: linked.insns.length / 8,
        subprograms: linked.layout.slice(1).map((l) => l.name), autoload: p.autoload, flags: p.flags,
      };
    }),
    maps: [...spec.maps.values()].map((m) => ({
      name: m.name, kernelName: m.kernelName, kind: m.kind, type: m.typeName, keySize: m.keySize, valueSize: m.valueSize,
      maxEntries: m.maxEntries, flags: m.flags, pinning: m.pinning === 'byName' ? 'by_name' : 'none',
      ...(m.inner ? { inner: `${m.inner.typeName} key ${m.inner.keySize}B value ${m.inner.valueSize}B max_entries ${m.inner.maxEntries}` } : {}),
      ...(m.values ? { values: Array.from({ length: m.values.length }, (_, i) => m.values![i] ?? null) } : {}),
    })),
    variables: [...spec.variables.values()].map((v) => ({ name: v.name, map: v.map, offset: v.offset, size: v.size, readOnly: v.readOnly })),
  };
}

export function formatObject(d: ObjectDescription): string {
  const out: string[] = [];
  out.push(`object ${d.name}: license "${d.license}"${d.kernelVersion ? `  kern_version 0x${d.kernelVersion.toString(16)}` : ''}  ${d.endianness}-endian`);
  out.push(`programs: ${d.programs.length}`);
  for (const p of d.programs) {
    let line = `  ${p.name}: section ${p.section}  type ${p.type}`;
    if (p.attachType) line += `  attach_type ${p.attachType}`;
    if (p.attachTo) line += `  target ${p.attachTo}`;
    line += `  insns ${p.insns}`;
    if (p.subprograms.length) line += ` (${p.linkedInsns} with ${p.subprograms.join(', ')})`;
    if (!p.autoload) line += '  optional (not loaded by default)';
    out.push(line);
  }
  out.push(`maps: ${d.maps.length}`);
  for (const m of d.maps) {
    let line = `  ${m.name}: ${m.type}  key ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  flags 0x${m.flags.toString(16)}`;
    if (m.kind !== 'btf') line += `  (${m.kind === 'data' ? `global data, kernel name ${m.kernelName}` : 'legacy maps section'})`;
    if (m.pinning !== 'none') line += '  pinned by name';
    if (m.inner) line += `  inner ${m.inner}`;
    if (m.values) line += `  values [${m.values.map((v) => v ?? '-').join(', ')}]`;
    out.push(line);
  }
  if (d.variables.length) {
    out.push(`variables: ${d.variables.length}`);
    for (const v of d.variables) out.push(`  ${v.name}: ${v.map}+${v.offset}  ${v.size}B${v.readOnly ? '  const' : ''}`);
  }
  return `${out.join('\n')}\n`;
}

export function registerObject(program: Command): void {
  const object = program.command('object').description('inspect BPF object files (no kernel access)');
  jsonOptions(object.command('show'))
    .argument('<file>', 'a clang-built BPF object (.o)')
    .description('list the programs, maps and global variables of an object file')
    .action((file: string, opts: JsonOpts) => {
      const d = describeObject(readObject(file));
      process.stdout.write(jsonOrText(opts, d, () => formatObject(d)));
    });
  registerObjectDump(object);
}
