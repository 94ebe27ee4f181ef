// lib/elf against an independent reader: every object the project builds (bpf/*.o and the
// clang16/clang19/v3/nog/bpfeb variants) is read by llvm-readobj and by readElf, and sections,
// symbols and relocations must agree field by field. elfy (named by the project's user; no longer
// on the load path, see lib/elf/sections.ts) is a second reader of the section table: it must agree
// on the fields it reads right, and its ELF64 misreads are pinned.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import elfy from 'elfy';
import { readElf, ELF } from '../../lib/elf/index.js';

const VARIANTS = ['clang16', 'clang19', 'v3', 'nog', 'bpfeb'];

function objects(): string[] {
  const top = readdirSync('bpf').filter((f) => f.endsWith('.o')).map((f) => `bpf/${f}`);
  const out = [...top];
  for (const v of VARIANTS) {
    const dir = `bpf/build/${v}`;
    if (!existsSync(dir)) throw new Error(`${dir} missing: run make bpf-variants`);
    out.push(...readdirSync(dir).filter((f) => f.endsWith('.o')).map((f) => `${dir}/${f}`));
  }
  return out;
}

interface Block { [k: string]: string }
interface Readobj {
  /** 'bpfel' or 'bpfeb' */
  arch: string;
  sections: Block[];
  symbols: Block[];
  relocations: { section: number; offset: number; type: number; symbol: number }[];
}

/** llvm-readobj's LLVM-style output: `Key: value` lines inside `Section {` / `Symbol {` / `Relocation {` blocks. */
function readobj(path: string): Readobj {
  // CO-RE objects carry much of vmlinux's BTF: their listings pass execFileSync's default 1 MiB
  const text = execFileSync('llvm-readobj', ['--sections', '--symbols', '--relocations', '--expand-relocs', path], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const out: Readobj = { arch: text.match(/^Arch: (\S+)$/m)?.[1] ?? '', sections: [], symbols: [], relocations: [] };
  let cur: Block | undefined;
  let kind = '';
  let relSection = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^Section \((\d+)\) .* \{$/))) { relSection = Number(m[1]); continue; }
    if (line === 'Section {' || line === 'Symbol {' || line === 'Relocation {') { cur = {}; kind = line; continue; }
    if (line === '}' && cur) {
      if (kind === 'Section {') out.sections.push(cur);
      else if (kind === 'Symbol {') out.symbols.push(cur);
      else out.relocations.push({
        section: relSection,
        offset: Number(cur.Offset),
        type: Number(cur.Type!.match(/\((\d+)\)$/)![1]),
        symbol: Number(cur.Symbol!.match(/\((\d+)\)$/)![1]),
      });
      cur = undefined;
      continue;
    }
    if (cur && (m = line.match(/^(\w+): ?(.*)$/))) cur[m[1]!] = m[2]!;
    // `Flags [ (0x6)` and `Other [ (0x2)` open a list of names; the number is what we compare
    else if (cur && (m = line.match(/^(\w+) \[ \((0x[0-9A-Fa-f]+)\)$/))) cur[m[1]!] = m[2]!;
  }
  return out;
}

const num = (s: string | undefined) => Number(s);
/** `name (n)` → n */
const paren = (s: string | undefined) => Number(s!.match(/\((0x[0-9A-Fa-f]+|\d+)\)$/)![1]);
/** `name (n)` → name */
const before = (s: string | undefined) => s!.replace(/ ?\((0x[0-9A-Fa-f]+|\d+)\)$/, '');

