// The pure halves of attachUprobe/attachKprobe: libbpf-style section names, function symbol → file
// offset (against nm and readelf on this machine's libc and on programs gcc builds here, PIE and
// not), and binary names resolved through /etc/ld.so.cache (against ldconfig -p) and PATH.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParseError } from '../../lib/errors.js';
import { readLinkedElf, findFunctionOffset, type LinkedElf } from '../../lib/elf/function-offset.js';
import { parseProbeSection } from '../../lib/attach/probe.js';
import { AttachArgumentError } from '../../lib/attach/handle.js';
import { ldCacheLookup, resolveProbeBinary, ProbeBinaryError } from '../../lib/attach/probe-binary.js';
import { readSymbolTables } from '../../lib/attach/probe-elf.js';

/** PT_LOAD segments as readelf -lW prints them */
function loads(path: string): { offset: number; vaddr: number; memsz: number }[] {
  const out = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x([0-9a-f]+)/gm)]
    .map((m) => ({ offset: parseInt(m[1], 16), vaddr: parseInt(m[2], 16), memsz: parseInt(m[3], 16) }));
}

/** the file offset readelf's segments give an address */
function expectedOffset(segs: ReturnType<typeof loads>, value: number): number {
  const s = segs.find((x) => value >= x.vaddr && value < x.vaddr + x.memsz);
  if (!s) throw new Error(`no segment for 0x${value.toString(16)}`);
  return value - (s.vaddr - s.offset);
}

