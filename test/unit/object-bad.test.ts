// readObject on crafted and damaged objects (the malformed-ELF audit): each damage is a typed error
// (ObjectError, or ParseError from the readers) naming what and where — never a RangeError, a NaN
// layout, an unbounded allocation, a hang or work quadratic in the input.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { readObject, ObjectError } from '../../lib/object/index.js';
import { readerBug } from '../../lib/object/read.js';
import { datasecFixups } from '../../lib/object/datasec.js';
import { buildFunctions, collectFunctions, type MapLocator } from '../../lib/object/functions.js';
import { readElf, type ElfFile } from '../../lib/elf/index.js';
import { Btf } from '../../lib/btf/btf.js';
import type { BtfCoreRelo, BtfExt } from '../../lib/btf/ext.js';
import { BtfBlob, KIND } from '../helpers/btf-blob.js';
import { btfExtBlock, btfRecord, craftElf, u32, relTable, sectionHeader, setU32, setU64, SHF, SHT, StringTable, symbolTable, thrown, type CraftSection } from '../helpers/crafted-elf.js';
import { MAX_ARRAY_VALUE_SIZE } from '../../lib/object/limits.js';

const STB_GLOBAL = 1;
const STT_OBJECT = 1;
const STT_FUNC = 2;

function load(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** An array whose element reads are counted in `counter.reads`. */
function counted<T>(items: readonly T[], counter: { reads: number }): readonly T[] {
  return new Proxy(items as T[], {
    get(target, p, r) {
      if (typeof p === 'string' && p.length > 0 && p.charCodeAt(0) >= 0x30 && p.charCodeAt(0) <= 0x39) counter.reads++;
      return Reflect.get(target, p, r);
    },
  });
}

/** `count` sections .data.iN of 8 bytes, each with a DATASEC of one VAR vN (and its symbol at 4). */
function manyDataSections(count: number, extraDatasecFor?: number): { bytes: Uint8Array } {
  const btf = new BtfBlob();
  const int = btf.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
  const strs = new StringTable();
  const sections: CraftSection[] = [];
  const syms = [];
  for (let i = 0; i < count; i++) {
    const v = btf.type(`v${i}`, KIND.VAR, 0, false, int, 1);
    btf.type(`.data.i${i}`, KIND.DATASEC, 1, false, 8, v, 0, 4);
    if (i === extraDatasecFor) btf.type(`.data.i${i}`, KIND.DATASEC, 1, false, 8, v, 0, 4);
    sections.push({ name: `.data.i${i}`, type: SHT.PROGBITS, flags: SHF.WRITE | SHF.ALLOC, data: new Uint8Array(8) });
    syms.push({ name: strs.add(`v${i}`), bind: STB_GLOBAL, type: STT_OBJECT, shndx: i + 1, value: 4, size: 4 });
  }
  sections.push({ name: '.BTF', type: SHT.PROGBITS, flags: 0, data: btf.build() });
  sections.push({ name: '.symtab', type: SHT.SYMTAB, flags: 0, data: symbolTable(syms), link: '.strtab', info: 1, entsize: 24 });
  sections.push({ name: '.strtab', type: SHT.STRTAB, flags: 0, data: strs.bytes() });
  return { bytes: craftElf(sections) };
}

/** `count` functions fN in .text (call f0; exit), each call relocated against f0's symbol; relocations in `order`. */
function manyFunctions(count: number, order: 'ascending' | 'descending' = 'ascending'): Uint8Array {
  const code = new Uint8Array(16 * count);
  const dv = new DataView(code.buffer);
  const strs = new StringTable();
  const syms = [];
  const rels = [];
  for (let i = 0; i < count; i++) {
    code[16 * i] = 0x85; // call
    code[16 * i + 1] = 0x10; // src_reg BPF_PSEUDO_CALL
    dv.setInt32(16 * i + 4, -1, true);
    code[16 * i + 8] = 0x95; // exit
    syms.push({ name: strs.add(`f${i}`), bind: STB_GLOBAL, type: STT_FUNC, shndx: 1, value: 16 * i, size: 16 });
    rels.push({ offset: 16 * i, symbol: 1, type: 10 /* R_BPF_64_32 */ });
  }
  if (order === 'descending') rels.reverse();
  return craftElf([
    { name: '.text', type: SHT.PROGBITS, flags: SHF.ALLOC | SHF.EXECINSTR, data: code },
    { name: '.rel.text', type: SHT.REL, flags: SHF.INFO_LINK, data: relTable(rels), link: '.symtab', info: '.text', entsize: 16 },
    { name: '.symtab', type: SHT.SYMTAB, flags: 0, data: symbolTable(syms), link: '.strtab', info: 1, entsize: 24 },
    { name: '.strtab', type: SHT.STRTAB, flags: 0, data: strs.bytes() },
  ]);
}

const NO_MAPS: MapLocator = { mapAt: () => undefined, dataMap: () => undefined };

describe('readObject on crafted malformed objects', () => {
  describe('relocations of many functions', () => {
    it('each function finds its relocations without scanning the whole section\'s', () => {
      const n = 400;
      const elf = readElf(manyFunctions(n));
      const counter = { reads: 0 };
      const view = Object.create(elf, { relocationsFor: { value: (i: number) => counted(elf.relocationsFor(i), counter) } }) as ElfFile;
      const fns = buildFunctions(view, collectFunctions(view), NO_MAPS, undefined);
      expect(fns).to.have.length(n);
      for (const f of fns) expect(f.relocations).to.deep.equal([{ insn: 0, target: { kind: 'call', function: 'f0' }, symbol: 'f0' }]);
      // n × log n at most (a scan per function: n × n)
      expect(counter.reads).to.be.below(n * 4 * Math.ceil(Math.log2(n)));
    });

    it('each function finds its CO-RE relocation records without scanning the whole section\'s, in record order', () => {
      const n = 400;
      const elf = readElf(manyFunctions(n));
      const counter = { reads: 0 };
      // two records per function (the call and the exit), listed exits first: record order is not insn order
      const records = [
        ...Array.from({ length: n }, (_, i) => ({ insnOff: 16 * i + 8, typeId: 1, accessStr: '0:1', kind: 0 })),
        ...Array.from({ length: n }, (_, i) => ({ insnOff: 16 * i, typeId: 1, accessStr: '0:0', kind: 0 })),
      ];
      const ext: BtfExt = {
        funcInfo: new Map(), lineInfo: new Map(), coreRelos: new Map([['.text', counted(records, counter) as BtfCoreRelo[]]]),
        funcInfoRecSize: 8, lineInfoRecSize: 16, coreReloRecSize: 16,
      };
      const fns = buildFunctions(elf, collectFunctions(elf), NO_MAPS, ext);
      expect(fns).to.have.length(n);
      fns.forEach((f, i) => expect(f.coreRelos, f.name).to.deep.equal([
        { insn: 1, typeId: 1, accessStr: '0:1', kind: 0, index: i },
        { insn: 0, typeId: 1, accessStr: '0:0', kind: 0, index: n + i },
      ]));
      expect(counter.reads).to.be.below(n * 4 * Math.ceil(Math.log2(n)));
    });

    it('relocation tables out of order give the same functions', () => {
      const a = readObject(manyFunctions(50));
      const b = readObject(manyFunctions(50, 'descending'));
      expect([...b.functions.values()].map((f) => f.relocations)).to.deep.equal([...a.functions.values()].map((f) => f.relocations));
    });
  });

  describe('DATASEC fixups', () => {
    it('read the symbol table once, not once per DATASEC', () => {
      const n = 300;
      const { bytes } = manyDataSections(n);
      const elf = readElf(bytes);
      const btf = Btf.parse(elf.section('.BTF')!.data);
      const counter = { reads: 0 };
      const symbols = counted(elf.symbols, counter);
      const view = Object.create(elf, { symbols: { value: symbols } }) as ElfFile;
      const fixups = datasecFixups(view, btf);
      expect(fixups).to.have.length(n);
      expect(fixups[n - 1].vars[0].offset).to.equal(4); // the symbol's value, not the DATASEC's 0
      // one pass over n + 1 symbols (quadratic: n × (n + 1))
      expect(counter.reads).to.be.below(3 * (n + 1));
    });

    it('two DATASECs for one section are an ObjectError naming the section', () => {
      const { bytes } = manyDataSections(3, 1);
      const e = thrown(() => readObject(bytes));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect((e as ObjectError).section).to.equal('.data.i1');
      expect(e.message).to.match(/two BTF DATASECs/);
    });
  });

  describe('global data sizes', () => {
    it('a NOBITS .bss larger than any array map value is an ObjectError naming it, before allocating', () => {
      for (const size of [0xfffffff0n, 1n << 40n, BigInt(MAX_ARRAY_VALUE_SIZE + 8)]) {
        const bytes = load('bpf/obj_globals.o');
        setU64(bytes, sectionHeader(bytes, '.bss').header + 32, size);
        const e = thrown(() => readObject(bytes));
        expect(e, e.message).to.be.instanceOf(ObjectError);
        expect((e as ObjectError).section).to.equal('.bss');
        expect(e.message).to.match(/\.bss is \d+ bytes; .*at most 536870912/);
      }
    });

    it('a large but possible .bss is read', () => {
      const bytes = load('bpf/obj_globals.o');
      setU64(bytes, sectionHeader(bytes, '.bss').header + 32, 1n << 20n);
      expect(readObject(bytes).maps.get('.bss')!.data!.length).to.equal(1 << 20);
    });
  });

  describe('.kconfig externs', () => {
    /** core_externs.o with the record of CONFIG_LOCALVERSION's char[16] changed by `edit(record offset, id)`. */
    const withLocalversion = (edit: (bytes: Uint8Array, at: number, id: number) => void): Uint8Array => {
      const bytes = load('bpf/core_externs.o');
      const btf = Btf.parse(readElf(bytes).section('.BTF')!.data);
      const id = btf.skipTypedefs(btf.findByName('CONFIG_LOCALVERSION', 'var')!.type);
      expect(btf.type(id).kind).to.equal('array');
      edit(bytes, btfRecord(bytes, id), id);
      return bytes;
    };

    it('a char array of 0x7fffffff elements is refused naming the extern, with no 2 GiB map value', () => {
      const bytes = withLocalversion((b, at) => setU32(b, at + 20, 0x7fffffff)); // btf_array.nelems
      const e = thrown(() => readObject(bytes));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect((e as ObjectError).symbol).to.equal('CONFIG_LOCALVERSION');
      expect(e.message).to.match(/2147483647 bytes, more than the \.kconfig map's value can hold/);
    });

    it('an array of itself is refused naming the extern (no stack overflow)', () => {
      const bytes = withLocalversion((b, at, id) => setU32(b, at + 12, id)); // btf_array.type
      const e = thrown(() => readObject(bytes));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect((e as ObjectError).symbol).to.equal('CONFIG_LOCALVERSION');
      expect(e.message).to.match(/not one a \.kconfig value can have/);
    });
  });

  describe('global variables', () => {
    /** obj_globals.o's symbol `name`: file offset of its Elf64_Sym. */
    const symbolAt = (bytes: Uint8Array, name: string): number => {
      const elf = readElf(bytes);
      const index = elf.symbols.findIndex((s) => s.name === name);
      expect(index).to.be.above(0);
      return sectionHeader(bytes, '.symtab').offset + 24 * index;
    };

    it('a variable whose symbol lies past the end of its section is an ObjectError naming both', () => {
      const bytes = load('bpf/obj_globals.o');
      setU64(bytes, symbolAt(bytes, 'ro_magic') + 8, 4096n); // st_value
      const e = thrown(() => readObject(bytes));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect(e).to.include({ section: '.rodata', symbol: 'ro_magic' });
      expect(e.message).to.match(/bytes 4096…4100 lie outside its section \.rodata \(16 bytes\)/);
    });

    it('a DATASEC entry larger than its section is an ObjectError', () => {
      const bytes = load('bpf/obj_globals.o');
      const btf = Btf.parse(readElf(bytes).section('.BTF')!.data);
      const ds = btf.findDatasec('.data')!;
      setU32(bytes, btfRecord(bytes, ds.id) + 12 + 8, 0x10000); // vars[0].size
      const e = thrown(() => readObject(bytes));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect((e as ObjectError).section).to.equal('.data');
      expect(e.message).to.match(/lie outside its section \.data/);
    });

    it('setVariable outside its map\'s data is an ObjectError, not a RangeError', () => {
      const spec = readObject('bpf/obj_globals.o');
      spec.maps.get('.rodata')!.data = new Uint8Array(2);
      const e = thrown(() => spec.setVariable('ro_magic', 1));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect(e).to.include({ map: '.rodata', symbol: 'ro_magic' });
      expect(e.message).to.match(/outside its map \.rodata's 2 bytes/);
    });
  });

  describe('.BTF.ext func_info and line_info records', () => {
    /** obj_subprog.o with its first func_info or line_info block's record 0 changed; the block's section name. */
    const damaged = (which: 'func_info' | 'line_info', field: number, value: (old: number) => number): { bytes: Uint8Array; section: string } => {
      const bytes = load('bpf/obj_subprog.o');
      const block = btfExtBlock(bytes, which);
      setU32(bytes, block.first + field, value(u32(bytes, block.first + field)));
      const btf = Btf.parse(readElf(bytes).section('.BTF')!.data);
      return { bytes, section: btf.stringAt(block.nameOff) };
    };
    const refused = (d: { bytes: Uint8Array; section: string }, re: RegExp): void => {
      const e = thrown(() => readObject(d.bytes));
      expect(e, e.message).to.be.instanceOf(ObjectError);
      expect((e as ObjectError).section).to.equal(d.section);
      expect(e.message).to.match(re);
      expect(e.message).to.include(`record 0 of section ${d.section}:`);
    };

    it('insn_off off an instruction or outside the section', () => {
      refused(damaged('func_info', 0, (v) => v + 4), /func_info record 0 .*insn_off \d+ is not on an instruction/);
      refused(damaged('line_info', 0, (v) => v + 3), /line_info record 0 .*insn_off \d+ is not on an instruction/);
      refused(damaged('func_info', 0, () => 0x7ffffff8), /func_info record 0 .*insn_off 2147483640 is outside the section/);
      refused(damaged('line_info', 0, () => 0x7ffffff8), /line_info record 0 .*outside the section/);
    });

    it('func_info naming no FUNC', () => {
      refused(damaged('func_info', 4, () => 0xffffff), /type id 16777215 is not a FUNC \(valid ids are 1…\d+\)/);
      refused(damaged('func_info', 4, () => 0), /type id 0 is not a FUNC/);
      const bytes = load('bpf/obj_subprog.o');
      const int = Btf.parse(readElf(bytes).section('.BTF')!.data).findByName('int', 'int')!.id;
      refused(damaged('func_info', 4, () => int), new RegExp(`type id ${int} is not a FUNC \\(it is a int\\)`));
    });

    it('line_info strings outside the BTF string section', () => {
      refused(damaged('line_info', 4, () => 0xfffffff), /file_name_off 268435455 is outside the BTF string section/);
      refused(damaged('line_info', 8, () => 0xfffffff), /line_off 268435455 is outside the BTF string section/);
    });

    it('the records of sound objects are unchanged', () => {
      const spec = readObject('bpf/obj_subprog.o');
      for (const f of [...spec.programs.values(), ...spec.functions.values()]) {
        expect(f.funcInfo, f.name).to.deep.equal([{ insn: 0, typeId: f.funcInfo[0].typeId }]);
        expect(f.lineInfo.length, f.name).to.be.above(0);
        for (const l of f.lineInfo) expect(Number.isInteger(l.insn) && l.insn < f.instructions.length / 8, f.name).to.equal(true);
      }
    });
  });

  it('a __uint field pointing to no array says what it points to', () => {
    const bytes = load('bpf/tc_counter.o');
    const btf = Btf.parse(readElf(bytes).section('.BTF')!.data);
    const def = btf.type(btf.skipTypedefs(btf.findByName('counter', 'var')!.type));
    if (def.kind !== 'struct') throw new Error('counter is no struct');
    const ptr = def.members.find((m) => m.name === 'type')!.type;
    setU32(bytes, btfRecord(bytes, ptr) + 8, btf.findByName('int', 'int')!.id); // the ptr's target: int
    const e = thrown(() => readObject(bytes));
    expect(e, e.message).to.be.instanceOf(ObjectError);
    expect(e).to.include({ map: 'counter' });
    expect(e.message).to.match(/field type should be __uint\(type, N\) \(a pointer to an array\), got a pointer to int$/);
  });

  it('an error no check anticipated still names the step and section it happened in', () => {
    const cause = new RangeError('offset is out of bounds');
    const e = readerBug(cause, 'tc', { what: 'reading sections', section: '.bss' });
    expect(e).to.be.instanceOf(ObjectError);
    expect(e).to.include({ section: '.bss', cause });
    expect(e.message).to.equal('object tc: unexpected RangeError while reading sections (section .bss): offset is out of bounds');
    expect(readerBug('odd', 'tc', { what: 'reading functions and their relocations', section: undefined }).message)
      .to.equal('object tc: unexpected error while reading functions and their relocations: odd');
  });
});
