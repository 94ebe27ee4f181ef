// .BTF.ext: func_info, line_info and CO-RE relocation records checked against facts that do not come
// from our parser: the ELF symbol table (one func_info per function, at its address, naming a FUNC of
// the same name), the C sources (line_info's line text is that line of the file), a CO-RE program
// compiled here with known access strings, big-endian objects reading the same as little-endian ones,
// and malformed input (ParseError only, also under fuzzing).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../../lib/btf/btf.js';
import { parseBtfExt, type BtfExt } from '../../lib/btf/ext.js';
import { ParseError } from '../../lib/errors.js';
import { readElf, type ElfFile } from '../../lib/elf/index.js';

const STT_FUNC = 2;

function load(path: string): { elf: ElfFile; btf: Btf; ext: BtfExt; raw: Uint8Array } | undefined {
  const elf = readElf(readFileSync(path));
  const b = elf.section('.BTF');
  const x = elf.section('.BTF.ext');
  if (!b || !x) return undefined;
  const btf = Btf.parse(b.data);
  return { elf, btf, ext: parseBtfExt(x.data, btf), raw: x.data };
}

const objects = readdirSync('bpf').filter((f) => f.endsWith('.o')).map((f) => `bpf/${f}`);
const sourceLines = new Map<string, string[]>();
const lineOf = (file: string, line: number) => {
  if (!sourceLines.has(file)) sourceLines.set(file, readFileSync(file, 'utf8').split('\n'));
  return sourceLines.get(file)![line - 1];
};