/** nm's defined symbols: [value, type letter, name as printed (with @VER / @@VER)] */
function nm(path: string, dynamic: boolean): [number, string, string][] {
  const out = execFileSync('nm', [...(dynamic ? ['-D'] : []), '--defined-only', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\n').map((l) => l.split(' ')).filter((p) => p.length === 3).map(([v, t, n]) => [parseInt(v, 16), t, n]);
}

const offsetOf = (elf: LinkedElf, symbol: string): number => {
  const r = findFunctionOffset(elf, symbol);
  if (!('offset' in r)) throw new Error(`${symbol}: ${JSON.stringify(r)}`);
  return r.offset;
};

describe('probe section names (libbpf forms)', () => {
  const cases: [string, object | undefined][] = [
    ['uprobe', { family: 'uprobe', retprobe: false, sleepable: false }],
    ['uretprobe', { family: 'uprobe', retprobe: true, sleepable: false }],
    ['uprobe.s', { family: 'uprobe', retprobe: false, sleepable: true }],
    ['uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:getppid', { family: 'uprobe', retprobe: false, sleepable: false, binary: '/usr/lib/x86_64-linux-gnu/libc.so.6', symbol: 'getppid', offset: undefined }],
    ['uretprobe/libc.so.6:malloc@@GLIBC_2.2.5', { family: 'uprobe', retprobe: true, sleepable: false, binary: 'libc.so.6', symbol: 'malloc@@GLIBC_2.2.5', offset: undefined }],
    ['uprobe.s/./a:b:f+0x10', { family: 'uprobe', retprobe: false, sleepable: true, binary: './a:b', symbol: 'f', offset: 16 }],
    ['uprobe/bin:0x1234', { family: 'uprobe', retprobe: false, sleepable: false, binary: 'bin', offset: 0x1234 }],
    ['?uprobe/bin:main+8', { family: 'uprobe', retprobe: false, sleepable: false, binary: 'bin', symbol: 'main', offset: 8 }],
    ['kprobe/do_unlinkat+8', { family: 'kprobe', retprobe: false, sleepable: false, binary: undefined, symbol: 'do_unlinkat', offset: 8 }],
    ['kretprobe/tcp_v4_connect', { family: 'kprobe', retprobe: true, sleepable: false, binary: undefined, symbol: 'tcp_v4_connect', offset: undefined }],
    ['kprobe/foo.isra.0', { family: 'kprobe', retprobe: false, sleepable: false, binary: undefined, symbol: 'foo.isra.0', offset: undefined }],
    ['kprobe', { family: 'kprobe', retprobe: false, sleepable: false }],
    ['uprobe.multi/bin:f*', { family: 'uprobe', retprobe: false, sleepable: false, other: 'uprobe.multi' }],
    ['kretprobe.multi/f*', { family: 'kprobe', retprobe: true, sleepable: false, other: 'kretprobe.multi' }],
    ['usdt/bin:p:n', { family: 'uprobe', retprobe: false, sleepable: false, other: 'usdt' }],
    ['tracepoint/syscalls/sys_enter_getppid', undefined],
    ['kprobe.s/f', undefined],
    ['uprobes/x:f', undefined],
  ];
  for (const [section, want] of cases) {
    it(section, () => expect(parseProbeSection(section)).to.deep.equal(want));
  }
  const bad: [string, RegExp][] = [
    ['uprobe/libc.so.6', /names no function: the form is uprobe\/BINARY:FUNCTION\[\+OFFSET\]/],
    ['uprobe/libc.so.6:', /names no function after the binary/],
    ['uprobe/bin:f+x', /offset "x" after '\+' is not a number/],
    ['uretprobe/bin:f+4', /a return probe takes no offset/],
    ['kretprobe/f+4', /a return probe takes no offset/],
    ['kprobe/a-b', /"a-b" is not a kernel function name/],
    ['uprobe/bin:+4', /names no function before the offset/],
  ];
  for (const [section, re] of bad) {
    it(`${section} is refused`, () => expect(() => parseProbeSection(section, 'op')).to.throw(AttachArgumentError, re).with.property('message').that.includes(`op: section "${section}"`));
  }
});

describe('function symbol → file offset', function () {
  this.timeout(60_000);
  const libc = realpathSync(resolveProbeBinary('test', 'libc.so.6'));

  it(`every function nm -D lists in ${libc} (by its exact versioned name) is at the offset readelf's PT_LOAD segments give`, () => {
    const elf = readLinkedElf(readFileSync(libc));
    const segs = loads(libc);
    expect(elf.segments.map((s) => ({ offset: s.offset, vaddr: s.vaddr, memsz: s.memsz }))).to.deep.equal(segs);
    let checked = 0;
    for (const [value, type, name] of nm(libc, true)) {
      if (type === 'T' || type === 'W' || type === 't') {
        expect(offsetOf(elf, name), name).to.equal(expectedOffset(segs, value));
        // the unversioned name is the default version's ('@@')
        if (name.includes('@@')) expect(offsetOf(elf, name.slice(0, name.indexOf('@'))), name).to.equal(expectedOffset(segs, value));
        checked++;
      } else if (type === 'i') {
        expect(findFunctionOffset(elf, name), name).to.deep.equal({ problem: 'ifunc' });
      }
    }
    expect(checked).to.be.greaterThan(1000);
    // names with an old and a default version: the default unless the old one is named
    const realpath = nm(libc, true).filter(([, , n]) => n.startsWith('realpath@'));
    if (realpath.length === 2) {
      const [dflt, old] = realpath[0][2].includes('@@') ? realpath : [realpath[1], realpath[0]];
      expect(offsetOf(elf, 'realpath')).to.equal(expectedOffset(segs, dflt[0]));
      expect(offsetOf(elf, old[2])).to.equal(expectedOffset(segs, old[0]));
      expect(offsetOf(elf, old[2].replace('@', '@@'))).to.equal(expectedOffset(segs, old[0]));
    }
    expect(findFunctionOffset(elf, 'environ')).to.deep.equal({ problem: 'not-function', type: 'OBJECT' });
    expect(findFunctionOffset(elf, 'getppid@GLIBC_9.9')).to.deep.include({ problem: 'missing' });
    expect(findFunctionOffset(elf, 'getppi')).to.deep.include({ problem: 'missing' });
  });

  describe('programs built by gcc (.symtab, PIE and not, stripped)', function () {
    let dir: string;
    before(function () {
      if (spawnSync('gcc', ['--version']).status !== 0) {
        console.log('      skip: needs gcc (make apt)');
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'tsbpf-probe-unit-'));
      writeFileSync(join(dir, 't.c'), [
        'static int __attribute__((noinline)) hidden_helper(int x) { __asm__ volatile(""); return x + 1; }',
        'int __attribute__((noinline)) exported(int x) { return hidden_helper(x) * 2; }',
        'int __attribute__((weak)) weak_one(void) { return 7; }',
        'int counter = 3;',
        'int main(int argc, char **argv) { (void)argv; return exported(argc) + weak_one() + counter; }',
      ].join('\n'));
      execFileSync('gcc', ['-O1', '-o', join(dir, 'pie'), join(dir, 't.c')]);
      execFileSync('gcc', ['-O1', '-no-pie', '-o', join(dir, 'nopie'), join(dir, 't.c')]);
      execFileSync('gcc', ['-O1', '-s', '-o', join(dir, 'stripped'), join(dir, 't.c')]);
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    for (const kind of ['pie', 'nopie']) {
      it(`${kind}: every function of nm's .symtab listing is where readelf's segments put it`, () => {
        const path = join(dir, kind);
        const elf = readLinkedElf(readFileSync(path));
        const segs = loads(path);
        // (W is any weak symbol, functions or not: data_start is NOTYPE; weak_one is this file's weak function)
        const funcs = nm(path, false).filter(([, t, n]) => t === 'T' || t === 't' || n === 'weak_one');
        expect(funcs.map(([, , n]) => n)).to.include.members(['main', 'exported', 'hidden_helper', 'weak_one']);
        for (const [value, , name] of funcs) if (!name.includes('@')) expect(offsetOf(elf, name), name).to.equal(expectedOffset(segs, value));
        if (kind === 'nopie') expect(offsetOf(elf, 'main')).to.not.equal(nm(path, false).find(([, , n]) => n === 'main')![0]); // vaddr 0x400000-based
        expect(findFunctionOffset(elf, 'counter')).to.deep.equal({ problem: 'not-function', type: 'OBJECT' });
        expect(findFunctionOffset(elf, 'printf')).to.deep.equal({ problem: 'missing', imported: false, stripped: false });
        expect(findFunctionOffset(elf, '__libc_start_main')).to.deep.equal({ problem: 'missing', imported: true, stripped: false });
      });
    }

    it('stripped: no .symtab, and a function only .symtab had is missing (stripped)', () => {
      const elf = readLinkedElf(readFileSync(join(dir, 'stripped')));
      expect(elf.symtab).to.deep.equal([]);
      expect(findFunctionOffset(elf, 'hidden_helper')).to.deep.equal({ problem: 'missing', imported: false, stripped: true });
    });

    it('a BPF object, a text file and a truncated ELF are ParseErrors', () => {
      expect(() => readLinkedElf(readFileSync('bpf/attach_probe.o'))).to.throw(ParseError, /e_type 1 is not an executable \(2\) or a shared object \(3\)/);
      expect(() => readLinkedElf(readFileSync(join(dir, 't.c')))).to.throw(ParseError, /not an ELF file/);
      expect(() => readLinkedElf(readFileSync(join(dir, 'pie')).subarray(0, 100))).to.throw(ParseError, /runs past the end of the file/);
    });
  });
});

describe('probe binary names', () => {
  it('library names resolve through /etc/ld.so.cache to what ldconfig -p lists', function () {
    const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
    if (ldconfig.status !== 0) {
      console.log('      skip: needs ldconfig');
      this.skip();
    }
    const listed = (name: string) => [...ldconfig.stdout.matchAll(new RegExp(`^\\s+${name.replace(/\./g, '\\.')} \\(([^)]*)\\) => (\\S+)$`, 'gm'))].map((m) => m[2]);
    for (const name of ['libc.so.6', 'libm.so.6']) {
      const cached = ldCacheLookup(name);
      expect(cached, name).to.not.be.empty;
      expect(listed(name)).to.include.members(cached);
      expect(realpathSync(resolveProbeBinary('t', name))).to.equal(realpathSync(cached[0]));
    }
    expect(ldCacheLookup('libtsbpf-none.so.1')).to.deep.equal([]);
    expect(ldCacheLookup('libc.so.6', new Uint8Array(100))).to.deep.equal([]);
  });

  it('program names resolve through PATH; paths are taken as given', () => {
    const sh = execFileSync('sh', ['-c', 'command -v ls'], { encoding: 'utf8' }).trim();
    expect(resolveProbeBinary('t', 'ls')).to.equal(sh);
    expect(resolveProbeBinary('t', '/bin/sh')).to.equal('/bin/sh');
    expect(() => resolveProbeBinary('t', 'tsbpf-no-such-program')).to.throw(ProbeBinaryError, /tsbpf-no-such-program: not found \(looked in PATH/);
    expect(() => resolveProbeBinary('t', '')).to.throw(AttachArgumentError, /binary must be a path or a file name/);
  });
});

describe('reading only the symbol tables of a binary', () => {
  const libc = realpathSync('/lib/x86_64-linux-gnu/libc.so.6');

  it('gives the linked-ELF reader what the whole file gives it (libc, bash), and leaves code and data unread', () => {
    for (const path of [libc, realpathSync('/usr/bin/bash')]) {
      const whole = readFileSync(path);
      const tables = readSymbolTables(path);
      expect(tables.length).to.equal(whole.length);
      expect(JSON.stringify(readLinkedElf(tables)), path).to.equal(JSON.stringify(readLinkedElf(whole)));
      // .text is not read: it is zeros in the partial copy
      const text = /\.text\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(execFileSync('readelf', ['-SW', path], { encoding: 'utf8' }))!;
      const [off, size] = [parseInt(text[1], 16), parseInt(text[2], 16)];
      expect(tables.subarray(off, off + size).some((b) => b !== 0), path).to.equal(false);
      expect(whole.subarray(off, off + size).some((b) => b !== 0)).to.equal(true);
    }
  });

  it('reads a file that is no ELF64, or whose tables lie past its end, whole (the reader then says what is wrong)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-probe-elf-'));
    try {
      const script = join(dir, 'script.sh');
      writeFileSync(script, '#!/bin/sh\necho hi\n');
      expect(Buffer.from(readSymbolTables(script)).toString()).to.equal('#!/bin/sh\necho hi\n');
      const cut = join(dir, 'cut.so');
      writeFileSync(cut, readFileSync(libc).subarray(0, 4096));
      expect(Buffer.compare(readSymbolTables(cut), readFileSync(cut))).to.equal(0);
      expect(() => readLinkedElf(readSymbolTables(cut))).to.throw(ParseError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