/** readElf and llvm-readobj agree on every section, symbol and relocation of `path`. */
function compareWithReadobj(path: string): void {
  const elf = readElf(readFileSync(path));
  const ref = readobj(path);
  expect(elf.is64).to.equal(true);
  expect(elf.machine).to.equal(ELF.EM_BPF);
  expect(elf.fileType).to.equal(ELF.ET_REL);
  expect(['bpfel', 'bpfeb']).to.include(ref.arch);
  expect(elf.littleEndian).to.equal(ref.arch === 'bpfel');

  expect(elf.sections.length).to.equal(ref.sections.length);
  for (const r of ref.sections) {
    const s = elf.sections[num(r.Index)]!;
    const where = `${path} section ${r.Index}`;
    expect(s.name, where).to.equal(before(r.Name));
    expect(s.type, where).to.equal(paren(r.Type));
    expect(s.flags, where).to.equal(num(r.Flags));
    expect(s.addr, where).to.equal(num(r.Address));
    expect(s.offset, where).to.equal(num(r.Offset));
    expect(s.size, where).to.equal(num(r.Size));
    expect(s.link, where).to.equal(num(r.Link));
    expect(s.info, where).to.equal(num(r.Info));
    expect(s.addralign, where).to.equal(num(r.AddressAlignment));
    expect(s.entsize, where).to.equal(num(r.EntrySize));
    expect(s.data.length, where).to.equal(s.type === ELF.SHT_NOBITS ? 0 : s.size);
    expect(elf.section(s.name), where).to.not.equal(undefined);
  }

  expect(elf.symbols.length).to.equal(ref.symbols.length);
  ref.symbols.forEach((r, i) => {
    const s = elf.symbols[i]!;
    const where = `${path} symbol ${i}`;
    // llvm names STT_SECTION symbols after their section; the table itself has ''
    const name = s.type === ELF.STT_SECTION && s.name === '' ? elf.sections[s.shndx]!.name : s.name;
    expect(name, where).to.equal(before(r.Name));
    expect(s.value, where).to.equal(num(r.Value));
    expect(s.size, where).to.equal(num(r.Size));
    expect(s.bind, where).to.equal(paren(r.Binding));
    expect(s.type, where).to.equal(paren(r.Type));
    expect(s.visibility, where).to.equal(num(r.Other) & 3);
    expect(s.shndx, where).to.equal(paren(r.Section));
  });

  const ours = elf.sections.flatMap((s) => s.relocations.map((r) => ({ rel: s, r })));
  expect(ours.length).to.equal(ref.relocations.length);
  for (const r of ref.relocations) {
    const target = elf.sections[r.section]!.info;
    const found = elf.relocationsFor(target).filter((x) => x.offset === r.offset && x.type === r.type && x.symbol === r.symbol);
    expect(found.length, `${path} relocation at ${r.offset} in section ${target}`).to.be.greaterThan(0);
  }
}

