// loadObject against the kernel: the seed scenario (tc_counter.o pinned on a private bpffs and read
// back by bpftool), global data both ways, tail calls, subprograms, callbacks, maps of maps, legacy
// and iproute2 maps, the section catalog, pins reused and refused, verifier errors, and nothing left
// behind in the kernel or on bpffs after a failed load, nor fds after load/close cycles.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { buildHiddenObject } from '../helpers/hidden-object.js';
import { waitFor } from '../helpers/netns.js';
import { loadObject, readObject, BpfObject, PinMismatchError, LoadError, ObjectError } from '../../lib/object/index.js';
import { BpfMap } from '../../lib/map/index.js';
import { VerifierError, BpfArgumentError } from '../../lib/syscall/errors.js';
import { BpfProgram } from '../../lib/program/index.js';
import { getNextId, getFdById, mapInfo, progInfo } from '../../lib/syscall/obj.js';
import { BPF_ATTACH_TYPE, BPF_MAP_FLAG, BPF_PROG_TYPE } from '../../lib/syscall/types.js';

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const rdU64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true);
const openFds = () => readdirSync('/proc/self/fd').length;
// a fresh bpffs holds the kernel's maps.debug/progs.debug iterators: the pins are the rest
const pins = (dir: string) => readdirSync(dir).filter((n) => !n.endsWith('.debug'));
const bpftool = (...args: string[]) => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3 };

/** An Ethernet + IPv4 + UDP packet to `dport`. */
function udpPacket(dport: number): Uint8Array {
  const p = new Uint8Array(64);
  const v = new DataView(p.buffer);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  v.setUint16(16, 50);
  p[22] = 64;
  p[23] = 17; // UDP
  v.setUint32(26, 0xc6120001);
  v.setUint32(30, 0xc6120002);
  v.setUint16(34, 40000);
  v.setUint16(36, dport);
  v.setUint16(38, 30);
  return p;
}

/** The highest map and program ids now (ids only grow: anything newer was made after this point). */
function lastIds(): { map: number; prog: number } {
  const last = (kind: 'map' | 'prog') => {
    let id = 0;
    for (let n = getNextId(kind, 0); n !== undefined; n = getNextId(kind, n)) id = n;
    return id;
  };
  return { map: last('map'), prog: last('prog') };
}

/** Names of maps/programs newer than `since` that still exist and carry one of `names`. */
function leftSince(since: { map: number; prog: number }, names: readonly string[]): string[] {
  const left: string[] = [];
  for (const kind of ['map', 'prog'] as const) {
    for (let n = getNextId(kind, since[kind]); n !== undefined; n = getNextId(kind, n)) {
      try {
        const fd = getFdById(kind, n);
        const name = kind === 'map' ? mapInfo(fd.value).name : progInfo(fd.value).name;
        fd.close();
        if (names.includes(name)) left.push(`${kind} ${name} (id ${n})`);
      } catch { /* gone meanwhile */ }
    }
  }
  return left;
}

/** Kernel names an object's load would give its maps and programs. */
function kernelNames(file: string): string[] {
  const s = readObject(file);
  return [...[...s.maps.values()].map((m) => m.kernelName), ...[...s.programs.keys()].map((n) => n.slice(0, 15))];
}