describe('lib/btf: parseBtfExt', () => {
  it('bpf objects carry .BTF.ext with the record sizes clang writes', () => {
    const loaded = objects.map(load).filter((x) => x !== undefined);
    expect(loaded.length).to.be.greaterThan(10);
    for (const l of loaded) {
      expect(l.ext.funcInfoRecSize).to.equal(8);
      expect(l.ext.lineInfoRecSize).to.equal(16);
    }
  });

  for (const path of objects) {
    it(`${path}: one func_info per function symbol, at its address, naming its FUNC; line_info matches the source`, () => {
      const l = load(path);
      if (!l) return;
      const { elf, btf, ext } = l;
      const funcs = elf.symbols.filter((s) => s.type === STT_FUNC && s.shndx > 0 && s.shndx < elf.sections.length && elf.sections[s.shndx].size > 0);
      const bySection = new Map<string, Map<number, string>>();
      for (const s of funcs) {
        const sec = elf.sections[s.shndx].name;
        if (!bySection.has(sec)) bySection.set(sec, new Map());
        bySection.get(sec)!.set(s.value, s.name);
      }
      expect([...ext.funcInfo.keys()].sort(), 'sections with func_info').to.deep.equal([...bySection.keys()].sort());
      for (const [sec, recs] of ext.funcInfo) {
        const want = bySection.get(sec)!;
        expect(recs.length, `${sec}: func_info count`).to.equal(want.size);
        for (const r of recs) {
          const t = btf.type(r.typeId);
          expect(t.kind, `${sec}+${r.insnOff}`).to.equal('func');
          expect(t.name, `${sec}+${r.insnOff}`).to.equal(want.get(r.insnOff));
        }
      }
      for (const [sec, recs] of ext.lineInfo) {
        const size = elf.section(sec)!.size;
        let prev = -1;
        for (const r of recs) {
          expect(r.insnOff % 8, 'instruction aligned').to.equal(0);
          expect(r.insnOff).to.be.within(0, size - 8);
          expect(r.insnOff, 'sorted by instruction').to.be.at.least(prev);
          prev = r.insnOff;
          expect(r.lineCol).to.equal((r.line << 10) | r.column);
          const file = btf.stringAt(r.fileNameOff);
          const text = btf.stringAt(r.lineOff);
          // line 0: code the compiler made up (no source line, empty text)
          if (r.line === 0) expect(text).to.equal('');
          else if (file.endsWith('.c') && existsSync(file)) expect(text, `${file}:${r.line}`).to.equal(lineOf(file, r.line));
        }
        // every function starts with a line record (the kernel insists)
        for (const f of ext.funcInfo.get(sec) ?? []) expect(recs.some((r) => r.insnOff === f.insnOff), `${sec}+${f.insnOff}`).to.equal(true);
      }
    });
  }

  it('big-endian objects: the same func_info as little-endian ones, line_info matching the source', () => {
    if (!existsSync('bpf/build/bpfeb')) return;
    let compared = 0;
    for (const f of readdirSync('bpf/build/bpfeb').filter((n) => n.endsWith('.o'))) {
      const be = load(`bpf/build/bpfeb/${f}`);
      const le = existsSync(`bpf/${f}`) ? load(`bpf/${f}`) : undefined;
      if (!be || !le) continue;
      expect(be.btf.littleEndian).to.equal(false);
      const names = (e: BtfExt, b: Btf) => [...e.funcInfo].map(([s, r]) => [s, r.map((x) => [x.insnOff, b.nameOf(x.typeId)])]);
      // code generation differs between the targets, so lines are checked against the source instead
      for (const recs of be.ext.lineInfo.values()) {
        for (const r of recs) {
          const file = be.btf.stringAt(r.fileNameOff);
          if (r.line > 0 && file.endsWith('.c') && existsSync(file)) expect(be.btf.stringAt(r.lineOff), `${file}:${r.line}`).to.equal(lineOf(file, r.line));
        }
      }
      compared++;
    }
    expect(compared).to.be.greaterThan(5);
  });

  describe('CO-RE relocations of a program compiled here', () => {
    let dir: string;
    before(function () {
      dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-ext-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const source = `
struct inner { int c; int d; } __attribute__((preserve_access_index));
struct target { int a; int b; struct inner in; unsigned int bf:3; } __attribute__((preserve_access_index));
enum color { RED = 1, BLUE = 2 };
__attribute__((section("xdp"), used)) int prog(struct target *s)
{
	return s->b + s->in.d
		+ __builtin_preserve_field_info(s->a, 2)         /* FIELD_EXISTS */
		+ __builtin_preserve_field_info(s->bf, 1)        /* FIELD_BYTE_SIZE */
		+ __builtin_preserve_type_info(*s, 1)            /* TYPE_SIZE (9) */
		+ __builtin_preserve_enum_value(*(enum color *)BLUE, 1); /* ENUMVAL_VALUE (11) */
}
char _license[] __attribute__((section("license"), used)) = "GPL";
`;
    for (const target of ['bpf', 'bpfeb']) {
      it(`access strings, kinds and root types (-target ${target})`, () => {
        const c = join(dir, 'core.c');
        const o = join(dir, `core-${target}.o`);
        writeFileSync(c, source);
        execFileSync('clang', ['-target', target, '-O2', '-g', '-c', c, '-o', o]);
        const l = load(o)!;
        expect(l.ext.coreReloRecSize).to.equal(16);
        const relos = l.ext.coreRelos.get('xdp')!;
        const got = relos.map((r) => `${r.kind} ${l.btf.type(r.typeId).kind} ${l.btf.nameOf(r.typeId)} ${r.accessStr}`).sort();
        expect(got).to.deep.equal([
          '0 struct target 0:1',      // s->b: FIELD_BYTE_OFFSET
          '0 struct target 0:2:1',    // s->in.d
          '1 struct target 0:3',      // bf: FIELD_BYTE_SIZE
          '11 enum color 1',          // BLUE: ENUMVAL_VALUE
          '2 struct target 0:0',      // a: FIELD_EXISTS
          '9 struct target 0',        // TYPE_SIZE
        ]);
        for (const r of relos) expect(r.insnOff % 8).to.equal(0);
      });
    }
  });

  describe('malformed .BTF.ext: ParseError naming where', () => {
    const l = load('bpf/obj_subprog.o')!;
    const patch = (f: (dv: DataView, b: Uint8Array) => void) => {
      const b = l.raw.slice();
      f(new DataView(b.buffer), b);
      return b;
    };
    const expectParseError = (bytes: Uint8Array, re: RegExp) => {
      expect(() => parseBtfExt(bytes, l.btf)).to.throw(ParseError, re);
    };
    // func_info starts right after the 32-byte header: rec_size, then { sec_name_off, num_info, recs }
    const fiStart = () => new DataView(l.raw.buffer, l.raw.byteOffset).getUint32(4, true) + new DataView(l.raw.buffer, l.raw.byteOffset).getUint32(8, true);

    it('truncated header, bad magic, version, header length, subsection bounds', () => {
      expectParseError(l.raw.subarray(0, 10), /truncated header/);
      expectParseError(patch((_, b) => { b[1] = 0; }), /bad magic/);
      expectParseError(patch((_, b) => { b[2] = 9; }), /version/);
      expectParseError(patch((dv) => dv.setUint32(4, 8, true)), /header length/);
      expectParseError(patch((dv) => dv.setUint32(12, 0x7fffffff, true)), /func_info .* past the end/);
      expectParseError(patch((dv) => dv.setUint32(8, 2, true)), /not 4-byte aligned/);
    });

    it('record size, section name, record count', () => {
      expectParseError(patch((dv) => dv.setUint32(fiStart(), 4, true)), /record size 4/);
      expectParseError(patch((dv) => dv.setUint32(fiStart() + 4, 0x00fffff0, true)), /string offset .* out of range/);
      expectParseError(patch((dv) => dv.setUint32(fiStart() + 8, 0x10000000, true)), /run past the end/);
      expectParseError(patch((dv) => dv.setUint32(fiStart() + 8, 0, true)), /no records/);
    });

    it('fuzz: truncated and bit-flipped input raises ParseError only', () => {
      let seed = 0x1234567;
      const rand = (n: number) => {
        seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
        return (seed >>> 0) % n;
      };
      for (let round = 0; round < 3000; round++) {
        const b = round % 3 === 0 ? l.raw.slice(0, rand(l.raw.length)) : l.raw.slice();
        if (round % 3 !== 0) for (let k = 0, n = 1 + rand(4); k < n; k++) b[rand(b.length)] ^= 1 << rand(8);
        try {
          parseBtfExt(b, l.btf);
        } catch (e) {
          if (!(e instanceof ParseError)) throw new Error(`round ${round}: ${String(e)}`, { cause: e });
        }
      }
    });
  });
});
