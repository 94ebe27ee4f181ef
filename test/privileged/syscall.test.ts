// lib/syscall against the running kernel: maps, a hand-assembled program through PROG_LOAD and
// PROG_TEST_RUN, typed errors, pins on a private bpffs, info and ids, and fd hygiene.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import * as S from '../../lib/syscall/index.js';
import { btfBlobFor } from '../../lib/features/btf-blobs.js';

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
// r0 = imm; exit
const retImm = (imm: number) => new Uint8Array([0xb7, 0, 0, 0, ...u32(imm), 0x95, 0, 0, 0, 0, 0, 0, 0]);
const openFds = () => readdirSync('/proc/self/fd').length;

describe('lib/syscall against the kernel', () => {
  let fdsBefore = 0;
  before(function () { requirePrivileged(this); fdsBefore = openFds(); });
  after(() => { if (fdsBefore) expect(openFds(), 'fds left open').to.be.at.most(fdsBefore); });

  it('creates a hash map and reads back what it wrote; absence is undefined, not an error', () => {
    const fd = S.mapCreate({ mapType: S.BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 8, mapName: 'sys_t1' });
    try {
      S.mapUpdateElem(fd.value, u32(7), u64(0x1122334455667788n));
      expect(S.mapLookupElem(fd.value, u32(7), 8)).to.deep.equal(u64(0x1122334455667788n));
      expect(S.mapLookupElem(fd.value, u32(8), 8)).to.equal(undefined);
      expect(() => S.mapUpdateElem(fd.value, u32(7), u64(1n), S.BPF_UPDATE.NOEXIST)).to.throw(S.KeyExistsError).with.property('errno', 'EEXIST');
      expect(() => S.mapUpdateElem(fd.value, u32(9), u64(1n), S.BPF_UPDATE.EXIST)).to.throw(S.BpfError).with.property('cmd', 'MAP_UPDATE_ELEM');
      expect(S.mapGetNextKey(fd.value, undefined, 4)).to.deep.equal(u32(7));
      expect(S.mapGetNextKey(fd.value, u32(7), 4)).to.equal(undefined);
      expect(S.mapLookupAndDeleteElem(fd.value, u32(7), 8)).to.deep.equal(u64(0x1122334455667788n));
      expect(() => S.mapDeleteElem(fd.value, u32(7))).to.throw(S.KeyNotFoundError);
      const info = S.mapInfo(fd.value);
      expect(info).to.include({ type: S.BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 8, name: 'sys_t1' });
      expect(S.allIds('map')).to.include(info.id);
      const again = S.getFdById('map', info.id);
      try { expect(S.mapInfo(again.value).id).to.equal(info.id); } finally { again.close(); }
    } finally {
      fd.close();
    }
  });

  it('moves batches in and out and reports the end of the map', () => {
    const fd = S.mapCreate({ mapType: S.BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 100 });
    try {
      const n = 50;
      const keys = new Uint8Array(n * 4);
      const values = new Uint8Array(n * 4);
      for (let i = 0; i < n; i++) { keys.set(u32(i), i * 4); values.set(u32(i * 3), i * 4); }
      expect(S.mapUpdateBatch(fd.value, keys, values, n)).to.equal(n);
      const seen = new Map<number, number>();
      let next: Uint8Array | undefined;
      for (let round = 0; round < 100; round++) {
        const b = S.mapLookupBatch(fd.value, { inBatch: next, count: 16, keySize: 4, valueSize: 4 });
        const kv = new DataView(b.keys.buffer); const vv = new DataView(b.values.buffer);
        for (let i = 0; i < b.count; i++) seen.set(kv.getUint32(i * 4, true), vv.getUint32(i * 4, true));
        next = b.next;
        if (!next) break;
      }
      expect(seen.size).to.equal(n);
      for (const [k, v] of seen) expect(v).to.equal(k * 3);
      expect(S.mapDeleteBatch(fd.value, keys.subarray(0, 40), 10)).to.equal(10);
      expect(S.mapLookupElem(fd.value, u32(3), 4)).to.equal(undefined);
      expect(S.mapLookupElem(fd.value, u32(10), 4)).to.deep.equal(u32(30));
    } finally {
      fd.close();
    }
  });

  it('freezes a map against syscall writes', () => {
    const fd = S.mapCreate({ mapType: S.BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    try {
      S.mapUpdateElem(fd.value, u32(0), u32(5));
      S.mapFreeze(fd.value);
      expect(() => S.mapUpdateElem(fd.value, u32(0), u32(6))).to.throw(S.BpfError).with.property('errno', 'EPERM');
      expect(S.mapLookupElem(fd.value, u32(0), 4)).to.deep.equal(u32(5));
    } finally {
      fd.close();
    }
  });

  it('loads a hand-assembled program and runs it with PROG_TEST_RUN', () => {
    const { fd, log } = S.progLoad({ progType: S.BPF_PROG_TYPE.SCHED_CLS, insns: retImm(0), license: 'GPL', name: 'ret0', logLevel: 1 });
    try {
      expect(log).to.match(/processed 2 insns/);
      const pkt = new Uint8Array(64).map((_, i) => i);
      const r = S.progTestRun(fd.value, { data: pkt, repeat: 5 });
      expect(r.retval).to.equal(0);
      expect(r.data).to.deep.equal(pkt);
      const info = S.progInfo(fd.value);
      expect(info).to.include({ type: S.BPF_PROG_TYPE.SCHED_CLS, name: 'ret0', gplCompatible: true });
      expect(info.tag).to.match(/^[0-9a-f]{16}$/);
    } finally {
      fd.close();
    }
    const seven = S.progLoad({ progType: S.BPF_PROG_TYPE.XDP, insns: retImm(2), license: 'MIT' });
    try {
      expect(S.progTestRun(seven.fd.value, { data: new Uint8Array(64) }).retval).to.equal(2);
    } finally {
      seven.fd.close();
    }
  });

  it('loads a valid program whose log would not fit the buffer, with the whole log (log_true_size)', () => {
    const r = S.progLoad({ progType: S.BPF_PROG_TYPE.SCHED_CLS, insns: retImm(0), license: 'GPL', logLevel: 2, logSize: 16 });
    try {
      expect(r.logTrueSize).to.be.greaterThan(16);
      expect(r.log.length + 1).to.equal(r.logTrueSize);
      expect(r.log).to.match(/processed 2 insns/);
    } finally {
      r.fd.close();
    }
    const b = S.btfLoad(btfBlobFor('func'), { logLevel: 1, logSize: 8 });
    b.fd.close();
    expect(b.log).to.match(/\[2\] FUNC_PROTO/);
  });

  it('throws VerifierError with the log for a rejected program', () => {
    const bad = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]); // exit without setting r0
    try {
      S.progLoad({ progType: S.BPF_PROG_TYPE.SCHED_CLS, insns: bad, license: 'GPL', name: 'bad' });
      expect.fail('loaded');
    } catch (e) {
      expect(e).to.be.instanceOf(S.VerifierError);
      const v = e as S.VerifierError;
      expect(v.cmd).to.equal('PROG_LOAD');
      expect(v.log).to.match(/R0 !read_ok/);
      expect(v.message).to.contain('R0 !read_ok');
    }
  });

  it('counts runs while ENABLE_STATS is held', () => {
    const { fd } = S.progLoad({ progType: S.BPF_PROG_TYPE.SCHED_CLS, insns: retImm(0), license: 'GPL', name: 'stats' });
    try {
      const stats = S.enableStats(S.BPF_STATS.RUN_TIME);
      try {
        S.progTestRun(fd.value, { data: new Uint8Array(64), repeat: 10 });
        const info = S.progInfo(fd.value);
        expect(Number(info.runCnt)).to.be.at.least(10);
        expect(Number(info.runTimeNs)).to.be.greaterThan(0);
      } finally {
        stats.close();
      }
    } finally {
      fd.close();
    }
  });

  it('loads BTF, reads it back by fd, and rejects bad BTF with the checker\'s log', () => {
    const blob = btfBlobFor('struct');
    const { fd } = S.btfLoad(blob);
    try {
      const info = S.btfInfo(fd.value);
      expect(info.btfSize).to.equal(blob.length);
      expect(info.kernelBtf).to.equal(false);
      expect(S.btfData(fd.value)).to.deep.equal(blob);
      expect(S.allIds('btf')).to.include(info.id);
    } finally {
      fd.close();
    }
    const bad = blob.slice();
    // header (24) + int (16) + struct head (12) + member name (4): the member's type id → 99, which does not exist
    new DataView(bad.buffer).setUint32(24 + 16 + 12 + 4, 99, true);
    try {
      S.btfLoad(bad).fd.close();
      expect.fail('bad BTF loaded');
    } catch (e) {
      expect(e).to.be.instanceOf(S.VerifierError);
      expect((e as S.VerifierError).cmd).to.equal('BTF_LOAD');
      expect((e as S.VerifierError).log).to.match(/Invalid member/);
    }
  });

  describe('pins', () => {
    let fs: TestBpffs | undefined;
    beforeEach(() => { fs = createTestBpffs(); });
    afterEach(() => fs?.cleanup());

    it('pins to bpffs, gets it back, and refuses a path off bpffs before the syscall', () => {
      const fd = S.mapCreate({ mapType: S.BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, mapName: 'pinme' });
      try {
        S.mapUpdateElem(fd.value, u32(0), u32(42));
        const p = path.join(fs!.dir, 'pinme');
        S.objPin(fd.value, p);
        const got = S.objGet(p);
        try { expect(S.mapLookupElem(got.value, u32(0), 4)).to.deep.equal(u32(42)); } finally { got.close(); }
        expect(() => S.objPin(fd.value, '/tmp/not-bpffs-pin')).to.throw(S.NotBpffsError, /not on a bpffs mount/);
        expect(() => S.objGet(path.join(fs!.dir, 'missing'))).to.throw(S.BpfError).with.property('errno', 'ENOENT');
      } finally {
        fd.close();
      }
    });
  });

  it('never hands out fd 0 as a BPF object fd', () => {
    // in a child: close stdin so the kernel's next fd is 0, then create a map
    const code = `
      import { ffi } from './lib/syscall/backend.js'; import { SYS } from './lib/syscall/numbers.js';
      import { mapCreate } from './lib/syscall/map.js';
      ffi().syscall3(SYS.close, 0, 0, 0);
      const fd = mapCreate({ mapType: 2, keySize: 4, valueSize: 4, maxEntries: 1 });
      process.stdout.write(String(fd.value));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8', env: process.env });
    expect(r.status, r.stderr).to.equal(0);
    expect(Number(r.stdout)).to.be.greaterThan(2);
  });

  it('says which privilege is missing when an unprivileged process is refused', function () {
    if (spawnSync('setpriv', ['--version']).status !== 0) this.skip();
    const code = `
      import { mapCreate } from './lib/syscall/map.js';
      try { mapCreate({ mapType: 1, keySize: 4, valueSize: 4, maxEntries: 1 }); console.log('created'); }
      catch (e) { console.log(JSON.stringify({ name: e.constructor.name, errno: e.errno, missing: e.missing, message: e.message })); }`;
    // nobody, no capabilities (unprivileged_bpf_disabled or not, MAP_CREATE of a hash map needs CAP_BPF)
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8', env: { ...process.env, HOME: '/tmp' } });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    expect(line, r.stderr).to.not.equal('created');
    const e = JSON.parse(line) as { name: string; errno: string; missing: string[]; message: string };
    expect(e.name).to.equal('BpfPermissionError');
    expect(e.errno).to.equal('EPERM');
    expect(e.missing).to.include('CAP_BPF (or root)');
    expect(e.message).to.match(/MAP_CREATE: EPERM .*missing CAP_BPF \(or root\)/);
  });

  it('closes idempotently and refuses use after close', () => {
    const fd = S.mapCreate({ mapType: S.BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    fd.close();
    fd.close();
    expect(fd.closed).to.equal(true);
    expect(() => fd.value).to.throw(S.ClosedError);
  });
});
