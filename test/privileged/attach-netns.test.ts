// Attaching into another network namespace (`netns`) from the test's own: tc, XDP (netlink and
// link) and tcx on vethA in namespace A, traffic from B moving the counters, tc/ip/bpftool in A as
// oracles, and the thread back in its own namespace after every call, failures included. A veth
// with vethA's name in the test's namespace (made here, never up) must stay untouched.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, counter, inNsExec, ipLink, tcFilters, tcQdiscKinds, type AttachFixture } from '../helpers/attach-fixtures.js';
import { ip } from '../helpers/netns.js';
import { attachTc, attachTcx, attachXdp, attachXdpLink, BpfError, Fd, InterfaceNotFoundError, NetlinkError, type Attachment } from '../../lib/index.js';
import { Netns, NetnsError, NetlinkSocket, detachFilter, inNetns, interfaceIndex } from '../../lib/netlink/index.js';
import { progQuery, BPF_ATTACH_TYPE } from '../../lib/syscall/index.js';
import { netShow } from '../../lib/cli/net.js';

const here = () => statSync('/proc/thread-self/ns/net');
const openFds = () => readdirSync('/proc/self/fd').length;

describe('attach into another network namespace (netns)', function () {
  let fx: AttachFixture;
  /** vethA's name, also given to a veth (and its peer) in the test's own namespace */
  let twinPeer: string;
  let home: number;
  before(function () { requirePrivileged(this); });
  beforeEach(() => {
    home = here().ino;
    fx = createAttachFixture('ns');
    twinPeer = `${fx.net.vethA}p`;
    try {
      ip('link', 'add', fx.net.vethA, 'type', 'veth', 'peer', 'name', twinPeer);
    } catch (e) {
      fx.cleanup();
      throw e;
    }
  });
  afterEach(() => {
    try { ip('link', 'del', fx.net.vethA); } catch { /* never made */ }
    fx?.cleanup();
    // whatever a test did, this thread is where it started
    expect(here().ino).to.equal(home);
  });

  const tcProg = (name: 'tc_ingress' | 'tc_egress') => fx.tc.programs.get(name)!;
  const xdpProg = () => fx.xdp.programs.get('packet_counter')!;
  const pathA = () => `/run/netns/${fx.net.nsA}`;
  /** the tcx programs of vethA asked from inside A (bpftool 7.1 has no tcx section) */
  const tcxInA = (dir: 'ingress' | 'egress') => fx.net.inNs('A', () =>
    progQuery({ targetIfindex: interfaceIndex(fx.net.vethA), attachType: dir === 'ingress' ? BPF_ATTACH_TYPE.TCX_INGRESS : BPF_ATTACH_TYPE.TCX_EGRESS }).progIds);
  /** UDP to vethA from B and from vethA to B: tc_ingress counts the first (key 0), tc_egress the second (key 1) */
  const countsBothWays = (toA: number, fromA: number) => {
    fx.net.sendUdp({ count: toA, port: fx.port });
    fx.net.sendUdp({ count: fromA, port: fx.port, from: 'A' });
    const m = fx.tc.maps.get('counter');
    expect([counter(m, 0), counter(m, 1)]).to.deep.equal([BigInt(toA), BigInt(fromA)]);
  };
  /** every call leaves the thread in its own namespace */
  const stillHome = () => expect(here().ino, 'the thread is back in its own network namespace').to.equal(home);
  /** the namesake in this namespace has nothing attached (tsbpf's net show and tc agree) */
  const twinUntouched = () => {
    const s = netShow(fx.net.vethA);
    expect(s.xdp).to.deep.equal([]);
    expect(s.tc).to.deep.equal([]);
    expect(s.tcx).to.deep.equal([]);
    expect(ip('-d', 'link', 'show', 'dev', fx.net.vethA)).to.not.match(/xdp|prog\//);
    expect(spawnSync('tc', ['qdisc', 'show', 'dev', fx.net.vethA], { encoding: 'utf8' }).stdout).to.not.contain('clsact');
  };

  it('tc: ingress and egress filters on vethA in A (by name and by path) count the traffic; detach removes the clsact they added', () => {
    const { net } = fx;
    const ing = attachTc({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', netns: net.nsA });
    stillHome();
    const eg = attachTc({ program: tcProg('tc_egress'), interface: net.vethA, direction: 'egress', netns: pathA() });
    stillHome();
    try {
      expect(ing.info).to.include({ kind: 'tc', interface: net.vethA, ifindex: ipLink(net.nsA, net.vethA).ifindex, createdQdisc: true, netns: pathA() });
      expect(eg.info).to.include({ createdQdisc: false, netns: pathA() });
      expect(tcFilters(net.nsA, net.vethA, 'ingress')[0]).to.contain(`id ${tcProg('tc_ingress').id} `);
      expect(tcFilters(net.nsA, net.vethA, 'egress')[0]).to.contain(`id ${tcProg('tc_egress').id} `);
      countsBothWays(7, 5);
      twinUntouched();
    } finally {
      ing.detach();
      stillHome();
      eg.detach();
      stillHome();
    }
    expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal([]);
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    net.sendUdp({ count: 3, port: fx.port });
    expect(counter(fx.tc.maps.get('counter'), 0)).to.equal(7n);
  });

  it('tc: clsact claims are kept per namespace, so two interfaces with the same ifindex in A and B each lose the clsact tsbpf added', () => {
    const { net } = fx;
    // both ends are the first device after lo in their namespace: the same ifindex, told apart only by the namespace
    expect(ipLink(net.nsA, net.vethA).ifindex).to.equal(ipLink(net.nsB, net.vethB).ifindex);
    const a = attachTc({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', netns: net.nsA });
    const b = attachTc({ program: tcProg('tc_ingress'), interface: net.vethB, direction: 'ingress', netns: net.nsB });
    expect([a.info.createdQdisc, b.info.createdQdisc]).to.deep.equal([true, true]);
    a.detach();
    b.detach();
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    expect(tcQdiscKinds(net.nsB, net.vethB)).to.not.include('clsact');
    stillHome();
  });

  it('XDP over netlink, with the namespace as an open fd: counts, `ip -n A` shows it, detach removes it', () => {
    const { net } = fx;
    const fd = openSync(pathA(), 'r');
    let x: Attachment | undefined;
    try {
      x = attachXdp({ program: xdpProg(), interface: net.vethA, mode: 'drv', netns: fd });
      stillHome();
      expect(x.info).to.include({ kind: 'xdp', mode: 'drv', netns: `fd ${fd}` });
    } finally {
      closeSync(fd); // borrowed: the handle keeps its socket, not the fd
    }
    try {
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(xdpProg().id);
      net.sendUdp({ count: 9, port: fx.port });
      expect(counter(fx.xdp.maps.get('protocols'), 17)).to.equal(9n);
      twinUntouched();
    } finally {
      x.detach();
    }
    stillHome();
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });

  it('XDP link, with the namespace as an Fd: counts, `ip -n A` shows it, close() ends it', () => {
    const { net } = fx;
    const nsFd = new Fd(openSync(pathA(), 'r'), 'netns');
    const l = attachXdpLink({ program: xdpProg(), interface: net.vethA, mode: 'skb', netns: nsFd });
    nsFd.close();
    stillHome();
    try {
      expect(l.info).to.include({ kind: 'xdp-link', mode: 'skb', ifindex: ipLink(net.nsA, net.vethA).ifindex });
      expect(l.info.netns).to.match(/^fd \d+$/);
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(xdpProg().id);
      net.sendUdp({ count: 4, port: fx.port });
      expect(counter(fx.xdp.maps.get('protocols'), 17)).to.equal(4n);
      twinUntouched();
    } finally {
      l.close(); // an unpinned link ends with its fd, wherever the thread is
    }
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });

  it('tcx, both directions through one Netns closed before the links are: counts, a query in A shows them, detach removes them', () => {
    const { net } = fx;
    const ns = Netns.open(net.nsA);
    let ing: Attachment, eg: Attachment;
    try {
      expect(ns.inode).to.equal(statSync(pathA()).ino);
      ing = attachTcx({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', netns: ns });
      eg = attachTcx({ program: tcProg('tc_egress'), interface: net.vethA, direction: 'egress', netns: ns });
    } finally {
      ns.close();
    }
    stillHome();
    try {
      expect([tcxInA('ingress'), tcxInA('egress')]).to.deep.equal([[tcProg('tc_ingress').id], [tcProg('tc_egress').id]]);
      countsBothWays(6, 2);
      twinUntouched();
    } finally {
      ing.detach();
      eg.detach();
    }
    stillHome();
    expect([tcxInA('ingress'), tcxInA('egress')]).to.deep.equal([[], []]);
  });

  it('refuses what is no network namespace before anything is attached, and leaves no fd', () => {
    const { net } = fx;
    const fileFd = openSync('/etc/hostname', 'r');
    const fds = openFds();
    try {
      const bad: [unknown, RegExp][] = [
        ['tsbpf-no-such-ns', /network namespace \/run\/netns\/tsbpf-no-such-ns does not exist \(no namespace named tsbpf-no-such-ns/],
        ['/run/netns/tsbpf-no-such-ns', /does not exist$/],
        ['/run/netns', /is a directory, not a network namespace/],
        ['/etc/hostname', /is not a namespace file/],
        ['/proc/self/ns/mnt', /is a mount namespace, not a network namespace/],
        [fileFd, new RegExp(`fd ${fileFd} is not a namespace file`)],
      ];
      for (const [netns, msg] of bad) {
        const attempts: (() => unknown)[] = [
          () => attachTc({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', netns: netns as string }),
          () => attachXdp({ program: xdpProg(), interface: net.vethA, netns: netns as string }),
          () => attachXdpLink({ program: xdpProg(), interface: net.vethA, netns: netns as string }),
          () => attachTcx({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', netns: netns as string }),
        ];
        for (const attempt of attempts) {
          expect(attempt, String(netns)).to.throw(NetnsError, msg);
          stillHome();
        }
      }
      expect(openFds()).to.equal(fds);
    } finally {
      closeSync(fileFd);
    }
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });

  it('a missing interface in A and the kernel refusing inside A: errors name the namespace, the thread comes back, nothing stays', () => {
    const { net } = fx;
    const fds = openFds();
    // twinPeer exists only in the test's own namespace: looked up in A, it is not there
    for (const attempt of [
      () => attachTc({ program: tcProg('tc_ingress'), interface: twinPeer, direction: 'ingress', netns: net.nsA }),
      () => attachXdp({ program: xdpProg(), interface: twinPeer, netns: net.nsA }),
      () => attachXdpLink({ program: xdpProg(), interface: twinPeer, netns: net.nsA }),
      () => attachTcx({ program: tcProg('tc_ingress'), interface: twinPeer, direction: 'ingress', netns: net.nsA }),
    ]) {
      let err: unknown;
      try { attempt(); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(InterfaceNotFoundError).and.include({ netns: pathA(), interface: twinPeer });
      expect((err as Error).message).to.equal(`interface lookup: ENODEV (No such device): no interface "${twinPeer}" in network namespace ${pathA()}`);
      stillHome();
    }
    // LINK_CREATE refused with the thread inside A
    const idx = ipLink(net.nsA, net.vethA).ifindex;
    expect(() => attachTcx({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', netns: net.nsA, expectedRevision: 99 }))
      .to.throw(BpfError, `LINK_CREATE: ESTALE (Stale file handle): tcx ingress on ${net.vethA} (ifindex ${idx}) in network namespace ${pathA()}, program tc_ingress (id ${tcProg('tc_ingress').id}); the hook changed since revision 99`);
    stillHome();
    expect(() => attachXdpLink({ program: xdpProg(), interface: net.vethA, mode: 'hw', netns: net.nsA }))
      .to.throw(BpfError, new RegExp(`^LINK_CREATE: \\w+ .*: xdp hw mode on ${net.vethA} \\(ifindex ${idx}\\) in network namespace ${pathA()}, program packet_counter`));
    stillHome();
    // a step that is not synchronous would go on outside: refused, after the thread is back
    const ns = Netns.open(net.nsA);
    try {
      expect(inNetns(ns, 'test', () => here().ino)).to.equal(ns.inode);
      expect(() => inNetns(ns, 'test', async () => 1)).to.throw(NetnsError, /returned a promise; only synchronous steps can run in it$/);
    } finally {
      ns.close();
    }
    stillHome();
    // netlink refusals (the socket is in A, the thread at home) name it too
    const t = attachTc({ program: tcProg('tc_ingress'), interface: net.vethA, direction: 'ingress', priority: 4, handle: 1, netns: net.nsA });
    try {
      expect(() => attachTc({ program: tcProg('tc_egress'), interface: net.vethA, direction: 'ingress', priority: 4, handle: 1, netns: net.nsA }))
        .to.throw(NetlinkError, new RegExp(`^attachTc ingress on ${net.vethA} \\(ifindex ${idx}\\) in network namespace ${pathA()}: EEXIST`));
    } finally {
      t.detach();
    }
    // …and so do the steps that do not say it themselves (a detach's delete, a dump)
    const sock = NetlinkSocket.open({ netns: net.nsA });
    try {
      expect(() => detachFilter({ ifindex: idx, direction: 'ingress', priority: 9, handle: 9 }, sock))
        .to.throw(NetlinkError, new RegExp(`^RTM_DELTFILTER ingress in network namespace ${pathA()}: E[A-Z]+ `));
    } finally {
      sock.close();
    }
    stillHome();
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
    expect(tcxInA('ingress')).to.deep.equal([]);
    expect(openFds()).to.equal(fds);
    twinUntouched();
  });

  it('a thread that cannot come back is a NetnsReturnError, and later netlink steps on it are refused (in a child process)', () => {
    const { net } = fx;
    // the child's return setns is made to fail: its main thread really stays in A, so the child
    // reports what it saw and exits
    const script = `
      import { statSync } from 'node:fs';
      import { attachTc, BpfProgram, NetlinkSocket } from './lib/index.ts';
      import { NetnsReturnError, setSetnsForTesting } from './lib/netlink/netns-enter.ts';
      import { setns } from './lib/syscall/setns.ts';
      const ino = () => statSync('/proc/thread-self/ns/net').ino;
      const home = ino();
      let calls = 0;
      setSetnsForTesting((fd, t) => (++calls === 2 ? -1 : setns(fd, t)));
      const out = {};
      try {
        attachTc({ program: BpfProgram.fromPin(process.argv[1]), interface: process.argv[2], direction: 'ingress', netns: process.argv[3] });
        out.attached = true;
      } catch (e) {
        out.error = e.constructor.name; out.message = e.message; out.fatal = e instanceof NetnsReturnError;
      }
      out.stayed = ino() !== home;
      try { NetlinkSocket.open(); out.later = 'opened'; } catch (e) { out.later = e.constructor.name; }
      console.log(JSON.stringify(out));
    `;
    const pin = join(fx.bpffs.dir, 'child_ing');
    tcProg('tc_ingress').pin(pin);
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, pin, net.vethA, net.nsA], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out).to.include({ error: 'NetnsReturnError', fatal: true, stayed: true, later: 'NetnsReturnError' });
    expect(out.message).to.equal(`NetlinkSocket.open: this thread could not return from network namespace ${pathA()} to its own (setns: EPERM: Operation not permitted); it stays there, and tsbpf refuses further netlink and namespace steps on it: end the process or worker`);
    // it failed while opening its socket: nothing was attached in A
    expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
  });

  it('`tsbpf net attach|show|detach --netns` from the test\'s own namespace', () => {
    const { net, bpffs } = fx;
    const pins = { ing: join(bpffs.dir, 'ing'), eg: join(bpffs.dir, 'eg'), xdp: join(bpffs.dir, 'xdp') };
    tcProg('tc_ingress').pin(pins.ing);
    tcProg('tc_egress').pin(pins.eg);
    xdpProg().pin(pins.xdp);
    const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'net', ...args], { encoding: 'utf8' });
    const ok = (...args: string[]) => {
      const r = tsbpf(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(0);
      return r.stdout;
    };
    const dev = net.vethA;
    expect(ok('attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress', '--netns', net.nsA)).to.match(new RegExp(`^attached tc_ingress \\(id \\d+\\) to ${dev} clsact/ingress prio \\d+ handle 0x1 in network namespace ${pathA()}\\n$`));
    expect(ok('attach', 'xdp', 'pinned', pins.xdp, 'dev', dev, 'mode', 'skb', '--netns', pathA())).to.contain(`xdp generic in network namespace ${pathA()}`);
    expect(ok('attach', 'tcx', '--netns', net.nsA, 'pinned', pins.eg, 'dev', dev, 'egress')).to.contain('tcx/egress');
    stillHome();
    const show = JSON.parse(ok('show', 'dev', dev, '--netns', net.nsA, '-j'))[0];
    const ifindex = ipLink(net.nsA, dev).ifindex;
    expect(show.xdp).to.deep.equal([{ devname: dev, ifindex, mode: 'generic', id: xdpProg().id }]);
    expect(show.tc.map((t: { kind: string; id: number }) => [t.kind, t.id])).to.deep.equal([['clsact/ingress', tcProg('tc_ingress').id]]);
    expect(show.tcx).to.deep.equal([{ devname: dev, ifindex, kind: 'tcx/egress', name: 'tc_egress', prog_id: tcProg('tc_egress').id }]);
    expect(tcxInA('egress')).to.deep.equal([tcProg('tc_egress').id]);
    // the same as bpftool run inside A; the namesake here shows nothing
    const bpftool = JSON.parse(inNsExec(net.nsA, 'bpftool', '-j', 'net', 'show', 'dev', dev))[0];
    expect(show.xdp).to.deep.equal(bpftool.xdp);
    expect(show.tc.map((t: { devname: string; ifindex: number; kind: string; name: string; id: number }) => ({ devname: t.devname, ifindex: t.ifindex, kind: t.kind, name: t.name, id: t.id }))).to.deep.equal(bpftool.tc);
    expect(JSON.parse(ok('show', 'dev', dev, '-j'))[0]).to.deep.include({ xdp: [], tc: [], flow_dissector: [], tcx: [] });
    twinUntouched();
    expect(ok('detach', 'tc', 'dev', dev, 'ingress', '--netns', net.nsA)).to.contain(`clsact/ingress in network namespace ${pathA()}`);
    ok('detach', 'xdp', 'dev', dev, '--netns', net.nsA);
    ok('detach', 'tcx', 'pinned', pins.eg, 'dev', dev, 'egress', '--netns', net.nsA);
    expect(JSON.parse(ok('show', '--netns', net.nsA, '-j'))[0]).to.deep.include({ xdp: [], tc: [], flow_dissector: [], tcx: [] });
    expect(tcxInA('egress')).to.deep.equal([]);
    // bad input: one Error line, status 1, nothing attached
    const bad = tsbpf('attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress', '--netns', 'tsbpf-no-such-ns');
    expect(bad).to.include({ status: 1, stderr: 'Error: net attach: network namespace /run/netns/tsbpf-no-such-ns does not exist (no namespace named tsbpf-no-such-ns: `ip netns list` shows them)\n' });
    const missing = tsbpf('attach', 'tc', 'pinned', pins.ing, 'dev', twinPeer, 'ingress', '--netns', net.nsA);
    expect(missing).to.include({ status: 1, stderr: `Error: interface lookup: ENODEV (No such device): no interface "${twinPeer}" in network namespace ${pathA()}\n` });
    expect(tcFilters(net.nsA, dev, 'ingress')).to.deep.equal([]);
  });
});
