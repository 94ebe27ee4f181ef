// The link and attach layouts against the kernel, on a throwaway veth in its own namespace:
// TCX links with before/after anchors, PROG_QUERY order and revision, LINK_UPDATE, LINK_DETACH,
// link info, an XDP link, and PROG_ATTACH/DETACH through the mprog API.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, nsExec, type TestNetwork } from '../helpers/netns.js';
import * as S from '../../lib/syscall/index.js';

const u32 = (n: number) => [...new Uint8Array(new Uint32Array([n]).buffer)];
const retImm = (imm: number) => new Uint8Array([0xb7, 0, 0, 0, ...u32(imm), 0x95, 0, 0, 0, 0, 0, 0, 0]);

describe('bpf links and mprog attach (TCX, XDP)', function () {
  let net: TestNetwork | undefined;
  let ifindex = 0;
  const owned: S.Fd[] = [];
  const own = (fd: S.Fd) => { owned.push(fd); return fd; };
  const prog = (type: number, imm: number, name: string) => own(S.progLoad({ progType: type, insns: retImm(imm), license: 'GPL', name, expectedAttachType: type === S.BPF_PROG_TYPE.XDP ? S.BPF_ATTACH_TYPE.XDP : undefined }).fd);
  const query = () => net!.inNs('A', () => S.progQuery({ targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_INGRESS }));

  before(function () {
    requirePrivileged(this);
    net = createTestNetwork('sysl');
    ifindex = Number(/^(\d+):/.exec(nsExec(net.nsA, ['ip', '-o', 'link', 'show', net.vethA]))![1]);
  });
  afterEach(() => { for (const fd of owned.splice(0).reverse()) fd.close(); });
  after(() => net?.cleanup());

  it('creates TCX links in order (BPF_F_BEFORE/AFTER), queries them, updates and detaches', function () {
    const p1 = prog(S.BPF_PROG_TYPE.SCHED_CLS, 0, 'tcx_one');
    const p2 = prog(S.BPF_PROG_TYPE.SCHED_CLS, 0, 'tcx_two');
    const p3 = prog(S.BPF_PROG_TYPE.SCHED_CLS, 0, 'tcx_three');
    const id = (fd: S.Fd) => S.progInfo(fd.value).id;
    const l1 = own(net!.inNs('A', () => S.linkCreate({ progFd: p1.value, targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_INGRESS })));
    const l2 = own(net!.inNs('A', () => S.linkCreate({ progFd: p2.value, targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_INGRESS, flags: S.BPF_ATTACH_FLAG.BEFORE, relativeFd: p1.value })));
    let q = query();
    expect(q.progIds).to.deep.equal([id(p2), id(p1)]);
    const info = S.linkInfo(l1.value);
    expect(info).to.include({ type: S.BPF_LINK_TYPE.TCX, ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_INGRESS, progId: id(p1) });
    expect(q.linkIds).to.deep.equal([S.linkInfo(l2.value).id, info.id]);
    // an anchor by id, after the last one, with the revision we saw
    const l3 = own(net!.inNs('A', () => S.linkCreate({ progFd: p3.value, targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_INGRESS, flags: S.BPF_ATTACH_FLAG.AFTER | S.BPF_ATTACH_FLAG.ID, relativeId: id(p1), expectedRevision: q.revision })));
    q = query();
    expect(q.progIds).to.deep.equal([id(p2), id(p1), id(p3)]);
    // a stale revision is refused
    expect(() => net!.inNs('A', () => S.linkCreate({ progFd: p3.value, targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_INGRESS, expectedRevision: 1 }))).to.throw(S.BpfError);
    // the same program twice at one hook is EEXIST for mprog; a new one replaces in place
    expect(() => S.linkUpdate(l3.value, p2.value, { oldProgFd: p3.value })).to.throw(S.BpfError).with.property('errno', 'EEXIST');
    const p4 = prog(S.BPF_PROG_TYPE.SCHED_CLS, 0, 'tcx_four');
    S.linkUpdate(l3.value, p4.value, { oldProgFd: p3.value });
    expect(query().progIds).to.deep.equal([id(p2), id(p1), id(p4)]);
    S.linkDetach(l1.value);
    S.linkDetach(l2.value);
    S.linkDetach(l3.value);
    expect(query().progIds).to.deep.equal([]);
  });

  it('attaches through PROG_ATTACH (mprog) and detaches', () => {
    const p = prog(S.BPF_PROG_TYPE.SCHED_CLS, 0, 'tcx_attach');
    const pid = S.progInfo(p.value).id;
    net!.inNs('A', () => S.progAttach({ targetIfindex: ifindex, progFd: p.value, attachType: S.BPF_ATTACH_TYPE.TCX_EGRESS }));
    const q = net!.inNs('A', () => S.progQuery({ targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_EGRESS }));
    expect(q.progIds).to.deep.equal([pid]);
    expect(q.linkIds).to.deep.equal([0]);
    net!.inNs('A', () => S.progDetach({ targetIfindex: ifindex, progFd: p.value, attachType: S.BPF_ATTACH_TYPE.TCX_EGRESS }));
    expect(net!.inNs('A', () => S.progQuery({ targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.TCX_EGRESS })).progIds).to.deep.equal([]);
  });

  it('creates an XDP link whose info names the interface, gone with its fd', () => {
    const p = prog(S.BPF_PROG_TYPE.XDP, 2, 'xdp_pass');
    const link = net!.inNs('A', () => S.linkCreate({ progFd: p.value, targetIfindex: ifindex, attachType: S.BPF_ATTACH_TYPE.XDP }));
    try {
      expect(S.linkInfo(link.value)).to.include({ type: S.BPF_LINK_TYPE.XDP, ifindex });
      expect(nsExec(net!.nsA, ['ip', 'link', 'show', net!.vethA])).to.match(/xdp/);
      expect(S.allIds('link')).to.include(S.linkInfo(link.value).id);
    } finally {
      link.close();
    }
    expect(nsExec(net!.nsA, ['ip', 'link', 'show', net!.vethA])).to.not.match(/prog\/xdp/);
  });
});