describe('lib/elf: readElf', () => {
  const files = objects();

  it('finds the objects of make bpf and make bpf-variants', () => {
    expect(files.filter((f) => f.startsWith('bpf/build/bpfeb/')).length).to.be.greaterThan(0);
    expect(files.filter((f) => !f.startsWith('bpf/build/')).length).to.be.greaterThan(0);
  });

  for (const path of files) {
    it(`${path}: sections, symbols and relocations equal llvm-readobj's`, () => compareWithReadobj(path));
  }

  it('symbol visibility and binding: hidden, protected, weak (compiled here, both byte orders)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-elf-'));
    try {
      writeFileSync(join(dir, 'v.c'), [
        '__attribute__((visibility("hidden"))) int hidden_var = 1;',
        '__attribute__((visibility("protected"))) int prot_var = 2;',
        '__attribute__((weak)) int weak_var = 3;',
        '__attribute__((visibility("hidden"), noinline)) int helper(int x) { return x + hidden_var; }',
        '__attribute__((section("xdp"), used)) int prog(void *ctx) { return helper(prot_var) + weak_var; }',
      ].join('\n'));
      for (const target of ['bpf', 'bpfeb']) {
        const out = join(dir, `v-${target}.o`);
        execFileSync('clang', ['-target', target, '-O2', '-g', '-c', join(dir, 'v.c'), '-o', out]);
        compareWithReadobj(out);
        const elf = readElf(readFileSync(out));
        const sym = (name: string) => elf.symbols.find((s) => s.name === name)!;
        expect(sym('hidden_var').visibility).to.equal(ELF.STV_HIDDEN);
        expect(sym('helper').visibility).to.equal(ELF.STV_HIDDEN);
        expect(sym('helper').type).to.equal(ELF.STT_FUNC);
        expect(sym('prot_var').visibility).to.equal(ELF.STV_PROTECTED);
        expect(sym('weak_var').bind).to.equal(ELF.STB_WEAK);
        expect(sym('prog').bind).to.equal(ELF.STB_GLOBAL);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("elfy agrees with readElf on every section's name, type, address, offset, size, link and info, in both byte orders", () => {
    const sectType = new Map(Object.entries(elfy.constants.sectType).map(([n, name]) => [name, Number(n)]));
    for (const path of objects()) {
      const bytes = readFileSync(path);
      const ours = readElf(bytes).sections;
      const theirs = elfy.parse(bytes).body.sections;
      expect(theirs.length, path).to.equal(ours.length);
      ours.forEach((s, i) => {
        const e = theirs[i]!;
        const where = `${path} section ${i} ${s.name}`;
        expect(e.name, where).to.equal(s.name);
        expect(typeof e.type === 'number' ? e.type : sectType.get(e.type), where).to.equal(s.type);
        expect([e.addr, e.off, e.size, e.link, e.info], where).to.deep.equal([s.addr, s.offset, s.size, s.link, s.info]);
      });
    }
  });

  it('elfy 1.0.0 misreads ELF64 sh_addralign and sh_entsize (2 bytes early); readElf reads them right', () => {
    for (const path of ['bpf/tc_counter.o', 'bpf/build/bpfeb/tc_counter.o']) {
      const bytes = readFileSync(path);
      const ours = readElf(bytes);
      const theirs = elfy.parse(bytes).body.sections;
      const ref = readobj(path).sections;
      // .symtab: align 8, entsize 24 (llvm-readobj); elfy reads bytes 46..54 and 54..62 of the header
      const i = ours.symtab!.index;
      expect(num(ref[i]!.AddressAlignment)).to.equal(8);
      expect(num(ref[i]!.EntrySize)).to.equal(24);
      expect(ours.sections[i]!.addralign).to.equal(8);
      expect(ours.sections[i]!.entsize).to.equal(24);
      const le = !path.includes('bpfeb');
      const dv = new DataView(bytes.buffer, bytes.byteOffset);
      const shdr = Number(dv.getBigUint64(40, le)) + i * 64;
      const u64 = (at: number) => Number(dv.getBigUint64(at, le));
      expect(theirs[i]!.addralign).to.equal(u64(shdr + 46)).and.not.equal(8);
      expect(theirs[i]!.entsize).to.equal(u64(shdr + 54)).and.not.equal(24);
      // its other fields agree with llvm-readobj
      expect(theirs[i]!.off).to.equal(num(ref[i]!.Offset));
      expect(theirs[i]!.size).to.equal(num(ref[i]!.Size));
      expect(theirs[i]!.link).to.equal(num(ref[i]!.Link));
      expect(theirs[i]!.info).to.equal(num(ref[i]!.Info));
    }
  });

  it('elfy 1.0.0 does not know EM_BPF; readElf reports 247', () => {
    const bytes = readFileSync('bpf/tc_counter.o');
    expect(elfy.parse(bytes).machine).to.equal(undefined);
    expect(readElf(bytes).machine).to.equal(247);
  });

  it('accepts EM_NONE (old LLVM) and reads a Uint8Array that is a window into a larger buffer', () => {
    const file = readFileSync('bpf/tc_counter.o');
    const big = new Uint8Array(file.length + 13);
    big.set(file, 7);
    const bytes = big.subarray(7, 7 + file.length);
    new DataView(bytes.buffer, bytes.byteOffset).setUint16(18, 0, true);
    const elf = readElf(bytes);
    expect(elf.machine).to.equal(ELF.EM_NONE);
    const ref = readElf(file);
    expect(elf.sections.map((s) => [s.name, s.size])).to.deep.equal(ref.sections.map((s) => [s.name, s.size]));
    expect(Buffer.from(elf.section('tc/ingress')!.data).equals(Buffer.from(ref.section('tc/ingress')!.data))).to.equal(true);
  });

  it('section contents are the bytes at sh_offset, relocations hang on their target', () => {
    const bytes = readFileSync('bpf/tc_counter.o');
    const elf = readElf(bytes);
    const maps = elf.section('.maps')!;
    expect(Buffer.from(maps.data).equals(bytes.subarray(maps.offset, maps.offset + maps.size))).to.equal(true);
    // plain Uint8Array views even when the input is a Buffer
    expect(Object.getPrototypeOf(maps.data)).to.equal(Uint8Array.prototype);
    const prog = elf.section('tc/ingress')!;
    const rel = elf.section('.reltc/ingress')!;
    expect(rel.info).to.equal(prog.index);
    expect(prog.relocations).to.equal(elf.relocationsFor(prog.index));
    const names = prog.relocations.map((r) => elf.symbols[r.symbol]!.name);
    expect(names).to.include('counter');
    expect(elf.relocationsFor(9999)).to.deep.equal([]);
  });
});
