// BPF-link attachments: TCX (ordering with before/after anchors, exact counts, detach on close
// unless pinned) and XDP links (netlink cannot replace a link-owned program).
import { expect } from 'chai';
import { join } from 'node:path';
import { existsSync, unlinkSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, counter, ipLink, type AttachFixture } from '../helpers/attach-fixtures.js';
import { attachTc, attachTcx, attachXdp, attachXdpLink, AttachArgumentError, NetlinkError, BPF_ATTACH_TYPE, interfaceIndex, loadObject } from '../../lib/index.js';
import { progQuery } from '../../lib/syscall/index.js';

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
