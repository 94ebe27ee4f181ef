// readObject (no kernel): the spec of every test object, checked against the object file itself as
// llvm-readelf sees it (symbols, relocations), the section catalog, and typed errors on bad input.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { buildHiddenObject } from '../helpers/hidden-object.js';
import { isDeepStrictEqual } from 'node:util';
import { readObject, loadObject, ObjectSpec, ObjectError, findSection } from '../../lib/object/index.js';
import { linkProgram } from '../../lib/object/link.js';
import { uploadBlob } from '../../lib/object/btf-blob.js';
import { Btf } from '../../lib/btf/btf.js';
import { describeObject, formatObject } from '../../lib/cli/object.js';
import { BPF_ATTACH_TYPE as A, BPF_MAP_FLAG, BPF_MAP_TYPE, BPF_PROG_TYPE as P } from '../../lib/syscall/types.js';
import { TsbpfError } from '../../lib/errors.js';

const obj = (name: string, variant?: string) => (variant ? `bpf/build/${variant}/${name}.o` : `bpf/${name}.o`);
const VARIANTS = ['clang16', 'clang19', 'v3'].filter((v) => existsSync(obj('tc_counter', v)));

/** Symbols of a section as llvm-readelf lists them: name → value. */
function readelfSymbols(file: string): { name: string; value: number; section: string; type: string; bind: string }[] {
  const out = execFileSync('llvm-readelf', ['-s', '-S', '--wide', file], { encoding: 'utf8' });
  const sections = new Map<string, string>();
  for (const m of out.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)/gm)) sections.set(m[1], m[2]);
  const syms = [];
  for (const m of out.matchAll(/^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)$/gm)) {
    syms.push({ value: parseInt(m[1], 16), type: m[2], bind: m[3], section: sections.get(m[4]) ?? m[4], name: m[5] });
  }
  return syms;
}

