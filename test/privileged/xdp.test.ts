// attachXdp over IFLA_XDP against the real kernel: each mode veth supports, exact counts, replace,
// detach, the kernel's refusals with its own text, and `ip link show` agreeing.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, counter, inNsExec, ipLink, type AttachFixture } from '../helpers/attach-fixtures.js';
import { attachXdp, attachXdpLink, AttachArgumentError, NetlinkError, queryXdp, interfaceIndex, listInterfaces, loadObject } from '../../lib/index.js';

describe('attachXdp (IFLA_XDP over tsbpf netlink)', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this); });
  beforeEach(() => { fx = createAttachFixture('xdp'); });
  afterEach(() => fx?.cleanup());

  const xprog = () => fx.xdp.programs.get('packet_counter')!;

  for (const mode of ['drv', 'skb'] as const) {
    it(`attaches in ${mode} mode, counts the UDP datagrams sent, and detaches`, () => {
      const { net } = fx;
      const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode }));
      try {
        expect(a.info).to.include({ kind: 'xdp', mode, requestedMode: mode, programId: xprog().id });
        const link = ipLink(net.nsA, net.vethA);
        expect(link.xdp?.mode).to.equal(mode === 'drv' ? 1 : 2); // XDP_ATTACHED_DRV / _SKB as ip prints them
        expect(link.xdp?.prog?.id).to.equal(xprog().id);
        expect(net.inNs('A', () => queryXdp(interfaceIndex(net.vethA)))).to.deep.equal({ attached: mode, [mode]: xprog().id });
        net.sendUdp({ count: 9, port: fx.port });
        expect(counter(fx.xdp.maps.get('protocols'), 17)).to.equal(9n);
      } finally {
        a.detach();
      }
      expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
    });
  }

  it('defaults to native mode; refuses a second program without replace, with the kernel text', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA }));
    try {
      expect(a.info.mode).to.equal('drv');
      let err: NetlinkError | undefined;
      try { net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA })); } catch (e) { err = e as NetlinkError; }
      expect(err).to.be.instanceOf(NetlinkError);
      expect(err).to.include({ errno: 'EBUSY', extack: 'XDP program already attached' });
      expect(() => net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'skb' })))
        .to.throw(NetlinkError, "Native and generic XDP can't be active at the same time");
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(xprog().id);
    } finally {
      a.detach();
    }
  });

  it('replaces with replace: true, only if the expected program is attached with replace: program', () => {
    const { net } = fx;
    const other = loadObject('bpf/packet_counter.o');
    try {
      const p2 = other.programs.get('packet_counter')!;
      const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'skb' }));
      // expected program is not the attached one: refused, nothing changes
      expect(() => net.inNs('A', () => attachXdp({ program: p2, interface: net.vethA, mode: 'skb', replace: p2 })))
        .to.throw(NetlinkError, 'Active program does not match expected');
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(xprog().id);
      const b = net.inNs('A', () => attachXdp({ program: p2, interface: net.vethA, mode: 'skb', replace: xprog() }));
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(p2.id);
      // a's program is no longer attached: its detach leaves b's program alone
      a.detach();
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(p2.id);
      const c = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'skb', replace: true }));
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(xprog().id);
      b.close();
      c.detach();
      expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
    } finally {
      other.close();
    }
  });

  it('detach once a BPF link holds the hook: ours is gone, so detach() is done and the link\'s program stays', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'drv' }));
    // someone removes ours and attaches a link in the same mode (a link cannot replace a netlink program)
    expect(inNsExec(net.nsA, 'ip', 'link', 'set', 'dev', net.vethA, 'xdpdrv', 'off')).to.not.match(/^ERR/);
    const other = loadObject('bpf/packet_counter.o');
    const l = net.inNs('A', () => attachXdpLink({ program: other.programs.get('packet_counter')!, interface: net.vethA, mode: 'drv' }));
    try {
      a.detach();
      expect(a.detached).to.equal(true);
      a.detach(); // twice is harmless
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(other.programs.get('packet_counter')!.id);
    } finally {
      l.detach();
      other.close();
    }
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });

  it('detach after the interface moved to another namespace: the program runs on there, so a typed error says where; after deletion it is done', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'skb' }));
    expect(inNsExec(net.nsA, 'ip', 'link', 'set', 'dev', net.vethA, 'netns', net.nsB)).to.not.match(/^ERR/);
    let err: NetlinkError | undefined;
    try { a.detach(); } catch (e) { err = e as NetlinkError; }
    expect(err).to.be.instanceOf(NetlinkError).and.include({ errno: 'ENODEV' });
    expect(err!.message).to.match(new RegExp(`^detach xdp skb mode on ${net.vethA}: ENODEV .*: the interface moved to the network namespace with nsid \\d+ \\(as ${net.vethA}, ifindex \\d+\\), where program packet_counter \\(id ${xprog().id}\\) stays attached: nothing was detached`));
    expect(a.detached).to.equal(false);
    expect(ipLink(net.nsB, net.vethA).xdp?.prog?.id).to.equal(xprog().id);
    // taken off there, nothing of the handle is attached anywhere: its detach is done
    expect(inNsExec(net.nsB, 'ip', 'link', 'set', 'dev', net.vethA, 'xdpgeneric', 'off')).to.not.match(/^ERR/);
    a.detach();
    expect(a.detached).to.equal(true);
    // deleted, the program went with it: done at once
    const b = net.inNs('B', () => attachXdp({ program: xprog(), interface: net.vethB, mode: 'skb' }));
    expect(inNsExec(net.nsB, 'ip', 'link', 'del', 'dev', net.vethB)).to.not.match(/^ERR/);
    b.detach();
    expect(b.detached).to.equal(true);
  });

  it('native XDP refused for a too-large MTU: a typed error with the kernel text; auto falls back to generic and says so', () => {
    const { net } = fx;
    expect(inNsExec(net.nsB, 'ip', 'link', 'set', 'dev', net.vethB, 'mtu', '9000')).to.not.match(/^ERR/);
    let err: NetlinkError | undefined;
    try { net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'drv' })); } catch (e) { err = e as NetlinkError; }
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err!.errno).to.equal('ERANGE');
    expect(err!.extack).to.match(/MTU is too large/);
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
    const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'auto' }));
    try {
      expect(a.info.mode).to.equal('skb');
      expect(a.info.note).to.match(/native XDP refused on .*ERANGE.*generic \(skb\)/);
      expect(ipLink(net.nsA, net.vethA).xdp?.mode).to.equal(2);
    } finally {
      a.detach();
    }
  });

  it('reports hw mode unsupported by veth and a wrong program type, leaving the interface as it was', () => {
    const { net } = fx;
    let err: unknown;
    try { net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'hw' })); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(NetlinkError);
    expect((err as NetlinkError).message).to.match(/^attachXdp hw mode on \S+: E[A-Z]+ .*hw mode needs a NIC that offloads XDP/);
    expect(() => net.inNs('A', () => attachXdp({ program: fx.tc.programs.get('tc_ingress')!, interface: net.vethA })))
      .to.throw(AttachArgumentError, /type sched_cls; an XDP hook takes xdp/);
    expect(() => attachXdp({ program: xprog(), interface: net.vethA, mode: 'native' as never })).to.throw(AttachArgumentError);
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });

  it('native XDP unsupported by the driver (a bridge): EOPNOTSUPP with the kernel text; auto uses generic', () => {
    const { net } = fx;
    const br = `tr${net.vethA.slice(2, 9)}`; // goes with nsA
    expect(inNsExec(net.nsA, 'ip', 'link', 'add', br, 'type', 'bridge')).to.not.match(/^ERR/);
    let err: NetlinkError | undefined;
    try { net.inNs('A', () => attachXdp({ program: xprog(), interface: br })); } catch (e) { err = e as NetlinkError; }
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err!.errno).to.equal('EOPNOTSUPP');
    expect(err!.extack).to.match(/does not support XDP in native mode/);
    expect(ipLink(net.nsA, br).xdp).to.equal(undefined);
    const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: br, mode: 'auto' }));
    expect(a.info.mode).to.equal('skb');
    expect(a.info.note).to.contain('EOPNOTSUPP');
    a.detach();
    expect(ipLink(net.nsA, br).xdp).to.equal(undefined);
    // hw mode on it: the kernel gives the same text ("… in native mode"); the message says what hw needs
    let hw: NetlinkError | undefined;
    try { net.inNs('A', () => attachXdp({ program: xprog(), interface: br, mode: 'hw' })); } catch (e) { hw = e as NetlinkError; }
    expect(hw).to.be.instanceOf(NetlinkError);
    expect(hw!.message).to.match(/^attachXdp hw mode on \S+: EOPNOTSUPP .*kernel: Underlying driver does not support XDP in native mode: hw mode needs a NIC that offloads XDP and a program loaded for that device$/);
    expect(ipLink(net.nsA, br).xdp).to.equal(undefined);
  });

  it('sees what `ip link set … xdpgeneric` attached', () => {
    const { net } = fx;
    const pin = `${fx.bpffs.dir}/xdp_ip`;
    xprog().pin(pin);
    expect(inNsExec(net.nsA, 'ip', 'link', 'set', 'dev', net.vethA, 'xdpgeneric', 'pinned', pin)).to.not.match(/^ERR/);
    try {
      expect(net.inNs('A', () => queryXdp(interfaceIndex(net.vethA)))).to.deep.equal({ attached: 'skb', skb: xprog().id });
    } finally {
      inNsExec(net.nsA, 'ip', 'link', 'set', 'dev', net.vethA, 'xdpgeneric', 'off');
    }
  });

  it('lists interfaces like `ip link show`: index, name, MTU, flags, XDP ids per mode', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachXdp({ program: xprog(), interface: net.vethA, mode: 'skb' }));
    try {
      const mine = net.inNs('A', () => listInterfaces());
      const ip = JSON.parse(inNsExec(net.nsA, 'ip', '-j', 'link', 'show')) as { ifindex: number; ifname: string; mtu: number; flags: string[] }[];
      expect(mine.map((l) => [l.index, l.name, l.mtu, l.up])).to.deep.equal(ip.map((l) => [l.ifindex, l.ifname, l.mtu, l.flags.includes('UP')]));
      const veth = mine.find((l) => l.name === net.vethA)!;
      expect(veth.kind).to.equal('veth');
      expect(veth.xdp).to.deep.equal({ attached: 'skb', skb: xprog().id });
    } finally {
      a.detach();
    }
  });
});
