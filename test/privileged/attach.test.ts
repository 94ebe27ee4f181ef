// The attachment handle contract across hook kinds: attachAll rolls back (nothing half-attached),
// groups detach in reverse, close() keeps netlink attachments, detach after the interface vanished
// is quiet, and no fd leaks over attach/detach cycles.
import { expect } from 'chai';
import { openSync, readdirSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, ipLink, tcFilters, tcQdiscKinds, inNsExec, type AttachFixture } from '../helpers/attach-fixtures.js';
import { attachAll, attachTc, attachTcx, attachXdp, AttachArgumentError, NetlinkError, interfaceIndex, BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../../lib/index.js';
import { progQuery, Fd } from '../../lib/syscall/index.js';

const fdCount = () => readdirSync('/proc/self/fd').length;

describe('attachment handles and attachAll', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this); });
  beforeEach(() => { fx = createAttachFixture('att'); });
  afterEach(() => fx?.cleanup());

  const tcp = (n: string) => fx.tc.programs.get(n)!;
  const xp = () => fx.xdp.programs.get('packet_counter')!;

  it('rolls back every hook already attached when a later one fails', () => {
    const { net } = fx;
    const dev = net.vethA;
    let err: unknown;
    try {
      net.inNs('A', () => attachAll([
        () => attachTc({ program: tcp('tc_ingress'), interface: dev, direction: 'ingress' }),
        () => attachTcx({ program: tcp('tc_egress'), interface: dev, direction: 'egress' }),
        () => attachXdp({ program: xp(), interface: dev, mode: 'skb' }),
        () => attachTc({ program: tcp('tc_egress'), interface: dev, direction: 'egress' }),
        () => attachXdp({ program: xp(), interface: dev, mode: 'skb' }), // EBUSY: already attached
      ]));
    } catch (e) { err = e; }
    expect(err).to.be.instanceOf(NetlinkError);
    expect(err).to.include({ errno: 'EBUSY' });
    expect(tcFilters(net.nsA, dev, 'ingress')).to.deep.equal([]);
    expect(tcFilters(net.nsA, dev, 'egress')).to.deep.equal([]);
    expect(tcQdiscKinds(net.nsA, dev)).to.not.include('clsact');
    expect(ipLink(net.nsA, dev).xdp).to.equal(undefined);
    expect(net.inNs('A', () => progQuery({ targetIfindex: interfaceIndex(dev), attachType: BPF_ATTACH_TYPE.TCX_EGRESS })).progIds).to.deep.equal([]);
  });

  it('a group detaches all its members (Symbol.dispose too); argument errors roll back the same way', () => {
    const { net } = fx;
    const dev = net.vethA;
    const g = net.inNs('A', () => attachAll([
      () => attachTc({ program: tcp('tc_ingress'), interface: dev, direction: 'ingress' }),
      () => attachTc({ program: tcp('tc_egress'), interface: dev, direction: 'egress' }),
    ]));
    expect(g.info.members.map((m) => m.info.kind)).to.deep.equal(['tc', 'tc']);
    expect(tcFilters(net.nsA, dev, 'egress')).to.have.length(1);
    g[Symbol.dispose]();
    expect(g.detached).to.equal(true);
    expect(g.info.members.every((m) => m.detached)).to.equal(true);
    expect(tcQdiscKinds(net.nsA, dev)).to.not.include('clsact');
    expect(() => net.inNs('A', () => attachAll([
      () => attachTc({ program: tcp('tc_ingress'), interface: dev, direction: 'ingress' }),
      () => attachTc({ program: xp(), interface: dev, direction: 'egress' }),
    ]))).to.throw(AttachArgumentError);
    expect(tcQdiscKinds(net.nsA, dev)).to.not.include('clsact');
  });

  it('checks the fd is a program and its type as the kernel reports it, not as the caller claims', () => {
    const { net } = fx;
    const dev = net.vethA;
    const counterMap = fx.tc.maps.get('counter')!;
    // a map's fd would read its map_info as a prog_info ("type kprobe")
    expect(() => net.inNs('A', () => attachTc({ program: { fd: counterMap.fd, name: 'counter' }, interface: dev, direction: 'ingress' })))
      .to.throw(AttachArgumentError, /^attachTc: program counter is a bpf map, not a prog$/);
    const file = new Fd(openSync('/proc/self/stat', 'r'), 'a file');
    try {
      expect(() => net.inNs('A', () => attachXdp({ program: { fd: file, name: 'f' }, interface: dev, mode: 'skb' })))
        .to.throw(AttachArgumentError, /^attachXdp: program f is not a bpf object \(\/proc\/\d+\/stat\), not a prog$/);
    } finally {
      file.close();
    }
    // an XDP program that says it is a classifier is still an XDP program
    expect(() => net.inNs('A', () => attachTc({ program: { fd: xp().fd, name: 'liar', type: BPF_PROG_TYPE.SCHED_CLS }, interface: dev, direction: 'ingress' })))
      .to.throw(AttachArgumentError, /program liar is of type xdp \(not sched_cls as given\); a tc \(cls_bpf\) hook takes sched_cls/);
    expect(() => net.inNs('A', () => attachTcx({ program: { fd: xp().fd, name: 'liar', type: BPF_PROG_TYPE.SCHED_CLS }, interface: dev, direction: 'ingress' })))
      .to.throw(AttachArgumentError, /type xdp/);
    expect(() => net.inNs('A', () => attachXdp({ program: { fd: tcp('tc_ingress').fd, name: 'liar', type: BPF_PROG_TYPE.XDP }, interface: dev, mode: 'skb' })))
      .to.throw(AttachArgumentError, /type sched_cls \(not xdp as given\)/);
    expect(() => attachTc({ program: { fd: 5 } as never, interface: dev, direction: 'ingress' })).to.throw(AttachArgumentError, /must be a loaded program/);
    expect(tcQdiscKinds(net.nsA, dev)).to.not.include('clsact');
    expect(ipLink(net.nsA, dev).xdp).to.equal(undefined);
  });

  it('close() lets go of the handle but keeps netlink attachments in the kernel', () => {
    const { net } = fx;
    const dev = net.vethA;
    const t = net.inNs('A', () => attachTc({ program: tcp('tc_ingress'), interface: dev, direction: 'ingress' }));
    const x = net.inNs('A', () => attachXdp({ program: xp(), interface: dev, mode: 'skb' }));
    t.close();
    x.close();
    expect(t.closed && !t.detached).to.equal(true);
    t.detach(); // a closed handle no longer detaches
    expect(tcFilters(net.nsA, dev, 'ingress')).to.have.length(1);
    expect(ipLink(net.nsA, dev).xdp?.prog?.id).to.equal(xp().id);
    inNsExec(net.nsA, 'ip', 'link', 'set', 'dev', dev, 'xdpgeneric', 'off');
    inNsExec(net.nsA, 'tc', 'qdisc', 'del', 'dev', dev, 'clsact');
  });

  it('detaching after the interface is gone is quiet; attach/detach cycles leak no fd', () => {
    const { net } = fx;
    const dev = net.vethA;
    const before = fdCount();
    for (let i = 0; i < 20; i++) {
      const a = net.inNs('A', () => attachTc({ program: tcp('tc_ingress'), interface: dev, direction: 'ingress' }));
      const x = net.inNs('A', () => attachXdp({ program: xp(), interface: dev, mode: 'skb' }));
      const l = net.inNs('A', () => attachTcx({ program: tcp('tc_egress'), interface: dev, direction: 'egress' }));
      l.detach();
      x.detach();
      a.detach();
    }
    expect(fdCount()).to.equal(before);
    const a = net.inNs('A', () => attachTc({ program: tcp('tc_ingress'), interface: dev, direction: 'ingress' }));
    const x = net.inNs('A', () => attachXdp({ program: xp(), interface: dev, mode: 'skb' }));
    const l = net.inNs('A', () => attachTcx({ program: tcp('tc_egress'), interface: dev, direction: 'egress' }));
    inNsExec(net.nsA, 'ip', 'link', 'del', dev);
    a.detach();
    x.detach();
    l.detach();
    expect(fdCount()).to.equal(before);
  });
});