describe('readObject (no kernel)', () => {
  it('reads the seed object: two TC programs with TCX attach types sharing one pinned-by-name array map', () => {
    const s = readObject('bpf/tc_counter.o');
    expect(s.name).to.equal('tc_counter');
    expect(s.license).to.equal('Dual BSD/GPL');
    const ing = s.programs.get('tc_ingress')!;
    const egr = s.programs.get('tc_egress')!;
    expect([ing.section, ing.type, ing.attachType, ing.typeName]).to.deep.equal(['tc/ingress', P.SCHED_CLS, A.TCX_INGRESS, 'sched_cls']);
    expect([egr.section, egr.type, egr.attachType]).to.deep.equal(['tc/egress', P.SCHED_CLS, A.TCX_EGRESS]);
    const counter = s.maps.get('counter')!;
    expect(counter).to.include({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2, pinning: 'byName', kind: 'btf' });
    // both programs refer to it through an LD_IMM64 map relocation
    for (const p of [ing, egr]) expect(p.relocations.some((r) => r.target.kind === 'map' && r.target.map === 'counter')).to.equal(true);
    const rodata = s.maps.get('.rodata')!;
    expect(rodata.readOnly).to.equal(true);
    expect(rodata.flags & BPF_MAP_FLAG.RDONLY_PROG).to.not.equal(0);
    expect(rodata.kernelName).to.equal('tc_count.rodata');
    expect(s.variables.get('only_dport')).to.include({ map: '.rodata', size: 2, readOnly: true });
  });

  it('is deterministic: the same bytes give the same spec', () => {
    for (const f of ['tc_counter', 'obj_globals', 'obj_subprog', 'obj_mapinmap']) {
      const bytes = readFileSync(obj(f));
      const a = readObject(bytes, { name: f });
      const b = readObject(bytes.slice(), { name: f });
      const plain = (s: ObjectSpec) => ({ programs: [...s.programs], functions: [...s.functions], maps: [...s.maps], variables: [...s.variables], license: s.license });
      expect(isDeepStrictEqual(plain(a), plain(b)), f).to.equal(true);
    }
  });

  it('places every function and variable where the ELF symbol table says (llvm-readelf)', () => {
    for (const f of ['obj_globals', 'obj_subprog', 'obj_callback', 'obj_tailcall', 'tc_counter']) {
      const s = readObject(obj(f));
      const syms = readelfSymbols(obj(f));
      for (const sym of syms.filter((x) => x.type === 'FUNC')) {
        const fn = s.programs.get(sym.name) ?? s.functions.get(sym.name);
        expect(fn, `${f}: ${sym.name}`).to.not.equal(undefined);
        expect(fn!.section).to.equal(sym.section);
        expect(fn!.sectionInsn * 8).to.equal(sym.value);
        expect(fn!.global).to.equal(sym.bind !== 'LOCAL');
      }
      for (const v of s.variables.values()) {
        const sym = syms.find((x) => x.name === v.name && x.type === 'OBJECT');
        if (!sym) continue; // function-local statics carry a BTF name ("fn.var") clang does not put in .symtab the same way
        expect(v.offset, `${f}: ${v.name}`).to.equal(sym.value);
        expect(sym.section).to.equal(v.map);
      }
    }
  });

  it('knows the section catalog, incl. the names libbpf added after 1.1 and "?" optional programs', () => {
    const s = readObject('bpf/obj_sections.o');
    const t = (n: string) => { const p = s.programs.get(n)!; return [p.type, p.attachType]; };
    expect(t('s_socket')).to.deep.equal([P.SOCKET_FILTER, 0]);
    expect(t('s_sockops')).to.deep.equal([P.SOCK_OPS, A.CGROUP_SOCK_OPS]);
    expect(t('s_skb_verdict')).to.deep.equal([P.SK_SKB, A.SK_SKB_STREAM_VERDICT]);
    expect(t('s_cg_connect6')).to.deep.equal([P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT]);
    expect(t('s_xdp_devmap')).to.deep.equal([P.XDP, A.XDP_DEVMAP]);
    expect(t('s_tc')).to.deep.equal([P.SCHED_CLS, 0]);
    expect(t('s_kprobe')).to.deep.equal([P.KPROBE, 0]);
    expect(s.programs.get('s_kprobe')!.attachTo).to.equal('do_nanosleep');
    expect(s.programs.get('s_xdp_frags')!.flags).to.not.equal(0);
    expect(s.programs.get('s_xdp')!.autoload).to.equal(true);
    expect(s.programs.get('s_optional')!.autoload).to.equal(false);
    expect([s.programs.get('s_xdp')!.section, s.programs.get('s_xdp_second')!.section]).to.deep.equal(['xdp', 'xdp']);
    const n = readObject('bpf/obj_newsections.o');
    expect(n.programs.get('n_tc_ingress')).to.include({ type: P.SCHED_CLS, attachType: A.TCX_INGRESS, attachTo: '' });
    expect(n.programs.get('n_tcx_egress')).to.include({ type: P.SCHED_CLS, attachType: A.TCX_EGRESS });
    expect(n.programs.get('n_netkit_peer')).to.include({ type: P.SCHED_CLS, attachType: A.NETKIT_PEER });
    expect(n.programs.get('n_netfilter')).to.include({ type: P.NETFILTER, attachType: A.NETFILTER });
    const tr = readObject('bpf/obj_tracing.o');
    expect(tr.programs.get('t_fentry')).to.include({ type: P.TRACING, attachType: A.TRACE_FENTRY, attachTo: 'do_nanosleep' });
    expect(tr.programs.get('t_lsm')).to.include({ type: P.LSM, attachTo: 'file_open' });
    expect(findSection('kprobe.multi/foo*')?.attachType).to.equal(A.TRACE_KPROBE_MULTI);
    expect(findSection('xdpx')).to.equal(undefined);
  });

  it('reads BTF maps incl. maps of maps with inner definitions and static .values', () => {
    const s = readObject('bpf/obj_mapinmap.o');
    const outer = s.maps.get('outer_arr')!;
    expect(outer).to.include({ type: BPF_MAP_TYPE.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(outer.inner).to.include({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(outer.values).to.deep.equal(['inner_a', 'inner_b']);
    const hash = s.maps.get('outer_hash')!;
    expect(hash.values?.[3]).to.equal('inner_b');
    expect(hash.values?.slice(0, 3).every((v) => v === undefined)).to.equal(true);
    const jt = readObject('bpf/obj_tailcall.o').maps.get('jmp_table')!;
    expect(jt.type).to.equal(BPF_MAP_TYPE.PROG_ARRAY);
    expect([jt.values?.[0], jt.values?.[1], jt.values?.[2]]).to.deep.equal(['tail_zero', undefined, 'tail_two']);
  });

  it('reads legacy bpf_map_def and iproute2 bpf_elf_map definitions, and the version section', () => {
    const l = readObject('bpf/obj_legacy.o');
    expect(l.maps.get('legacy_hash')).to.include({ type: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 16, kind: 'legacy' });
    expect(l.maps.get('legacy_array')).to.include({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(l.kernelVersion).to.be.greaterThan(0);
    const i = readObject('bpf/obj_iproute2.o');
    expect(i.maps.get('tc_stats')).to.include({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, pinning: 'byName' });
  });

  it('reads every kind of global data as single-entry arrays with variables by name', () => {
    const s = readObject('bpf/obj_globals.o');
    expect([...s.maps.keys()].sort()).to.deep.equal(['.bss', '.data', '.data.custom', '.rodata', '.rodata.custom']);
    const data = s.maps.get('.data')!;
    expect(data).to.include({ type: BPF_MAP_TYPE.ARRAY, keySize: 4, maxEntries: 1 });
    expect(new DataView(data.data!.buffer).getBigUint64(s.variables.get('data_counter')!.offset, true)).to.equal(100n);
    expect(Buffer.from(data.data!.subarray(s.variables.get('greeting')!.offset, s.variables.get('greeting')!.offset + 5)).toString()).to.equal('hello');
    expect(s.variables.get('static_counter')!.map).to.equal('.data');
    expect(s.maps.get('.bss')!.data!.every((b) => b === 0)).to.equal(true);
    expect(s.maps.get('.rodata.custom')!.readOnly).to.equal(true);
    expect(s.maps.get('.data.custom')!.kernelName).to.equal('.data.custom');
  });

  it('sets constants before load, checking names and ranges; copy() leaves the original as it was', () => {
    const s = readObject('bpf/obj_globals.o');
    const c = s.copy();
    c.setConstants({ ro_magic: 11, ro_big: 1n << 40n, verdict: 1 });
    const v = (sp: ObjectSpec, n: string) => {
      const x = sp.variables.get(n)!;
      return Buffer.from(sp.maps.get(x.map)!.data!).readUIntLE(x.offset, Math.min(x.size, 6));
    };
    expect(v(c, 'ro_magic')).to.equal(11);
    expect(v(s, 'ro_magic')).to.equal(7);
    expect(() => c.setConstants({ nope: 1 })).to.throw(ObjectError, /no global variable nope/);
    expect(() => c.setConstants({ ro_magic: 1n << 32n })).to.throw(ObjectError, /does not fit in 4 bytes/);
    // a char array takes its bytes, not an integer of its size (its bits would be the integer's)
    expect(() => c.setConstants({ greeting: 1 })).to.throw(ObjectError, /greeting is 8 bytes and no number: give its value as a Uint8Array of 8 bytes/);
    expect(() => c.setVariable('greeting', new Uint8Array(3))).to.throw(ObjectError, /3 bytes given, it has 8/);
  });

  it('links subprograms once per program, after its own code, with calls and callbacks pointing at them', () => {
    const s = readObject('bpf/obj_subprog.o');
    for (const [name, subs] of [['sub_first', ['twice', 'add_static', 'mul_global']], ['sub_tc', ['mul_global']]] as const) {
      const p = s.programs.get(name)!;
      const l = linkProgram(p, s.functions, true);
      expect(l.layout.map((x) => x.name)).to.deep.equal([name, ...subs]);
      const size = (n: string) => (s.programs.get(n) ?? s.functions.get(n))!.instructions.length / 8;
      expect(l.insns.length / 8).to.equal([name, ...subs].reduce((a, n) => a + size(n), 0));
      // one func_info per function at its start, line info moved along
      expect(l.funcInfo.map((f) => f.insn)).to.deep.equal(l.layout.map((x) => x.start));
      // every pseudo call lands on the start of a laid-out function
      const starts = new Set(l.layout.map((x) => x.start));
      const dv = new DataView(l.insns.buffer);
      for (let i = 0; i < l.insns.length / 8; i++) {
        if (l.insns[i * 8] === 0x85 && (l.insns[i * 8 + 1] >> 4) === 1) expect(starts.has(i + 1 + dv.getInt32(i * 8 + 4, true)), `call at ${i}`).to.equal(true);
      }
    }
    const cb = readObject('bpf/obj_callback.o');
    const l = linkProgram(cb.programs.get('loop_prog')!, cb.functions, true);
    expect(l.layout.map((x) => x.name)).to.deep.equal(['loop_prog', 'add_index']);
    const dv = new DataView(l.insns.buffer);
    let found = 0;
    for (let i = 0; i < l.insns.length / 8; i++) {
      if (l.insns[i * 8] === 0x18 && (l.insns[i * 8 + 1] >> 4) === 4) {
        expect(i + 1 + dv.getInt32(i * 8 + 4, true)).to.equal(l.layout[1].start);
        found++;
      }
    }
    expect(found).to.equal(1);
  });

  it('reads the same objects built by other compilers and -mcpu=v3 to the same programs and maps', function () {
    if (VARIANTS.length === 0) this.skip();
    for (const f of ['tc_counter', 'obj_globals', 'obj_subprog', 'obj_callback', 'obj_tailcall', 'obj_mapinmap', 'obj_legacy']) {
      const base = readObject(obj(f));
      for (const v of VARIANTS) {
        const s = readObject(obj(f, v), { name: f });
        expect([...s.programs.keys()].sort(), `${f} ${v}`).to.deep.equal([...base.programs.keys()].sort());
        for (const [n, m] of base.maps) {
          expect(s.maps.get(n), `${f} ${v} ${n}`).to.deep.include({ type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags });
          expect(s.maps.get(n)!.values, `${f} ${v} ${n}`).to.deep.equal(m.values);
        }
        for (const [n, p] of base.programs) {
          const a = linkProgram(p, base.functions, true).layout.map((x) => x.name).sort();
          const b = linkProgram(s.programs.get(n)!, s.functions, true).layout.map((x) => x.name).sort();
          expect(b, `${f} ${v} ${n}`).to.deep.equal(a);
        }
      }
    }
  });

  describe('bad input: typed errors naming what is wrong', () => {
    it('an unknown section names the section and the program', () => {
      const e = catchErr(() => readObject('bpf/obj_bad_section.o'));
      expect(e).to.be.instanceOf(ObjectError);
      expect(e).to.include({ section: 'nonsense/thing', program: 'lost_prog' });
      expect(e.message).to.match(/unknown section "nonsense\/thing"/);
    });

    it('a relocation against a missing symbol names it', () => {
      const e = catchErr(() => readObject('bpf/obj_bad_extern.o'));
      expect(e).to.be.instanceOf(ObjectError);
      expect(e).to.include({ program: 'uses_missing', symbol: 'missing_symbol' });
    });

    it('a static map in .maps names the map', () => {
      const e = catchErr(() => readObject('bpf/obj_bad_static_map.o'));
      expect(e).to.be.instanceOf(ObjectError);
      expect(e).to.include({ map: 'hidden_map' });
      expect(e.message).to.match(/static/);
    });

    it('an object for another machine or byte order is refused before any syscall', () => {
      const bytes = new Uint8Array(readFileSync('bpf/tc_counter.o'));
      bytes[18] = 62; // e_machine = EM_X86_64
      expect(() => readObject(bytes)).to.throw(TsbpfError, /e_machine 62|machine 62/);
      if (existsSync(obj('tc_counter', 'bpfeb'))) {
        const be = readObject(obj('tc_counter', 'bpfeb'));
        expect(be.littleEndian).to.equal(false);
        expect(() => loadObject(be)).to.throw(ObjectError, /big-endian BPF/);
      }
    });

    it('an object without BTF cannot describe .maps maps', function () {
      if (!existsSync(obj('tc_counter', 'nog'))) this.skip();
      expect(() => readObject(obj('tc_counter', 'nog'))).to.throw(ObjectError, /no BTF/);
      // legacy maps need no BTF
      expect(readObject(obj('obj_legacy', 'nog')).maps.get('legacy_hash')?.keySize).to.equal(4);
    });

    it('duplicate names are refused by name', () => {
      // rename the symbol sub_second to sub_first\0 in the string table: two programs of one name
      const bytes = new Uint8Array(readFileSync('bpf/obj_subprog.o'));
      const text = Buffer.from(bytes).toString('latin1');
      let n = 0;
      for (let at = text.indexOf('\0sub_second\0'); at >= 0; at = text.indexOf('\0sub_second\0', at + 1), n++) {
        bytes.set(Buffer.from('sub_first\0\0', 'latin1'), at + 1);
      }
      expect(n).to.be.greaterThan(0);
      const e = catchErr(() => readObject(bytes, { name: 'dup' }));
      expect(e).to.be.instanceOf(ObjectError);
      expect(e.message).to.match(/sub_first is defined twice/);
      expect(e.program).to.equal('sub_first');
    });

    it('a missing file and garbage bytes are typed errors', () => {
      expect(() => readObject('/nonexistent/x.o')).to.throw(ObjectError, /cannot read object file/);
      expect(() => readObject(new Uint8Array(10))).to.throw(TsbpfError);
    });

    it('truncated or corrupted objects never leak a RangeError/TypeError', () => {
      const good = new Uint8Array(readFileSync('bpf/obj_globals.o'));
      let seed = 12345;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      for (let i = 0; i < 300; i++) {
        const b = i < 60 ? good.slice(0, Math.floor(rnd() * good.length)) : good.slice();
        if (i >= 60) for (let k = 0; k < 4; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        try {
          readObject(b, { name: 'fuzz' });
        } catch (e) {
          expect(e, `case ${i}: ${(e as Error).message}`).to.be.instanceOf(TsbpfError);
        }
      }
    });
  });

  it('object show describes programs and maps (text and JSON)', () => {
    const d = describeObject(readObject('bpf/obj_subprog.o'));
    const p = d.programs.find((x) => x.name === 'sub_first')!;
    expect(p).to.include({ section: 'xdp', type: 'xdp', attachType: 'xdp' });
    expect(p.subprograms).to.have.members(['twice', 'mul_global', 'add_static']);
    const text = formatObject(d);
    expect(text).to.match(/sub_tc: section tc {2}type sched_cls {2}insns \d+ \(\d+ with mul_global\)/);
    expect(text).to.match(/\.bss: array {2}key 4B {2}value 4B {2}max_entries 1/);
    const j = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'object', 'show', 'bpf/tc_counter.o', '-j'], { encoding: 'utf8' }));
    expect(j.programs.map((x: { attachType: string }) => x.attachType)).to.deep.equal(['tcx_ingress', 'tcx_egress']);
    expect(j.maps.find((m: { name: string }) => m.name === 'counter')).to.include({ pinning: 'by_name', type: 'array', maxEntries: 2 });
  });
});

function catchErr(fn: () => unknown): ObjectError {
  try {
    fn();
  } catch (e) {
    return e as ObjectError;
  }
  throw new Error('expected an error');
}

describe('BTF for upload (no kernel)', () => {
  it('completes every DATASEC: section sizes from the ELF, variable offsets from the symbols, in offset order', () => {
    for (const f of ['obj_globals', 'tc_counter', 'obj_mapinmap']) {
      const s = readObject(obj(f));
      const up = uploadBlob(s)!;
      const btf = Btf.parse(up.blob);
      const syms = readelfSymbols(obj(f));
      const sizes = new Map(execFileSync('llvm-readelf', ['-S', '--wide', obj(f)], { encoding: 'utf8' })
        .split('\n').map((l) => l.match(/^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/)).filter((m) => m).map((m) => [m![1], parseInt(m![2], 16)]));
      let seen = 0;
      for (let id = 1; id < btf.typeCount; id++) {
        const t = btf.type(id);
        if (t.kind !== 'datasec') continue;
        seen++;
        expect(t.size, `${f} ${t.name}`).to.equal(sizes.get(t.name));
        const offsets = t.vars.map((v) => v.offset);
        expect(offsets, `${f} ${t.name}`).to.deep.equal([...offsets].sort((a, b) => a - b));
        for (const v of t.vars) {
          const sym = syms.find((x) => x.name === btf.type(v.type).name && x.section === t.name);
          if (sym) expect(v.offset, `${f} ${btf.type(v.type).name}`).to.equal(sym.value);
        }
      }
      expect(seen, f).to.be.greaterThan(0);
      // a kernel lacking DATASEC gets them as structs, encoded anew with the object's strings
      const old = uploadBlob(s, { func: true, funcLinkage: true, datasec: false, float: true, declTag: true, typeTag: true, enum64: true })!;
      expect(old.changed.join('\n')).to.match(/DATASEC/);
      const sb = Btf.parse(old.blob);
      for (let id = 1; id < sb.typeCount; id++) expect(sb.kindOf(id)).to.not.equal('datasec');
    }
  });

  it('gives hidden (__hidden) global functions and variables static linkage, as libbpf does', () => {
    const h = buildHiddenObject();
    try {
      const s = readObject(h.file);
      const btf = Btf.parse(uploadBlob(s)!.blob);
      const linkage = (name: string, kind: 'func' | 'var') => (btf.findByName(name, kind) as { linkage: number }).linkage;
      expect([linkage('hidden_add', 'func'), linkage('open_add', 'func'), linkage('hidden_var', 'var'), linkage('open_var', 'var')]).to.deep.equal([0, 1, 0, 1]);
      // the encoder path (an older kernel) makes the same choice
      const old = Btf.parse(uploadBlob(s, { func: true, funcLinkage: true, datasec: true, float: false, declTag: true, typeTag: true, enum64: true })!.blob);
      expect((old.findByName('hidden_add', 'func') as { linkage: number }).linkage).to.equal(0);
      expect(s.maps.get('.data')!.flags & BPF_MAP_FLAG.MMAPABLE).to.not.equal(0); // open_var is still global
    } finally {
      h.cleanup();
    }
  });
});
