// `tsbpf btf dump file …` as a user runs it (node lib/cli/main.ts in a child process), stdout
// compared with bpftool's byte for byte; failures are one clear line on stderr and exit status 1.
// Every object goes through the CLI's code in btf-format.test.ts; here one object per build.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtObjects } from '../helpers/bpf-objects.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const MAX = 256 * 1024 * 1024;

function tsbpf(args: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: MAX });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

function bpftool(args: string[]): { out: string; status: number | null } {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: MAX });
  return { out: r.stdout, status: r.status };
}

/** One object of each build directory (bpf/, clang16, clang19, v3, bpfeb): each has BTF. */
function onePerBuild(): string[] {
  const seen = new Map<string, string>();
  for (const o of builtObjects()) {
    const dir = o.slice(0, o.lastIndexOf('/'));
    if (!dir.endsWith('/nog') && !seen.has(dir) && o.endsWith('/tc_counter.o')) seen.set(dir, o);
  }
  return [...seen.values()];
}

function expectCleanFailure(r: { err: string; status: number | null }, pattern: RegExp): void {
  expect(r.status).to.equal(1);
  expect(r.err).to.match(/^Error: /);
  expect(r.err).to.match(pattern);
  expect(r.err).not.to.match(/\n\s+at /); // no stack trace
}

describe('tsbpf btf dump (CLI)', function () {
  this.timeout(180000);
  let dir: string;
  before(function () {
    if (spawnSync('bpftool', ['version']).status !== 0) this.skip(); // the oracle is missing
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-cli-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('vmlinux: stdout byte-identical to bpftool format raw (also with format raw omitted)', function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    const want = bpftool(['btf', 'dump', 'file', VMLINUX, 'format', 'raw']).out;
    const got = tsbpf(['btf', 'dump', 'file', VMLINUX, 'format', 'raw']);
    expect(got.status, got.err).to.equal(0);
    expect(got.out === want, 'raw text differs').to.equal(true);
    expect(tsbpf(['btf', 'dump', 'file', VMLINUX]).out === want).to.equal(true);
  });

  it('one object per build (bpfeb included): raw, format c and -j as bpftool prints them', () => {
    const objects = onePerBuild();
    expect(objects.length).to.be.greaterThan(1);
    for (const obj of objects) {
      expect(tsbpf(['btf', 'dump', 'file', obj, 'format', 'raw']).out, obj).to.equal(bpftool(['btf', 'dump', 'file', obj, 'format', 'raw']).out);
      expect(tsbpf(['btf', 'dump', 'file', obj, 'format', 'c']).out, obj).to.equal(bpftool(['btf', 'dump', 'file', obj, 'format', 'c']).out);
      expect(JSON.parse(tsbpf(['btf', 'dump', 'file', obj, '-j']).out), obj).to.deep.equal(JSON.parse(bpftool(['-j', 'btf', 'dump', 'file', obj]).out));
    }
  });

  it('-B BASE: a split BTF numbered after its base, as bpftool -B prints it', function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    // the split blob: vmlinux's own BTF would do as a "module" only with a real module, and this
    // kernel has none loaded; a one-type split blob built from vmlinux's counts does the same job
    const vml = readFileSync(VMLINUX);
    const strLen = vml.readUInt32LE(20);
    const typeCount = bpftool(['btf', 'dump', 'file', VMLINUX]).out.match(/^\[(\d+)\]/gm)!.length + 1;
    const name = 'tsbpf_cli_split';
    const types = Buffer.alloc(12 + 12);
    types.writeUInt32LE(strLen + 1, 0); types.writeUInt32LE((4 << 24) | 1, 4); types.writeUInt32LE(8, 8); // STRUCT, 1 member
    types.writeUInt32LE(strLen + 1 + name.length + 1, 12); types.writeUInt32LE(typeCount + 1, 16); types.writeUInt32LE(0, 20);
    const ptr = Buffer.alloc(12);
    ptr.writeUInt32LE(0, 0); ptr.writeUInt32LE(2 << 24, 4); ptr.writeUInt32LE(typeCount, 8); // PTR to it
    const strs = Buffer.from(`\0${name}\0next\0`, 'latin1');
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0); hdr[2] = 1;
    hdr.writeUInt32LE(24, 4); hdr.writeUInt32LE(0, 8); hdr.writeUInt32LE(36, 12); hdr.writeUInt32LE(36, 16); hdr.writeUInt32LE(strs.length, 20);
    const file = join(dir, 'split.btf');
    writeFileSync(file, Buffer.concat([hdr, types, ptr, strs]));
    const want = bpftool(['-B', VMLINUX, 'btf', 'dump', 'file', file]);
    expect(want.status).to.equal(0);
    const got = tsbpf(['btf', 'dump', 'file', file, '-B', VMLINUX]);
    expect(got.status, got.err).to.equal(0);
    expect(got.out).to.equal(want.out);
    expect(got.out).to.equal(`[${typeCount}] STRUCT '${name}' size=8 vlen=1\n\t'next' type_id=${typeCount + 1} bits_offset=0\n[${typeCount + 1}] PTR '(anon)' type_id=${typeCount}\n`);
    expect(tsbpf(['btf', 'dump', 'file', file, '--base-btf', VMLINUX, '-j']).out).to.include(`"name":"${name}"`);
  });

  it('errors: one line, exit 1, no stack trace', () => {
    expectCleanFailure(tsbpf(['btf', 'dump', 'file', join(dir, 'missing.btf')]), /cannot read BTF from .*missing\.btf: no such file/);
    expectCleanFailure(tsbpf(['btf', 'dump', 'file', 'package.json']), /neither raw BTF \(magic 0xeb9f\) nor an ELF object/);
    const nog = builtObjects().find((o) => o.includes('/nog/'));
    if (nog) expectCleanFailure(tsbpf(['btf', 'dump', 'file', nog]), /has no \.BTF section/);
    const empty = join(dir, 'empty.btf');
    writeFileSync(empty, '');
    expectCleanFailure(tsbpf(['btf', 'dump', 'file', empty]), /neither raw BTF/);
    const truncated = join(dir, 'truncated.o');
    writeFileSync(truncated, readFileSync(onePerBuild()[0]!).subarray(0, 100));
    expectCleanFailure(tsbpf(['btf', 'dump', 'file', truncated]), /cannot read ELF object .*truncated\.o: elf: /);
    const badBtf = join(dir, 'bad.btf');
    writeFileSync(badBtf, Buffer.from([0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expectCleanFailure(tsbpf(['btf', 'dump', 'file', badBtf]), /cannot parse BTF of .*bad\.btf: btf: /);
    // under -j the error is bpftool's {"error": …} on stdout
    const cj = tsbpf(['btf', 'dump', 'file', onePerBuild()[0]!, 'format', 'c', '-j']);
    expect([cj.status, cj.err, cj.out]).to.deep.equal([1, '', '{"error":"JSON output for C-syntax dump is not supported"}\n']);
    expectCleanFailure(tsbpf(['btf', 'dump', 'file', onePerBuild()[0]!, 'format', 'xml']), /unrecognized format specifier: 'xml'/);
    expectCleanFailure(tsbpf(['btf', 'dump', 'bogus', '1']), /unrecognized BTF source specifier: 'bogus'/);
    expectCleanFailure(tsbpf(['btf', 'dump', 'id', '1x']), /can't parse 1x as ID/);
  });
});
