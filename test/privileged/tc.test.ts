// attachTc against the real kernel in a throwaway network: clsact create/exists/delete, cls_bpf
// filters attach/replace/detach/list, exact counts, and iproute2 agreeing both ways.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, counter, inNsExec, tcFilters, tcQdiscKinds, type AttachFixture } from '../helpers/attach-fixtures.js';
import {
  attachTc, attachTcx, attachXdp, AttachArgumentError, InterfaceNotFoundError, InvalidInterfaceError, NetlinkError, listFilters, listQdiscs, interfaceIndex, ensureClsact,
  deleteClsact, NetlinkSocket,
} from '../../lib/index.js';
import { addClsactRequest } from '../../lib/netlink/index.js';
import { progLoad, BPF_PROG_TYPE } from '../../lib/syscall/index.js';
import { CLSACT_LOCK_PATH } from '../../lib/attach/clsact-lock.js';

/** r0 = 0; exit */
const retZero = Uint8Array.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

describe('attachTc (clsact + cls_bpf over tsbpf netlink)', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this); });
  beforeEach(() => { fx = createAttachFixture('tc'); });
  afterEach(() => fx?.cleanup());

  const prog = (name: string) => fx.tc.programs.get(name)!;
  let pins = 0;
  /** What another tool on the host does: `tc` adds clsact and a filter (`where`: chain/prio/handle words) running `name`. */
  const tcAddsFilter = (name: string, dir: 'ingress' | 'egress', ...where: string[]) => {
    const pin = join(fx.bpffs.dir, `tc_${++pins}`);
    prog(name).pin(pin);
    expect(inNsExec(fx.net.nsA, 'tc', 'qdisc', 'add', 'dev', fx.net.vethA, 'clsact')).to.not.match(/^ERR/);
    expect(inNsExec(fx.net.nsA, 'tc', 'filter', 'add', 'dev', fx.net.vethA, dir, ...where, 'bpf', 'da', 'pinned', pin)).to.not.match(/^ERR/);
  };

  it('counts exactly the packets sent, ingress and egress independently, and cleans up on detach', () => {
    const { net } = fx;
    const [ing, eg] = net.inNs('A', () => [
      attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress' }),
      attachTc({ program: prog('tc_egress'), interface: net.vethA, direction: 'egress' }),
    ]);
    expect(ing.info).to.include({ kind: 'tc', interface: net.vethA, direction: 'ingress', createdQdisc: true, programName: 'tc_ingress' });
    expect(eg.info.createdQdisc).to.equal(false);
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.include('clsact');
    const map = fx.tc.maps.get('counter');
    net.sendUdp({ count: 7, port: fx.port });
    net.sendUdp({ count: 5, port: fx.port, from: 'A' });
    net.sendUdp({ count: 3, port: fx.port + 1 }); // another port: not counted
    expect(counter(map, 0)).to.equal(7n);
    expect(counter(map, 1)).to.equal(5n);
    ing.detach();
    expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal([]);
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.include('clsact'); // egress filter still there
    eg[Symbol.dispose]();
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    eg.detach(); // idempotent
    net.sendUdp({ count: 4, port: fx.port });
    expect(counter(map, 0)).to.equal(7n);
  });

  it('is what `tc filter show` prints: name, program id, priority and handle the kernel chose', () => {
    const { net } = fx;
    // the interface by index works the same as by name
    const a = net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: interfaceIndex(net.vethA), direction: 'ingress' }));
    try {
      expect(a.info.interface).to.equal(net.vethA);
      const lines = tcFilters(net.nsA, net.vethA, 'ingress');
      expect(lines).to.have.length(1);
      expect(lines[0]).to.contain(`pref ${a.info.priority} bpf`).and.contain(`handle 0x${a.info.handle.toString(16)} tc_ingress direct-action`)
        .and.contain(`id ${a.info.programId} `);
      expect(a.info.programId).to.equal(prog('tc_ingress').id);
    } finally {
      a.detach();
    }
  });

  it('lists filters that tc attached, with their program ids', () => {
    const { net } = fx;
    tcAddsFilter('tc_egress', 'egress', 'prio', '9', 'handle', '0x7');
    const filters = net.inNs('A', () => listFilters(interfaceIndex(net.vethA), 'egress'));
    expect(filters).to.have.length(1);
    expect(filters[0]).to.include({ kind: 'bpf', priority: 9, handle: 7, progId: prog('tc_egress').id, directAction: true, protocol: 3 });
    // a clsact that was there before stays after our own filter comes and goes
    const a = net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', priority: 3, handle: 1 }));
    expect(a.info.createdQdisc).to.equal(false);
    a.detach();
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.include('clsact');
    expect(tcFilters(net.nsA, net.vethA, 'egress')).to.have.length(1);
  });

  it('replaces a filter in place, and refuses attaching twice without replace (interface unchanged)', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', priority: 10, handle: 2 }));
    try {
      expect(a.info).to.include({ priority: 10, handle: 2 });
      const before = tcFilters(net.nsA, net.vethA, 'ingress');
      let err: unknown;
      try {
        net.inNs('A', () => attachTc({ program: prog('tc_egress'), interface: net.vethA, direction: 'ingress', priority: 10, handle: 2 }));
      } catch (e) { err = e; }
      expect(err).to.be.instanceOf(NetlinkError);
      expect(err).to.include({ errno: 'EEXIST', extack: 'Filter already exists' });
      // the refusal names the hook, the interface and the program, as attachXdp's and attachTcx's do
      const idx = net.inNs('A', () => interfaceIndex(net.vethA));
      expect((err as Error).message).to.equal(`attachTc ingress on ${net.vethA} (ifindex ${idx}): EEXIST (File exists): kernel: Filter already exists: program tc_egress (id ${prog('tc_egress').id}), prio 10 handle 0x2; a filter with prio 10 handle 0x2 is there already (another priority or handle, or replace: true)`);
      expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal(before);
      // a priority holding filters of another protocol (tc's `protocol ip`): said so
      const pin = join(fx.bpffs.dir, `tc_${++pins}`);
      prog('tc_ingress').pin(pin);
      expect(inNsExec(net.nsA, 'tc', 'filter', 'add', 'dev', net.vethA, 'ingress', 'protocol', 'ip', 'prio', '11', 'bpf', 'da', 'pinned', pin)).to.not.match(/^ERR/);
      try {
        expect(() => net.inNs('A', () => attachTc({ program: prog('tc_egress'), interface: net.vethA, direction: 'ingress', priority: 11 })))
          .to.throw(NetlinkError, /^attachTc ingress on .*: EINVAL .*: program tc_egress \(id \d+\), prio 11; priority 11 holds filters of another (protocol|kind): choose another priority$/);
      } finally {
        inNsExec(net.nsA, 'tc', 'filter', 'del', 'dev', net.vethA, 'ingress', 'prio', '11');
      }
      const r = net.inNs('A', () => attachTc({ program: prog('tc_egress'), interface: net.vethA, direction: 'ingress', priority: 10, handle: 2, replace: true }));
      try {
        const lines = tcFilters(net.nsA, net.vethA, 'ingress');
        expect(lines).to.have.length(1);
        expect(lines[0]).to.contain(`id ${prog('tc_egress').id} `).and.contain('tc_egress');
        net.sendUdp({ count: 3, port: fx.port });
        expect(counter(fx.tc.maps.get('counter'), 1)).to.equal(3n);
        // a's program no longer runs there: its detach leaves the replacing filter alone
        a.detach();
        expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal(lines);
      } finally {
        r.detach();
      }
    } finally {
      a.detach();
    }
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
  });

  it('rejects a wrong program type and an unknown interface before touching the interface', () => {
    const { net } = fx;
    expect(() => net.inNs('A', () => attachTc({ program: fx.xdp.programs.get('packet_counter')!, interface: net.vethA, direction: 'ingress' })))
      .to.throw(AttachArgumentError, /type xdp; a tc \(cls_bpf\) hook takes sched_cls/);
    // a SCHED_ACT program is an act_bpf action, not a classifier: cls_bpf would refuse it with a bare EINVAL
    const act = progLoad({ progType: BPF_PROG_TYPE.SCHED_ACT, insns: retZero, license: 'GPL', name: 'an_action' });
    try {
      expect(() => net.inNs('A', () => attachTc({ program: { fd: act.fd, name: 'an_action' }, interface: net.vethA, direction: 'ingress' })))
        .to.throw(AttachArgumentError, /program an_action is of type sched_act; a tc \(cls_bpf\) hook takes sched_cls$/);
    } finally {
      act.fd.close();
    }
    expect(() => net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: 'tsbpf-nope0', direction: 'ingress' })))
      .to.throw(InterfaceNotFoundError, /ENODEV/);
    expect(() => net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', priority: 70000 })))
      .to.throw(AttachArgumentError);
    // references the kernel would read as another interface (2**32 + idx wraps to idx, a name is cut
    // at its NUL), or none at all: typed errors naming the argument
    const idx = net.inNs('A', () => interfaceIndex(net.vethA));
    for (const [ref, msg] of [
      [2 ** 32 + idx, `${2 ** 32 + idx} is not an interface index`],
      [`${net.vethA}\0junk`, 'contains a NUL byte'],
      [2 ** 31, '2147483648 is not an interface index'],
      [undefined, 'undefined is not an interface'],
    ] as const) {
      expect(() => net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: ref as never, direction: 'ingress' })), String(ref))
        .to.throw(InvalidInterfaceError, msg);
    }
    expect(() => net.inNs('A', () => attachXdp({ program: fx.xdp.programs.get('packet_counter')!, interface: undefined as never, mode: 'skb' })))
      .to.throw(InvalidInterfaceError);
    expect(() => net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: 2 ** 32 + idx, direction: 'ingress' })))
      .to.throw(InvalidInterfaceError);
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal([]);
  });

  it('refuses a filter name cls_bpf cannot take, naming it, before anything changes on the interface', () => {
    const { net } = fx;
    const attach = (name: unknown) => net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', name: name as string }));
    // 65539 bytes: past nla_len's u16, the tail of the name would be read as more attributes
    expect(() => attach('n'.repeat(65539))).to.throw(AttachArgumentError, /filter name "n{40}…" is 65539 bytes; cls_bpf takes at most 256/);
    expect(() => attach('é'.repeat(129))).to.throw(AttachArgumentError, /is 258 bytes/);
    expect(() => attach('ab\0cd')).to.throw(AttachArgumentError, /filter name "ab\\u0000cd" contains a NUL byte/);
    expect(() => attach(123)).to.throw(AttachArgumentError, /name must be a string, got number/);
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    // the longest name the kernel takes (CLS_BPF_NAME_LEN) goes through whole
    const a = attach('n'.repeat(256));
    try {
      expect(tcFilters(net.nsA, net.vethA, 'ingress')[0]).to.contain(` ${'n'.repeat(256)} direct-action`);
    } finally {
      a.detach();
    }
  });

  it('detaches its own filter by chain: one in another chain at the same priority and handle stays', () => {
    const { net } = fx;
    tcAddsFilter('tc_egress', 'ingress', 'chain', '5', 'prio', '4', 'handle', '1');
    const a = net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', priority: 4, handle: 1 }));
    expect(a.info).to.include({ chain: 0, priority: 4, handle: 1 });
    const at = (chain: number) => net.inNs('A', () => listFilters(interfaceIndex(net.vethA), 'ingress')).filter((f) => f.chain === chain).map((f) => [f.priority, f.handle, f.progId]);
    expect(at(0)).to.deep.equal([[4, 1, prog('tc_ingress').id]]);
    a.detach();
    expect(at(0)).to.deep.equal([]);
    expect(at(5)).to.deep.equal([[4, 1, prog('tc_egress').id]]);
  });

  it('removes only a clsact a live handle of its own added: never one that was there, or that someone re-created', () => {
    const { net } = fx;
    const dev = net.vethA;
    const tc = (...a: string[]) => expect(inNsExec(net.nsA, 'tc', ...a)).to.not.match(/^ERR/);
    const attach = (direction: 'ingress' | 'egress', o: { keepQdisc?: boolean } = {}) =>
      net.inNs('A', () => attachTc({ program: prog(direction === 'ingress' ? 'tc_ingress' : 'tc_egress'), interface: dev, direction, ...o }));

    // a handle that added the clsact, then let go (close): the admin replaces everything with a clsact
    // of their own, which a later handle must not take for ours
    const a = attach('ingress');
    expect(a.info.createdQdisc).to.equal(true);
    a.close();
    tc('qdisc', 'del', 'dev', dev, 'clsact');
    tc('qdisc', 'add', 'dev', dev, 'clsact');
    const b = attach('egress');
    expect(b.info.createdQdisc).to.equal(false);
    b.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.include('clsact');
    tc('qdisc', 'del', 'dev', dev, 'clsact');

    // added with keepQdisc: it stays, and a later handle does not own it either
    const k = attach('ingress', { keepQdisc: true });
    expect(k.info.createdQdisc).to.equal(true);
    k.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.include('clsact');
    const l = attach('ingress');
    expect(l.info.createdQdisc).to.equal(false);
    l.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.include('clsact');
    tc('qdisc', 'del', 'dev', dev, 'clsact');

    // the handle that added it is still live, but the admin re-created the clsact under it
    const c = attach('ingress');
    tc('qdisc', 'del', 'dev', dev, 'clsact');
    tc('qdisc', 'add', 'dev', dev, 'clsact');
    const d = attach('egress'); // must not join c's claim: c's filter is not on this clsact
    d.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.include('clsact');
    c.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.include('clsact');
    tc('qdisc', 'del', 'dev', dev, 'clsact');

    // ownership passes between live handles of the same clsact: whichever of ours goes last removes it,
    // even when the admin took the first one's filter away meanwhile
    const e = attach('ingress');
    const f = attach('egress');
    expect([e.info.createdQdisc, f.info.createdQdisc]).to.deep.equal([true, false]);
    tc('filter', 'del', 'dev', dev, 'ingress', 'pref', String(e.info.priority));
    e.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.include('clsact'); // f's filter is still on it
    f.detach();
    expect(tcQdiscKinds(net.nsA, dev)).to.not.include('clsact');
  });

  /** test/helpers/tc-race-worker.ts in nsA; resolves with its JSON stats, rejects on a bad exit or after 60 s */
  const raceWorker = (args: string[], onLine?: (line: string) => void) => new Promise<Record<string, number>>((resolve, reject) => {
    const worker = 'test/helpers/tc-race-worker.ts'; // run.mjs runs from the repository root
    const p = spawn('ip', ['netns', 'exec', fx.net.nsA, process.execPath, '--import', 'tsx', worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => {
      out += d;
      if (onLine && out.includes('\n')) onLine(out.split('\n')[0]);
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`race worker ${args[0]} exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>);
    });
  });

  it('attaches while another process keeps adding and removing the clsact: the clsact is added again, detach is quiet', async function () {
    this.timeout(90_000);
    const { net } = fx;
    const pin = join(fx.bpffs.dir, 'race_ing');
    prog('tc_ingress').pin(pin);
    // both at once for 2.5 s, after a start-up time long enough for each to load
    const start = String(Date.now() + 5000);
    const [attacher, churner] = await Promise.all([
      raceWorker(['attach', net.vethA, pin, 'ingress', start, '2500']),
      raceWorker(['churn', net.vethA, '-', '-', start, '2500']),
    ]);
    // the churner removes clsact and filters whenever it likes: what is checked is that neither the
    // clsact vanishing between attachTc's steps nor the filter vanishing before detach is an error
    expect(Object.keys(attacher), JSON.stringify(attacher)).to.deep.equal(['ok']);
    expect(attacher.ok).to.be.greaterThan(10);
    expect(churner.ok).to.be.greaterThan(10);
  });

  it('waits for the clsact lock another tsbpf process holds, so no filter goes in while it removes the clsact', async function () {
    this.timeout(90_000);
    const { net } = fx;
    let locked: () => void;
    const isLocked = new Promise<void>((res) => { locked = res; });
    const start = Date.now() + 4000;
    const holder = raceWorker(['hold', '-', '-', '-', String(start), '1500'], (line) => { if (line === 'locked') locked(); });
    await Promise.race([isLocked, holder]);
    expect(existsSync(CLSACT_LOCK_PATH)).to.equal(true);
    const t0 = Date.now();
    const a = net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress' }));
    const waited = Date.now() - t0;
    a.detach();
    expect(await holder).to.deep.equal({ ok: 1 });
    // it got the lock only when the holder let go (at start + 1500 ms)
    expect(t0 + waited).to.be.at.least(start + 1400);
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
  });

  it('treats an existing clsact as success and an ingress qdisc as a clear error', () => {
    const { net } = fx;
    net.inNs('A', () => {
      const s = NetlinkSocket.open();
      try {
        const idx = interfaceIndex(net.vethA, s);
        expect(ensureClsact(idx, s)).to.deep.equal({ created: true });
        expect(ensureClsact(idx, s)).to.deep.equal({ created: false });
        // the raw request shows the kernel's own words coming through the extended ack
        expect(() => s.request(addClsactRequest(idx), 'RTM_NEWQDISC')).to.throw(NetlinkError, 'Exclusivity flag on, cannot modify');
        expect(listQdiscs(idx, s).map((q) => q.kind)).to.include('clsact');
        deleteClsact(idx, s);
      } finally {
        s.close();
      }
    });
    expect(inNsExec(net.nsA, 'tc', 'qdisc', 'add', 'dev', net.vethA, 'ingress')).to.not.match(/^ERR/);
    let err: NetlinkError | undefined;
    try {
      net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress' }));
    } catch (e) { err = e as NetlinkError; }
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err!.errno).to.equal('EEXIST');
    expect(err!.message).to.contain("'ingress' qdisc");
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.include('ingress');
  });
});
