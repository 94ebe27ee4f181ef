// BPF-link attachments: TCX (ordering with before/after anchors, exact counts, detach on close
// unless pinned) and XDP links (netlink cannot replace a link-owned program).
import { expect } from 'chai';
import { join } from 'node:path';
import { existsSync, unlinkSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, counter, ipLink, type AttachFixture } from '../helpers/attach-fixtures.js';
import { attachTc, attachTcx, attachXdp, attachXdpLink, AttachArgumentError, NetlinkError, BPF_ATTACH_TYPE, interfaceIndex, loadObject } from '../../lib/index.js';
import { progQuery, BpfError } from '../../lib/syscall/index.js';

describe('attachTcx and attachXdpLink (BPF links)', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this); });
  beforeEach(() => { fx = createAttachFixture('tcx'); });
  afterEach(() => fx?.cleanup());

  const prog = (name: string) => fx.tc.programs.get(name)!;
  const tcxIds = (dir: 'ingress' | 'egress') => fx.net.inNs('A', () => progQuery({
    targetIfindex: interfaceIndex(fx.net.vethA), attachType: dir === 'ingress' ? BPF_ATTACH_TYPE.TCX_INGRESS : BPF_ATTACH_TYPE.TCX_EGRESS,
  }));

  it('orders programs with before/after anchors and counts exactly', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress' }));
    const b = net.inNs('A', () => attachTcx({ program: prog('tc_egress'), interface: net.vethA, direction: 'ingress', before: a }));
    try {
      expect(a.info).to.include({ kind: 'tcx', direction: 'ingress', interface: net.vethA, programId: prog('tc_ingress').id });
      let q = tcxIds('ingress');
      expect(q.progIds).to.deep.equal([prog('tc_egress').id, prog('tc_ingress').id]);
      expect(q.linkIds).to.deep.equal([b.info.linkId, a.info.linkId]);
      // a program is on a hook once: a second copy of the object (sharing the pinned map) gives a third
      const copy = loadObject('bpf/tc_counter.o', { pinPath: fx.bpffs.dir, constants: { only_dport: fx.port } });
      try {
        const third = copy.programs.get('tc_ingress')!;
        const c = net.inNs('A', () => attachTcx({ program: third, interface: net.vethA, direction: 'ingress', after: { programId: prog('tc_egress').id } }));
        q = tcxIds('ingress');
        expect(q.progIds).to.deep.equal([prog('tc_egress').id, third.id, prog('tc_ingress').id]);
        c.detach();
      } finally {
        copy.close();
      }
      // tc_egress (key 1) runs first; its TC_ACT_OK is TCX_PASS, which ends the chain (only
      // TCX_NEXT = TC_ACT_UNSPEC goes on), so tc_ingress (key 0) never sees the datagrams
      net.sendUdp({ count: 6, port: fx.port });
      expect(counter(fx.tc.maps.get('counter'), 1)).to.equal(6n);
      expect(counter(fx.tc.maps.get('counter'), 0)).to.equal(0n);
    } finally {
      a.detach();
      b.detach();
    }
    expect(tcxIds('ingress').progIds).to.deep.equal([]);
  });

  it('runs before cls_bpf filters on the same hook: its TC_ACT_OK (TCX_PASS) means cls_bpf never sees the packet', () => {
    const { net } = fx;
    const t = net.inNs('A', () => attachTc({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress' }));
    try {
      net.sendUdp({ count: 3, port: fx.port });
      expect(counter(fx.tc.maps.get('counter'), 0)).to.equal(3n);
      const x = net.inNs('A', () => attachTcx({ program: prog('tc_egress'), interface: net.vethA, direction: 'ingress' }));
      net.sendUdp({ count: 4, port: fx.port });
      expect(counter(fx.tc.maps.get('counter'), 1)).to.equal(4n);
      expect(counter(fx.tc.maps.get('counter'), 0)).to.equal(3n);
      x.detach();
      net.sendUdp({ count: 2, port: fx.port });
      expect(counter(fx.tc.maps.get('counter'), 0)).to.equal(5n);
    } finally {
      t.detach();
    }
  });

  it('detaches when the handle is closed unless the link is pinned', () => {
    const { net } = fx;
    const a = net.inNs('A', () => attachTcx({ program: prog('tc_egress'), interface: net.vethA, direction: 'egress' }));
    a.close();
    expect(tcxIds('egress').progIds).to.deep.equal([]);
    const pin = join(fx.bpffs.dir, 'tcx_link');
    const p = net.inNs('A', () => attachTcx({ program: prog('tc_egress'), interface: net.vethA, direction: 'egress' }));
    p.pin(pin);
    p.close();
    expect(tcxIds('egress').progIds).to.deep.equal([prog('tc_egress').id]);
    net.sendUdp({ count: 4, port: fx.port, from: 'A' });
    expect(counter(fx.tc.maps.get('counter'), 1)).to.equal(4n);
    unlinkSync(pin);
    // the link is freed asynchronously once its last reference (the pin) goes
    const deadline = Date.now() + 5000;
    while (tcxIds('egress').progIds.length > 0 && Date.now() < deadline) { /* poll */ }
    expect(tcxIds('egress').progIds).to.deep.equal([]);
  });

  it('detach() ends a pinned link too; a wrong anchor or program type is a typed error', () => {
    const { net } = fx;
    const pin = join(fx.bpffs.dir, 'tcx_link2');
    const p = net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress' }));
    p.pin(pin);
    p.detach();
    expect(tcxIds('ingress').progIds).to.deep.equal([]);
    expect(existsSync(pin)).to.equal(true);
    expect(() => net.inNs('A', () => attachTcx({ program: fx.xdp.programs.get('packet_counter')!, interface: net.vethA, direction: 'ingress' })))
      .to.throw(AttachArgumentError, /tcx hook takes sched_cls/);
    expect(() => net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', before: { programId: 0x7ffffff0 } })))
      .to.throw(/LINK_CREATE: ENOENT/);
    expect(() => net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', before: null as never })))
      .to.throw(AttachArgumentError, /before: an anchor is a program, a LinkAttachment, .* got null/);
    // the ends: before 'last' and after 'first' are no place (the kernel would take them as the other end)
    const at = (where: object) => () => net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', ...where }));
    expect(at({ before: 'last' })).to.throw(AttachArgumentError, /attachTcx: before: 'last' cannot be; before: 'first' or after: 'last' says where the end is/);
    expect(at({ after: 'first' })).to.throw(AttachArgumentError, /attachTcx: after: 'first' cannot be/);
    // ids the kernel cannot have given, and a detached link, before the kernel is asked
    for (const [where, msg] of [
      [{ after: { programId: 'x' } }, /after: programId must be a program id .* got x/],
      [{ before: { linkId: -5 } }, /before: linkId must be a link id .* got -5/],
      [{ before: { programId: 2 ** 32 } }, /before: programId must be a program id/],
      [{ after: p }, /after: the anchor link \(id \d+\) is detached/],
    ] as const) expect(at(where), String(msg)).to.throw(AttachArgumentError, msg);
    expect(tcxIds('ingress').progIds).to.deep.equal([]);
    for (const rev of [-1, 1.5, -1n]) {
      expect(() => net.inNs('A', () => attachTcx({ program: prog('tc_ingress'), interface: net.vethA, direction: 'ingress', expectedRevision: rev })), String(rev))
        .to.throw(AttachArgumentError, /expectedRevision must be a non-negative integer/);
    }
  });

  it('LINK_CREATE refusals say which hook, interface, program and anchor, and what usually causes them', () => {
    const { net } = fx;
    const dev = net.vethA;
    const idx = net.inNs('A', () => interfaceIndex(dev));
    const ing = prog('tc_ingress');
    const refusal = (fn: () => unknown): BpfError => {
      try { net.inNs('A', fn); } catch (e) { return e as BpfError; }
      throw new Error('no refusal');
    };
    const a = net.inNs('A', () => attachTcx({ program: ing, interface: dev, direction: 'ingress' }));
    try {
      const dup = refusal(() => attachTcx({ program: ing, interface: dev, direction: 'ingress' }));
      expect(dup).to.be.instanceOf(BpfError).and.include({ cmd: 'LINK_CREATE', errno: 'EEXIST' });
      expect(dup.message).to.equal(`LINK_CREATE: EEXIST (File exists): tcx ingress on ${dev} (ifindex ${idx}), program tc_ingress (id ${ing.id}); the program is already attached at this hook (a program goes once per hook)`);
      expect(dup.cause).to.be.instanceOf(BpfError);
      const anchored = refusal(() => attachTcx({ program: prog('tc_egress'), interface: dev, direction: 'ingress', before: { programId: 0x7ffffff0 } }));
      expect(anchored.message).to.match(new RegExp(`^LINK_CREATE: ENOENT .*: tcx ingress on ${dev} \\(ifindex ${idx}\\), program tc_egress \\(id \\d+\\) before program id ${0x7ffffff0}; the anchor is not attached at this hook$`));
      const stale = refusal(() => attachTcx({ program: prog('tc_egress'), interface: dev, direction: 'ingress', expectedRevision: 999 }));
      expect(stale.message).to.match(/^LINK_CREATE: ESTALE .*; the hook changed since revision 999 \(read it again with PROG_QUERY\)$/);
    } finally {
      a.detach();
    }
    const xp = fx.xdp.programs.get('packet_counter')!;
    const l = net.inNs('A', () => attachXdpLink({ program: xp, interface: dev, mode: 'skb' }));
    try {
      const busy = refusal(() => attachXdpLink({ program: xp, interface: dev, mode: 'skb' }));
      expect(busy.message).to.equal(`LINK_CREATE: EBUSY (Device or resource busy): xdp skb mode on ${dev} (ifindex ${idx}), program packet_counter (id ${xp.id}); a program is already attached in this mode (an XDP link, or over netlink: \`ip link set dev <if> xdp off\`)`);
      expect(refusal(() => attachXdpLink({ program: xp, interface: dev, mode: 'drv' })).message)
        .to.match(/^LINK_CREATE: EEXIST .*xdp drv mode on .*; a program is attached in the other of native and generic mode/);
    } finally {
      l.close();
    }
    expect(refusal(() => attachXdpLink({ program: xp, interface: dev, mode: 'hw' })).message)
      .to.match(/^LINK_CREATE: EINVAL .*xdp hw mode on .*; hw mode needs a NIC that offloads XDP/);
  });

  it('an XDP link owns its attachment: netlink cannot replace it, close() removes it', () => {
    const { net } = fx;
    const xp = fx.xdp.programs.get('packet_counter')!;
    const l = net.inNs('A', () => attachXdpLink({ program: xp, interface: net.vethA, mode: 'skb' }));
    try {
      expect(l.info).to.include({ kind: 'xdp-link', mode: 'skb', programId: xp.id });
      expect(ipLink(net.nsA, net.vethA).xdp?.prog?.id).to.equal(xp.id);
      expect(() => net.inNs('A', () => attachXdp({ program: xp, interface: net.vethA, mode: 'skb', replace: true })))
        .to.throw(NetlinkError, "Can't replace active BPF XDP link");
      net.sendUdp({ count: 5, port: fx.port });
      expect(counter(fx.xdp.maps.get('protocols'), 17)).to.equal(5n);
    } finally {
      l.close();
    }
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });
});