describe('loadObject', () => {
  let fs: TestBpffs;
  const objects: BpfObject[] = [];
  const track = (o: BpfObject) => { objects.push(o); return o; };
  before(function () { requirePrivileged(this); });
  beforeEach(() => { fs = createTestBpffs(); });
  afterEach(() => {
    for (const o of objects.splice(0)) o.close();
    fs?.cleanup();
  });

  describe('the seed scenario: tc_counter.o', () => {
    it('loads tc_ingress and tc_egress sharing one counter pinned by name; bpftool reads it through the pin', () => {
      const obj = track(loadObject('bpf/tc_counter.o', { pinPath: fs.dir }));
      const ing = obj.programs.get('tc_ingress')!;
      const egr = obj.programs.get('tc_egress')!;
      expect([ing.type, ing.attachType, egr.attachType]).to.deep.equal([BPF_PROG_TYPE.SCHED_CLS, BPF_ATTACH_TYPE.TCX_INGRESS, BPF_ATTACH_TYPE.TCX_EGRESS]);
      const counter = obj.maps.get('counter')!;
      const counterId = counter.info().id;
      expect(ing.info().mapIds).to.include(counterId);
      expect(egr.info().mapIds).to.include(counterId);
      expect(obj.pinned).to.deep.equal([path.join(fs.dir, 'counter')]);

      // every packet counts (only_dport = 0): ingress into slot 0, egress into slot 1
      for (let i = 0; i < 3; i++) ing.testRun({ data: udpPacket(53) });
      egr.testRun({ data: udpPacket(80) });
      const dump = bpftool('map', 'dump', 'pinned', path.join(fs.dir, 'counter'));
      // pretty-printed through the map's BTF: key and value as numbers besides the hex bytes
      expect(dump.map((e: { formatted: unknown }) => e.formatted)).to.deep.equal([{ key: 0, value: 3 }, { key: 1, value: 1 }]);
      const shown = bpftool('prog', 'show', 'id', String(ing.id));
      expect(shown).to.include({ type: 'sched_cls', name: 'tc_ingress' });
      expect(shown.btf_id).to.be.greaterThan(0);
      // func/line info made it: the xlated dump carries the C source lines
      const xlated = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(ing.id)], { encoding: 'utf8' });
      expect(xlated).to.match(/; int tc_ingress\(struct __sk_buff \*skb\)/);
      expect(xlated).to.match(/return count\(skb, 0\);|__sync_fetch_and_add/);
    });

    it('constants set only_dport before load; .rodata is frozen and read-only for programs', () => {
      const obj = track(loadObject('bpf/tc_counter.o', { pinPath: fs.dir, constants: { only_dport: 53 } }));
      const ing = obj.programs.get('tc_ingress')!;
      ing.testRun({ data: udpPacket(53) });
      ing.testRun({ data: udpPacket(80) });
      ing.testRun({ data: udpPacket(53) });
      expect(rdU64(obj.maps.get('counter')!.lookupBytes(0)!)).to.equal(2n);
      const ro = obj.maps.get('.rodata')!;
      const info = ro.info();
      expect(info.mapFlags & BPF_MAP_FLAG.RDONLY_PROG).to.not.equal(0);
      expect(info.name).to.equal('tc_count.rodata');
      expect(obj.globals.get('only_dport')).to.equal(53);
      expect(() => ro.update(0, new Uint8Array(ro.valueSize))).to.throw(/EPERM/); // frozen
      expect(() => obj.globals.set('only_dport', 1)).to.throw(ObjectError, /read-only after load/);
      // bpftool sees the variable by name through the DATASEC
      expect(bpftool('map', 'dump', 'id', String(info.id))[0].formatted.value['.rodata'][0]).to.deep.equal({ only_dport: 53 });
    });

    it('reuses a compatible pin (same map, its contents kept) and refuses an incompatible one, leaving nothing behind', () => {
      const first = track(loadObject('bpf/tc_counter.o', { pinPath: fs.dir }));
      first.maps.get('counter')!.update(1, u64(41n));
      const id = first.maps.get('counter')!.info().id;
      first.close();
      const second = track(loadObject('bpf/tc_counter.o', { pinPath: fs.dir }));
      expect(second.maps.get('counter')!.info().id).to.equal(id);
      expect(rdU64(second.maps.get('counter')!.lookupBytes(1)!)).to.equal(41n);
      expect(second.pinned).to.deep.equal([]);
      second.close();

      const other = createTestBpffs();
      try {
        const wrong = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 3, name: 'counter' });
        wrong.pin(path.join(other.dir, 'counter'));
        wrong.close();
        const before = lastIds();
        let err: unknown;
        try { loadObject('bpf/tc_counter.o', { pinPath: other.dir }); } catch (e) { err = e; }
        expect(err).to.be.instanceOf(PinMismatchError);
        expect((err as PinMismatchError).message).to.match(/max_entries 3 pinned, 2 defined/);
        expect((err as PinMismatchError).map).to.equal('counter');
        expect(leftSince(before, kernelNames('bpf/tc_counter.o'))).to.deep.equal([]);
        expect(pins(other.dir)).to.deep.equal(['counter']);
      } finally {
        other.cleanup();
      }
    });

    it('a program failing after its map was pinned removes the pin (and the directory it made)', async () => {
      const spec = readObject('bpf/tc_counter.o');
      spec.programs.get('tc_egress')!.type = BPF_PROG_TYPE.XDP; // reads __sk_buff fields: the verifier refuses it
      spec.programs.get('tc_egress')!.attachType = 0;
      const dir = path.join(fs.dir, 'made-here');
      const before = lastIds();
      // (with only_dport set the skb-reading path is live: with 0 the verifier prunes it as dead code)
      expect(() => loadObject(spec, { pinPath: dir, constants: { only_dport: 53 } })).to.throw(VerifierError, /program tc_egress/);
      expect(pins(fs.dir)).to.deep.equal([]);
      // tc_ingress was loaded before tc_egress failed: the kernel frees a closed program (and then the
      // maps it held) after an RCU grace period, so the maps go shortly after the fds are closed
      const left = await waitFor(() => leftSince(before, kernelNames('bpf/tc_counter.o')), (l) => l.length === 0, 5000);
      expect(left).to.deep.equal([]);
    });

    it('creates a missing pin directory on bpffs, as libbpf does', () => {
      const dir = path.join(fs.dir, 'ebpf-plugin', 'x');
      const obj = track(loadObject('bpf/tc_counter.o', { pinPath: dir }));
      expect(obj.pinned).to.deep.equal([path.join(dir, 'counter')]);
      expect(bpftool('map', 'show', 'pinned', path.join(dir, 'counter')).id).to.equal(obj.maps.get('counter')!.info().id);
    });

    it('a pin path not on bpffs fails before anything is made, naming the path given', () => {
      const before = lastIds();
      expect(() => loadObject('bpf/tc_counter.o', { pinPath: '/tmp' })).to.throw(LoadError, /\/tmp is not on a bpffs mount \(filesystem type/);
      // a directory still to be made: the error names it and the ancestor that decided
      const missing = `/tmp/tsbpf-missing-${process.pid}/pins`;
      expect(() => loadObject('bpf/tc_counter.o', { pinPath: missing })).to.throw(LoadError, new RegExp(`${missing} is not on a bpffs mount \\(/tmp: filesystem type`));
      expect(existsSync(missing)).to.equal(false);
      expect(leftSince(before, kernelNames('bpf/tc_counter.o'))).to.deep.equal([]);
    });

    it('a program pinned where a map\'s pin goes, and pins opened as the wrong kind, are typed errors', () => {
      const obj = track(loadObject('bpf/tc_counter.o', { pinPath: fs.dir }));
      const other = createTestBpffs();
      try {
        obj.programs.get('tc_ingress')!.pin(path.join(other.dir, 'counter'));
        const before = lastIds();
        expect(() => loadObject('bpf/tc_counter.o', { pinPath: other.dir })).to.throw(PinMismatchError, /a bpf prog is pinned there, not a map/);
        expect(leftSince(before, kernelNames('bpf/tc_counter.o'))).to.deep.equal([]);
        expect(() => BpfMap.fromPin(path.join(other.dir, 'counter'))).to.throw(BpfArgumentError, /pin .*counter is a bpf prog, not a map/);
        expect(() => BpfProgram.fromPin(path.join(fs.dir, 'counter'))).to.throw(BpfArgumentError, /pin .*counter is a bpf map, not a prog/);
        const p = BpfProgram.fromPin(path.join(other.dir, 'counter'));
        expect(p.info().id).to.equal(obj.programs.get('tc_ingress')!.info().id);
        p.close();
      } finally {
        other.cleanup();
      }
    });
  });

  it('loads a spec changed before load (map size), and names the map the kernel refuses, leaving nothing', () => {
    const spec = readObject('bpf/tc_counter.o');
    spec.maps.get('counter')!.maxEntries = 16;
    spec.maps.get('counter')!.pinning = 'none';
    const obj = track(loadObject(spec));
    expect(obj.maps.get('counter')!.info().maxEntries).to.equal(16);
    expect(readObject('bpf/tc_counter.o').maps.get('counter')!.maxEntries).to.equal(2);
    const bad = readObject('bpf/tc_counter.o');
    bad.maps.get('counter')!.maxEntries = 0; // an array of no elements: EINVAL
    bad.maps.get('counter')!.pinning = 'none';
    const before = lastIds();
    let err: unknown;
    try { loadObject(bad); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(LoadError);
    expect(err).to.include({ map: 'counter' });
    expect((err as Error).message).to.match(/map counter: MAP_CREATE: EINVAL/);
    expect(leftSince(before, kernelNames('bpf/tc_counter.o'))).to.deep.equal([]);
  });

  it('maps with BTF types speak plain JS values (raw bytes still work)', () => {
    const obj = track(loadObject('bpf/codec_conns.o'));
    const conns = obj.map<{ saddr: number; daddr: number; proto: number; pad: number[] }, { packets: bigint; bytes: bigint }>('conns');
    expect(conns).to.equal(obj.maps.get('conns'));
    const key = { saddr: 0xc6120001, daddr: 0xc6120002, proto: 17, pad: [0, 0, 0] };
    conns.update(key, { packets: 3n, bytes: 180n });
    expect(conns.lookup(key)).to.deep.equal({ packets: 3n, bytes: 180n });
    // the same entry through raw bytes: key and value laid out as the C structs
    const raw = new Uint8Array(12);
    new DataView(raw.buffer).setUint32(0, 0xc6120001, true);
    new DataView(raw.buffer).setUint32(4, 0xc6120002, true);
    raw[8] = 17;
    expect(rdU64(conns.lookupBytes(raw)!)).to.equal(3n);
    const stats = obj.map<number, { packets: bigint }[]>('stats');
    obj.program('codec_touch').testRun({ data: new Uint8Array(64) });
    expect(stats.lookup(0)!.reduce((a, v) => a + v.packets, 0n)).to.equal(1n);
    // bpftool reads what the codec wrote
    const dump = bpftool('map', 'dump', 'id', String(conns.info().id));
    expect(dump[0].formatted.value).to.deep.equal({ packets: 3, bytes: 180 });
    // a name the object does not have: an ObjectError naming what it has
    expect(() => obj.map('con')).to.throw(ObjectError, 'object codec_conns has no map "con" (maps: stats, conns, kitchen)')
      .with.property('map', 'con');
    expect(() => obj.program('touch')).to.throw(ObjectError, 'object codec_conns has no program "touch" (programs: codec_touch)')
      .with.property('program', 'touch');
  });

  it('global data of every kind: written before load and after, read back after the program ran', () => {
    const obj = track(loadObject('bpf/obj_globals.o', { constants: { ro_magic: 11, ro_big: 1000n } }));
    const g = obj.globals;
    const prog = obj.programs.get('globals_prog')!;
    expect(prog.testRun({ data: new Uint8Array(64) }).retval).to.equal(XDP.PASS);
    g.set('verdict', XDP.DROP);
    expect(prog.testRun({ data: new Uint8Array(64) }).retval).to.equal(XDP.DROP);
    expect(g.get('data_counter')).to.equal(100n + 2n * 11n);
    expect(g.get('bss_runs')).to.equal(2);
    expect(g.get('static_counter')).to.equal(5);
    expect(g.get('custom_data')).to.equal(7);
    // ro_magic + custom_ro + ro_big + static_counter + 'h'
    expect(g.get('bss_sum')).to.equal(11n + 9n + 1000n + 5n + 104n);
    expect(Buffer.from(g.get('greeting') as Uint8Array).toString('latin1')).to.equal('hello\0\0\0');
    for (const n of ['.data', '.bss', '.data.custom']) expect(obj.maps.get(n)!.info().mapFlags & BPF_MAP_FLAG.MMAPABLE, n).to.not.equal(0);
    expect(obj.maps.get('.rodata.custom')!.info().mapFlags & BPF_MAP_FLAG.RDONLY_PROG).to.not.equal(0);
  });

  it('constants clang put in mergeable sections while BTF lists them under .rodata: loaded as libbpf does', () => {
    const spec = readObject('bpf/obj_mergeable.o');
    // .rodata.cst32 and .rodata.str1.1 are maps of their own; the misplaced VARs are no variables of .rodata
    expect([...spec.maps.keys()]).to.include.members(['.rodata', '.rodata.cst32', '.rodata.str1.1', '.bss']);
    expect([...spec.variables.keys()].sort()).to.deep.equal(['mult', 'result']);
    const obj = track(loadObject(spec, { constants: { mult: 5 } }));
    // clang 14 leaves them in DATASEC .rodata: the kernel refuses that BTF ("Invalid offset"), the load goes on without it
    if (spec.source.btf?.findDatasec('.rodata')?.vars.length === 3) expect(obj.warnings.join('\n')).to.match(/refused the object's BTF .*Invalid offset/);
    expect(obj.program('mergeable').testRun({ data: new Uint8Array(64) }).retval).to.equal(XDP.PASS);
    expect(obj.globals.get('result')).to.equal(20n * 5n + 98n); // test runs come in on lo (ifindex 1): table[1] * mult + hex[11] ('b')
  });

  it('globals of every kind: float/double as numbers, _Bool as booleans, structs as bytes; other kinds refused', () => {
    const obj = track(loadObject('bpf/obj_global_kinds.o', { constants: { c_flag: true, c_scale: 0.25 } }));
    const g = obj.globals;
    expect(g.get('c_flag')).to.equal(true);
    expect(g.get('c_scale')).to.equal(0.25);
    g.set('v_float', 2.5);
    g.set('v_double', -1e300);
    g.set('v_bool', true);
    g.set('v_pt', Uint8Array.of(3, 0, 4, 0));
    g.set('v_u32', 10);
    expect(obj.program('global_kinds').testRun({ data: new Uint8Array(64) }).retval).to.equal(XDP.PASS);
    // the program read the float's bits as C stores them, and the rest as numbers
    const f32 = new DataView(new ArrayBuffer(4));
    f32.setFloat32(0, 2.5, true);
    expect(g.get('out_float_bits')).to.equal(BigInt(f32.getUint32(0, true)));
    expect(g.get('out_sum')).to.equal(1n + 3n + 4n + 10n + 1n);
    expect([g.get('v_float'), g.get('v_double'), g.get('v_bool')]).to.deep.equal([2.5, -1e300, true]);
    // a number is not a struct's bytes, a float is not an integer's, 2 is no _Bool, strings and arrays are no numbers
    for (const [name, value, msg] of [
      ['v_pt', 5, /v_pt is 4 bytes and no number: give its value as a Uint8Array of 4 bytes/],
      ['v_float', 'x', /v_float is a float: give a number, got "x"/],
      ['v_float', 1e39, /1e\+39 is out of range for a float/],
      ['v_bool', 2, /v_bool is a _Bool: give true or false \(or 0\/1\), got 2/],
      ['v_u32', '0x10', /"0x10" is not an integer/],
      ['v_u32', [1], /an array is not an integer/],
      ['v_u32', 1.5, /1.5 is not an integer/],
    ] as const) {
      expect(() => g.set(name, value as never), `${name} ${String(value)}`).to.throw(ObjectError, msg);
    }
    expect(() => loadObject('bpf/obj_global_kinds.o', { constants: { c_flag: 2 } })).to.throw(ObjectError, /c_flag is a _Bool/);
    // .rodata is bound to every program, also one whose code uses no global data (as libbpf binds it)
    const rodata = obj.map('.rodata').info().id;
    expect(obj.program('no_globals').info().mapIds).to.deep.equal([rodata]);
    expect(obj.warnings).to.deep.equal([]);
  });

  it('mapReplacements: a second load uses the first one\'s .data and .bss as they are; a map that does not match, or no such map, is refused', () => {
    const a = track(loadObject('bpf/obj_globals.o'));
    a.globals.set('verdict', XDP.DROP);
    const b = track(loadObject('bpf/obj_globals.o', { mapReplacements: { '.data': a.maps.get('.data')!, '.bss': a.maps.get('.bss')!.fd } }));
    expect(b.maps.get('.data')!.info().id).to.equal(a.maps.get('.data')!.info().id);
    expect(b.maps.get('.rodata')!.info().id).to.not.equal(a.maps.get('.rodata')!.info().id);
    // not written again at load: b's program sees a's verdict and counts its runs in a's .bss
    expect(b.programs.get('globals_prog')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(XDP.DROP);
    expect(a.globals.get('bss_runs')).to.equal(1);
    b.close(); // its own fds: a's maps stay usable
    expect(a.globals.get('bss_runs')).to.equal(1);
    const before = openFds();
    const hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 24, maxEntries: 1, name: 'not_data' });
    try {
      expect(() => loadObject('bpf/obj_globals.o', { mapReplacements: { '.data': hash } })).to.throw(LoadError, /^map \.data: the map given to replace it does not match its definition: type hash given, array defined/);
      expect(() => loadObject('bpf/obj_globals.o', { mapReplacements: { nope: hash } })).to.throw(ObjectError, /has no map "nope" \(its maps: \.rodata, \.data/);
    } finally {
      hash.close();
    }
    expect(openFds()).to.equal(before);
  });

  it('takes tail calls through a statically initialised prog array (PROG_TEST_RUN)', () => {
    const obj = track(loadObject('bpf/obj_tailcall.o'));
    const entry = obj.programs.get('tail_entry')!;
    const run = (slot: number) => {
      obj.globals.set('tail_index', slot);
      return [entry.testRun({ data: new Uint8Array(64) }).retval, obj.globals.get('tail_ran')];
    };
    expect(run(0)).to.deep.equal([XDP.DROP, 10]);
    expect(run(2)).to.deep.equal([XDP.TX, 12]);
    expect(run(1)).to.deep.equal([XDP.ABORTED, 1]); // empty slot: falls through
    const jt = obj.maps.get('jmp_table')!;
    expect(bpftool('map', 'dump', 'id', String(jt.info().id)).map((e: { key: number[] | number }) => e.key)).to.have.length(2);
  });

  it('calls static and global subprograms, each program with its own copy', () => {
    const obj = track(loadObject('bpf/obj_subprog.o'));
    expect(obj.programs.get('sub_first')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(16);
    expect(obj.programs.get('sub_second')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(21 + 2 + 64);
    expect(obj.programs.get('sub_tc')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(42);
    expect(obj.globals.get('sub_calls')).to.equal(3);
  });

  it('passes static functions as callbacks to bpf_loop and bpf_for_each_map_elem', () => {
    const obj = track(loadObject('bpf/obj_callback.o'));
    expect(obj.programs.get('loop_prog')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(45);
    obj.globals.set('loop_count', 5);
    expect(obj.programs.get('loop_prog')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(10);
    const values = obj.maps.get('cb_values')!;
    for (let i = 0; i < 4; i++) values.update(u32(i), u64(BigInt(i + 1) * 100n));
    expect(obj.programs.get('each_prog')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(1000);
  });

  it('fills maps of maps from .values; the program reads through the outer maps', () => {
    const obj = track(loadObject('bpf/obj_mapinmap.o'));
    const b = obj.maps.get('inner_b')!;
    b.update(u32(0), u32(5));
    b.update(u32(1), u32(7));
    expect(obj.programs.get('through_outer')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(12);
    const outerId = obj.maps.get('outer_hash')!.info().id;
    expect(bpftool('map', 'dump', 'id', String(outerId))).to.have.length(1);
  });

  it('creates legacy and iproute2 maps (the latter pinned by name)', () => {
    const obj = track(loadObject('bpf/obj_legacy.o'));
    obj.maps.get('legacy_array')!.update(u32(0), u32(3));
    obj.maps.get('legacy_hash')!.update(u32(7), u64(4n));
    expect(obj.programs.get('legacy_prog')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(7);
    const ip = track(loadObject('bpf/obj_iproute2.o', { pinPath: fs.dir }));
    expect(pins(fs.dir)).to.deep.equal(['tc_stats']);
    expect(ip.maps.get('tc_stats')!.info().maxEntries).to.equal(4);
  });

  it('loads every program of the section catalog with its type; "?" programs only when asked', () => {
    const obj = track(loadObject('bpf/obj_sections.o'));
    const spec = readObject('bpf/obj_sections.o');
    expect(obj.programs.has('s_optional')).to.equal(false);
    expect(() => obj.program('s_optional')).to.throw(ObjectError, /has no program "s_optional", which was not loaded \(autoload off\)/);
    for (const [name, p] of obj.programs) {
      expect(p.info().type, name).to.equal(spec.programs.get(name)!.type);
    }
    expect(obj.programs.size).to.equal(spec.programs.size - 1);
    spec.programs.get('s_optional')!.autoload = true;
    const again = track(loadObject(spec));
    expect(again.programs.get('s_optional')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(1);
    const n = track(loadObject('bpf/obj_newsections.o'));
    expect(n.programs.get('n_tc_ingress')!.info().type).to.equal(BPF_PROG_TYPE.SCHED_CLS);
    expect(n.programs.get('n_netfilter')!.info().type).to.equal(BPF_PROG_TYPE.NETFILTER);
  });

  it('resolves BTF attach targets from kernel BTF (tp_btf, iter)', () => {
    const spec = readObject('bpf/obj_tracing.o');
    for (const [name, p] of spec.programs) p.autoload = name === 't_tp_btf' || name === 't_iter';
    const obj = track(loadObject(spec));
    expect(obj.programs.get('t_iter')!.info().attachBtfId).to.be.greaterThan(0);
    expect(obj.programs.get('t_tp_btf')!.info().type).to.equal(BPF_PROG_TYPE.TRACING);
  });

  it('a GPL-only helper without a GPL license: a VerifierError with the verifier\'s words, nothing left', () => {
    const before = lastIds();
    let err: unknown;
    try { loadObject('bpf/obj_bad_license.o'); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(VerifierError);
    const v = err as VerifierError;
    expect(v.message).to.match(/program gpl_only/);
    expect(v.message.trim().split('\n').slice(-3).join('\n')).to.match(/cannot call GPL-restricted function from non-GPL compatible program/);
    expect(v.log).to.match(/^func#0|0: R1=ctx/m);
    expect(leftSince(before, kernelNames('bpf/obj_bad_license.o'))).to.deep.equal([]);
  });

  it('sanitizes the BTF for a kernel lacking BTF kinds (as libbpf), and loads without func info when FUNC is missing', () => {
    const old = { func: true, funcLinkage: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false };
    const obj = track(loadObject('bpf/obj_globals.o', { btfFeatures: old }));
    expect(obj.warnings.join('\n')).to.match(/BTF sanitized for this kernel: type \d+ DATASEC '\.data' → STRUCT/);
    expect(obj.btf).to.not.equal(undefined);
    expect(obj.programs.get('globals_prog')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(XDP.PASS);
    expect(obj.globals.get('data_counter')).to.equal(107n);
    const bare = track(loadObject('bpf/obj_subprog.o', { btfFeatures: { ...old, func: false } }));
    expect(bare.programs.get('sub_first')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(16);
    expect(bare.programs.get('sub_first')!.info().btfId).to.equal(0);
  });

  it('loads hidden global functions as static subprograms (BTF linkage as bpftool shows it)', () => {
    const h = buildHiddenObject();
    try {
      const obj = track(loadObject(h.file));
      const p = obj.programs.get('hid_prog')!;
      expect(p.testRun({ data: new Uint8Array(64) }).retval).to.equal(17);
      const dump = execFileSync('bpftool', ['btf', 'dump', 'id', String(p.info().btfId)], { encoding: 'utf8' });
      expect(dump).to.match(/FUNC 'hidden_add' type_id=\d+ linkage=static/);
      expect(dump).to.match(/FUNC 'open_add' type_id=\d+ linkage=global/);
    } finally {
      h.cleanup();
    }
  });

  it('keeps the verifier log when a log level is asked for', () => {
    const obj = track(loadObject('bpf/obj_subprog.o', { logLevel: 2 }));
    expect(obj.programs.get('sub_first')!.log).to.match(/processed \d+ insns/);
  });

  it('close() releases every fd: no growth over repeated load/close', () => {
    const cycle = () => { const o = loadObject('bpf/obj_globals.o'); o.close(); };
    cycle();
    const before = openFds();
    for (let i = 0; i < 15; i++) cycle();
    expect(openFds()).to.equal(before);
    const o = loadObject('bpf/tc_counter.o', { pinPath: fs.dir });
    o[Symbol.dispose]();
    expect(o.closed).to.equal(true);
    expect(openFds()).to.equal(before);
    expect(existsSync(path.join(fs.dir, 'counter'))).to.equal(true); // pins outlive the object
  });
});
