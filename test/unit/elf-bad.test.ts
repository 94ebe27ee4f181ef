// lib/elf on malformed input: each damage is reported as a ParseError (format 'elf') naming the
// offset and, where there is one, the section — never a RangeError/TypeError. Then a fuzz loop
// truncating and flipping bytes of real objects (both byte orders) asserts the same.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { readElf, ELF } from '../../lib/elf/index.js';
import { ParseError } from '../../lib/errors.js';

const LE = 'bpf/tc_counter.o';
const BE = 'bpf/build/bpfeb/tc_counter.o';

function load(path: string): { bytes: Uint8Array; dv: DataView; le: boolean } {
  const bytes = new Uint8Array(readFileSync(path));
  return { bytes, dv: new DataView(bytes.buffer), le: bytes[5] === ELF.ELFDATA2LSB };
}

/** Byte offset of section `name`'s header in the file. */
function shdrOf(bytes: Uint8Array, name: string): number {
  const elf = readElf(bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const le = elf.littleEndian;
  return Number(dv.getBigUint64(40, le)) + elf.section(name)!.index * 64;
}

function parseError(bytes: Uint8Array): ParseError {
  try {
    readElf(bytes);
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(ParseError);
    expect((e as ParseError).format).to.equal('elf');
    return e as ParseError;
  }
  throw new Error('readElf accepted the damaged file');
}

describe('lib/elf: malformed input', () => {
  for (const path of [LE, BE]) {
    describe(path, () => {
      it('truncated files', () => {
        const { bytes } = load(path);
        for (const n of [0, 3, 10, 40, 63]) expect(parseError(bytes.subarray(0, n)).offset).to.be.a('number');
        // the section header table is at the end: cut into it
        const e = parseError(bytes.subarray(0, bytes.length - 10));
        expect(e.message).to.match(/section header table/);
      });

      it('bad magic', () => {
        const { bytes } = load(path);
        bytes[1] = 0x46;
        const e = parseError(bytes);
        expect(e.offset).to.equal(0);
        expect(e.message).to.match(/magic/);
      });

      it('ELFCLASS32 and unknown class / data encoding', () => {
        let { bytes } = load(path);
        bytes[4] = ELF.ELFCLASS32;
        expect(parseError(bytes)).to.include({ offset: 4 }).and.have.property('message').match(/ELFCLASS32/);
        ({ bytes } = load(path));
        bytes[4] = 9;
        expect(parseError(bytes).offset).to.equal(4);
        ({ bytes } = load(path));
        bytes[5] = 3;
        expect(parseError(bytes).offset).to.equal(5);
      });

      it('a machine other than EM_BPF / EM_NONE', () => {
        const { bytes, dv, le } = load(path);
        dv.setUint16(18, 62 /* EM_X86_64 */, le);
        const e = parseError(bytes);
        expect(e.offset).to.equal(18);
        expect(e.message).to.match(/e_machine 62/);
      });

      it('section header table out of bounds', () => {
        const { bytes, dv, le } = load(path);
        dv.setBigUint64(40, BigInt(bytes.length - 100), le);
        expect(parseError(bytes).message).to.match(/section header table/);
        const b2 = load(path);
        b2.dv.setUint16(60, 5000, b2.le); // e_shnum
        expect(parseError(b2.bytes).message).to.match(/section header table \(5000 entries\)/);
        const b3 = load(path);
        b3.dv.setUint16(62, 900, b3.le); // e_shstrndx
        expect(parseError(b3.bytes).offset).to.equal(62);
      });

      it('section contents past the end of the file name the section', () => {
        const { bytes, dv, le } = load(path);
        const at = shdrOf(bytes, '.maps');
        dv.setBigUint64(at + 32, BigInt(bytes.length), le); // sh_size
        const e = parseError(bytes);
        expect(e.section).to.equal('.maps');
        expect(e.offset).to.equal(at + 24);
      });

      it('section name offset outside .shstrtab', () => {
        const { bytes, dv, le } = load(path);
        const at = shdrOf(bytes, 'tc/ingress');
        dv.setUint32(at, 0xfffff, le);
        const e = parseError(bytes);
        expect(e.message).to.match(/string offset 1048575/);
        expect(e.section).to.be.a('string');
        expect(e.offset).to.be.a('number');
      });

      it('symbol name offset outside the string table', () => {
        const { bytes, dv, le } = load(path);
        const elf = readElf(bytes);
        const sym = elf.symbols.findIndex((s) => s.name === 'counter');
        dv.setUint32(elf.symtab!.offset + sym * 24, 0x7fffffff, le);
        const e = parseError(bytes);
        expect(e.message).to.match(new RegExp(`name of symbol ${sym}`));
        expect(e.offset).to.be.a('number');
      });

      it('symbol table with the wrong entsize', () => {
        const { bytes, dv, le } = load(path);
        const at = shdrOf(bytes, '.symtab');
        dv.setBigUint64(at + 56, 16n, le);
        const e = parseError(bytes);
        expect(e.section).to.equal('.symtab');
        expect(e.message).to.match(/entsize 16, want 24/);
      });

      it('symbol in a section that does not exist', () => {
        const { bytes, dv, le } = load(path);
        const elf = readElf(bytes);
        const sym = elf.symbols.findIndex((s) => s.name === 'counter');
        dv.setUint16(elf.symtab!.offset + sym * 24 + 6, 4000, le);
        expect(parseError(bytes).message).to.match(/st_shndx 4000/);
      });

      it('REL pointing at a missing section', () => {
        const { bytes, dv, le } = load(path);
        const at = shdrOf(bytes, '.reltc/ingress');
        dv.setUint32(at + 44, 200, le); // sh_info
        const e = parseError(bytes);
        expect(e.section).to.equal('.reltc/ingress');
        expect(e.message).to.match(/section 200, which does not exist/);
      });

      it('relocation naming a symbol out of range, or past its target', () => {
        const { bytes, dv, le } = load(path);
        const rel = readElf(bytes).section('.reltc/ingress')!;
        dv.setUint32(rel.offset + (le ? 12 : 8), 99999, le); // ELF64_R_SYM of the first entry
        expect(parseError(bytes)).to.include({ section: '.reltc/ingress' }).and.have.property('message').match(/symbol index 99999/);
        const b2 = load(path);
        b2.dv.setBigUint64(rel.offset, 1n << 20n, b2.le);
        expect(parseError(b2.bytes).message).to.match(/outside tc\/ingress/);
      });

      it('relocations of a section not loaded (debug info) are checked when first read', () => {
        const { bytes, dv, le } = load(path);
        const elf0 = readElf(bytes);
        const rel = elf0.sections.find((s) => s.type === ELF.SHT_REL && (elf0.sections[s.info]!.flags & ELF.SHF_ALLOC) === 0)!;
        expect(rel, 'a .rel.debug_* section').to.not.equal(undefined);
        dv.setUint32(rel.offset + (le ? 12 : 8), 99999, le);
        const elf = readElf(bytes);
        const read = () => elf.relocationsFor(rel.info);
        expect(read).to.throw(ParseError, /symbol index 99999/);
        expect(read, 'still refused when read again').to.throw(ParseError, /symbol index 99999/);
      });
    });
  }

  it('fuzz: truncating and flipping bytes of real objects throws only ParseError', function () {
    this.timeout(120000);
    // xorshift32 with a fixed seed: a failure reproduces
    let seed = 0x2545f491;
    const rnd = (n: number) => {
      seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
      return seed % n;
    };
    const paths = [LE, BE, 'bpf/obj_globals.o', 'bpf/build/bpfeb/obj_sections.o'];
    let parsed = 0;
    let rejected = 0;
    for (const path of paths) {
      const orig = new Uint8Array(readFileSync(path));
      const shoff = Number(new DataView(orig.buffer).getBigUint64(40, orig[5] === 1));
      for (let round = 0; round < 600; round++) {
        let bytes = orig.slice();
        const mode = round % 4;
        if (mode === 0) bytes = bytes.subarray(0, rnd(bytes.length));
        const flips = 1 + rnd(8);
        for (let f = 0; f < flips; f++) {
          // aim most flips at the headers, where they matter; some anywhere
          const where = rnd(3) === 0 ? rnd(64) : rnd(3) === 0 ? rnd(bytes.length || 1) : shoff + rnd(bytes.length - shoff > 0 ? bytes.length - shoff : 1);
          if (where < bytes.length) bytes[where] = mode === 1 ? 0xff : rnd(256);
        }
        try {
          const elf = readElf(bytes);
          // what was accepted must be usable without throwing either
          for (const s of elf.sections) void s.data.length;
          for (const s of elf.sections) elf.relocationsFor(s.index);
          parsed++;
        } catch (e) {
          if (!(e instanceof ParseError)) throw new Error(`${path} round ${round}: ${String(e)}`, { cause: e });
          // readElf's last-resort wrapper would hide a check it forgot: none may come through it
          const cause = (e as { cause?: unknown }).cause;
          if (cause instanceof RangeError || cause instanceof TypeError) throw new Error(`${path} round ${round}: unchecked ${String(cause)}`, { cause });
          rejected++;
        }
      }
    }
    expect(rejected).to.be.greaterThan(100);
    expect(parsed + rejected).to.equal(paths.length * 600);
  });
});
