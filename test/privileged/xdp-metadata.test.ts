// Device-bound XDP programs (loadObject's programs.<name>.interface, Linux 6.3) and the XDP RX
// metadata kfuncs on veth, in the test's own namespaces: bpf/xdp_metadata.c records what
// rx_hash, rx_timestamp and rx_vlan_tag return for each packet, and the tests assert what this
// kernel gives (6.18) — and what it refuses a bound program, with tsbpf's messages.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, nsExec, waitFor, type TestNetwork } from '../helpers/netns.js';
import { thrown } from '../helpers/crafted-elf.js';
import {
  loadObject, readObject, attachXdp, attachXdpLink, attachTc, loadKernelBtf, BpfMap, RingBuffer, AttachArgumentError, BpfError, InterfaceNotFoundError,
  LoadError, NetlinkError, TestRunUnsupportedError, VerifierError, type Attachment, type BpfObject, type LoadObjectOptions,
} from '../../lib/index.js';
import { ExternError } from '../../lib/externs/index.js';
import { progShow } from '../../lib/cli/prog.js';

const OBJECT = 'bpf/xdp_metadata.o';
const ENODATA = -61;
const XDP_RSS_TYPE_L4_ANY = 1 << 3; // XDP_RSS_L4 (include/net/xdp.h)

/** struct meta_record of bpf/xdp_metadata.c */
interface MetaRecord {
  timestamp: bigint; timestampErr: number; hashErr: number; hash: number; rssType: number;
  vlanErr: number; vlanProto: number; vlanTci: number; ethProto: number; ipProto: number; sport: number; dport: number;
}

function decode(r: Uint8Array): MetaRecord {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  return {
    timestamp: v.getBigUint64(0, true), timestampErr: v.getInt32(8, true), hashErr: v.getInt32(12, true), hash: v.getUint32(16, true),
    rssType: v.getUint32(20, true), vlanErr: v.getInt32(24, true), vlanProto: v.getUint16(28, false), vlanTci: v.getUint16(30, true),
    ethProto: v.getUint16(32, false), ipProto: r[34], sport: v.getUint16(44, false), dport: v.getUint16(46, false),
  };
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('device-bound XDP programs and the RX metadata kfuncs (veth)', function () {
  this.timeout(30_000);
  let net: TestNetwork;
  let obj: BpfObject | undefined;
  const attached: Attachment[] = [];
  const port = 20000 + Math.floor(Math.random() * 20000);

  before(function () {
    requirePrivileged(this);
    const btf = loadKernelBtf();
    requirePrivileged(this, btf.idsByName('bpf_xdp_metadata_rx_vlan_tag', 'func').length === 0 && 'needs the XDP RX metadata kfuncs (Linux 6.8 for rx_vlan_tag)');
  });
  beforeEach(() => { net = createTestNetwork('xmd'); });
  afterEach(() => {
    for (const a of attached.splice(0).reverse()) {
      try { a.detach(); } catch { a.close(); } // the namespaces go next, with whatever is left on them
    }
    obj?.close();
    obj = undefined;
    net?.cleanup();
  });

  /** the object with xdp_metadata bound to vethA in nsA (extra options merged in) */
  const loadBound = (o: LoadObjectOptions = {}): BpfObject => {
    obj = loadObject(OBJECT, { ...o, programs: { xdp_metadata: { interface: net.vethA, netns: net.nsA } } });
    return obj;
  };
  const keep = <A extends Attachment>(a: A): A => { attached.push(a); return a; };
  const attachBound = (o: BpfObject) => keep(attachXdp({ program: o.programs.get('xdp_metadata')!, interface: net.vethA, netns: net.nsA }));

  /** UDP datagrams from nsB, each from a new socket bound to `sport` (the same flow every time) */
  const sendFrom = (sport: number, dport: number, count: number) =>
    nsExec(net.nsB, ['python3', '-c', `import socket\nfor i in range(${count}):\n s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n s.bind(('',${sport}))\n s.sendto(b'x'*16,('${net.addrA}',${dport}))\n s.close()`]);

  /** the records of UDP datagrams to `dport`, once there are `n` of them (all records read so far are kept) */
  const seen: MetaRecord[] = [];
  async function recordsTo(o: BpfObject, dport: number, n: number): Promise<MetaRecord[]> {
    const rb = new RingBuffer(o.maps.get('records')!);
    try {
      const got = await waitFor(() => {
        rb.consume((r) => { seen.push(decode(r)); });
        return seen.filter((r) => r.ipProto === 17 && r.dport === dport);
      }, (rs) => rs.length >= n);
      expect(got).to.have.length(n);
      return got;
    } finally {
      rb.close();
    }
  }
  afterEach(() => { seen.length = 0; });

  it('loads bound to the veth by name in its namespace; boundTo says where, the kernel\'s prog_info does not, and prog show matches bpftool', () => {
    const o = loadBound();
    const p = o.programs.get('xdp_metadata')!;
    const ifindex = Number(nsExec(net.nsA, ['cat', `/sys/class/net/${net.vethA}/ifindex`]).trim());
    expect(p.boundTo).to.deep.equal({ ifindex, interface: net.vethA, netns: `/run/netns/${net.nsA}` });
    const info = p.info();
    expect(info.boundTo).to.deep.equal(p.boundTo);
    // Linux fills prog_info.ifindex (and netns_dev/ino) for offloaded programs only, not device-bound ones
    expect(info).to.include({ ifindex: 0, netnsIno: 0n });
    // so bpftool 7.1 prints nothing of the binding either, and `tsbpf prog show` prints what it prints
    expect(progShow(['id', String(p.id)], {})).to.equal(execFileSync('bpftool', ['prog', 'show', 'id', String(p.id)], { encoding: 'utf8' }));
    expect(JSON.parse(progShow(['id', String(p.id)], { json: true }))).to.deep.equal(JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(p.id)], { encoding: 'utf8' })));
    // the other programs of the object are loaded as usual
    expect(o.programs.get('xdp_bounce')!.boundTo).to.equal(undefined);
    // by index too, looked up in the namespace
    const byIndex = loadObject(OBJECT, { programs: { xdp_metadata: { interface: ifindex, netns: net.nsA } } });
    try {
      expect(byIndex.programs.get('xdp_metadata')!.boundTo).to.deep.equal(p.boundTo);
    } finally {
      byIndex.close();
    }
  });

  it('rx_hash: 0 and the stack\'s own flow hash (what TC sees without XDP), one per flow, of L4 type', async () => {
    const o = loadBound();
    // first without XDP: the hash the stack computes for flow 1 (bpf_get_hash_recalc in TC)
    const tc = keep(attachTc({ program: o.programs.get('tc_flow_hash')!, interface: net.vethA, netns: net.nsA, direction: 'ingress' }));
    sendFrom(41001, port, 1);
    const hashes = o.maps.get('tc_hashes')!;
    const stackHash = await waitFor(() => hashes.lookup(((41001 << 16) | port) >>> 0) as number | undefined, (h) => h !== undefined);
    expect(stackHash).to.be.a('number').and.not.equal(0);
    tc.detach();
    attachBound(o);
    sendFrom(41001, port, 3);
    sendFrom(41002, port, 3);
    const rs = await recordsTo(o, port, 6);
    for (const r of rs) expect(r).to.include({ hashErr: 0, rssType: XDP_RSS_TYPE_L4_ANY });
    const flow1 = rs.filter((r) => r.sport === 41001).map((r) => r.hash);
    const flow2 = rs.filter((r) => r.sport === 41002).map((r) => r.hash);
    expect(flow1).to.deep.equal([stackHash, stackHash, stackHash]);
    expect(new Set(flow2).size).to.equal(1);
    expect(flow2[0]).to.not.equal(0).and.not.equal(stackHash); // 2^-32 to be equal by chance
  });

  it('rx_timestamp: 0 with timestamp 0 for skbs from the peer (veth reads the skb\'s hardware timestamp: none); rx_vlan_tag: ENODATA untagged', async () => {
    const o = loadBound();
    attachBound(o);
    net.sendUdp({ count: 2, port });
    for (const r of await recordsTo(o, port, 2)) {
      expect(r).to.include({ timestampErr: 0, timestamp: 0n, vlanErr: ENODATA, vlanProto: 0, vlanTci: 0, ethProto: 0x0800 });
    }
  });

  it('rx_vlan_tag: the tag the sender put in the skb\'s metadata (as a VLAN device on an offloading NIC does), 802.1Q, priority bits included', async () => {
    const tci = (5 << 13) | 100; // PCP 5, VLAN 100
    const o = loadBound({ constants: { vlan_dport: port, vlan_tci: tci } });
    attachBound(o);
    keep(attachTc({ program: o.programs.get('tc_vlan_push')!, interface: net.vethB, netns: net.nsB, direction: 'egress' }));
    net.sendUdp({ count: 2, port });
    for (const r of await recordsTo(o, port, 2)) {
      // the tag is not in the frame the program sees: its EtherType is IPv4's
      expect(r).to.include({ vlanErr: 0, vlanProto: 0x8100, vlanTci: tci, ethProto: 0x0800, hashErr: 0 });
    }
  });

  it('XDP frames the peer sent back with XDP_TX have no skb: every kfunc says ENODATA', async () => {
    const o = loadBound({ constants: { bounce_dport: port } });
    attachBound(o);
    keep(attachXdp({ program: o.programs.get('xdp_bounce')!, interface: net.vethB, netns: net.nsB }));
    net.sendUdp({ from: 'A', count: 2, port });
    for (const r of await recordsTo(o, port, 2)) {
      expect(r).to.include({ timestampErr: ENODATA, hashErr: ENODATA, vlanErr: ENODATA, hash: 0, timestamp: 0n });
    }
  });

  it('attaches only to its device in native mode: other devices and generic mode are refused, naming the device', () => {
    const o = loadBound();
    const p = o.programs.get('xdp_metadata')!;
    const bound = `${net.vethA} (ifindex ${p.boundTo!.ifindex}) in network namespace /run/netns/${net.nsA}`;
    const other = thrown(() => keep(attachXdp({ program: p, interface: net.vethB, netns: net.nsB })));
    expect(other).to.be.instanceOf(NetlinkError).and.include({ errno: 'EINVAL', extack: 'Program bound to different device' });
    expect(other.message).to.contain(`program xdp_metadata is bound to ${bound} and attaches only there`);
    const link = thrown(() => keep(attachXdpLink({ program: p, interface: net.vethB, netns: net.nsB })));
    expect(link).to.be.instanceOf(BpfError).and.include({ errno: 'EINVAL' });
    expect(link.message).to.contain(`program xdp_metadata is bound to ${bound} and attaches only there`);
    // generic mode: refused before the kernel is asked (it would say "Can't attach device-bound programs in generic mode")
    for (const f of [() => attachXdp({ program: p, interface: net.vethA, netns: net.nsA, mode: 'skb' }), () => attachXdpLink({ program: p, interface: net.vethA, netns: net.nsA, mode: 'skb' })]) {
      const e = thrown(() => keep(f()));
      expect(e).to.be.instanceOf(AttachArgumentError);
      expect(e.message).to.contain(`program xdp_metadata is bound to ${bound}: a device-bound program attaches in native (drv) mode only`);
    }
    // the same refusal where tsbpf does not know the binding (a program from its id): the kernel's words
    const anonymous = { fd: p.fd, name: 'xdp_metadata' };
    const skb = thrown(() => keep(attachXdp({ program: anonymous, interface: net.vethA, netns: net.nsA, mode: 'skb' })));
    expect(skb).to.be.instanceOf(NetlinkError).and.include({ extack: "Can't attach device-bound programs in generic mode" });
    // 'auto' on another device does not fall back to generic mode (where the refusal would hide this one)
    const auto = thrown(() => keep(attachXdp({ program: anonymous, interface: net.vethB, netns: net.nsB, mode: 'auto' })));
    expect(auto).to.be.instanceOf(NetlinkError).and.include({ extack: 'Program bound to different device' });
    expect(auto.message).to.contain('program xdp_metadata was loaded bound to another device (the kernel does not say which)');
    // its own device in native mode, over netlink and as a link; 'auto' stays native
    const a = keep(attachXdp({ program: p, interface: net.vethA, netns: net.nsA, mode: 'auto' }));
    expect(a.info).to.include({ mode: 'drv', requestedMode: 'auto' });
    a.detach();
    keep(attachXdpLink({ program: p, interface: net.vethA, netns: net.nsA })).detach();
  });

  it('the kernel takes a bound program in no test run, prog array or devmap', () => {
    const o = loadBound();
    const p = o.programs.get('xdp_metadata')!;
    const run = thrown(() => p.testRun({ data: new Uint8Array(64) }));
    expect(run).to.be.instanceOf(TestRunUnsupportedError);
    expect(run.message).to.contain(`a program bound to a device (${net.vethA}, ifindex ${p.boundTo!.ifindex}) has no test run`);
    // maps take the program's fd: the kernel's own refusals
    const fdValue = new Uint8Array(new Uint32Array([p.fd.value]).buffer);
    const progArray = BpfMap.create({ type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const devmap = BpfMap.create({ type: 'devmap', keySize: 4, valueSize: 8, maxEntries: 1 });
    try {
      expect(thrown(() => progArray.update(0, fdValue))).to.be.instanceOf(BpfError).and.include({ errno: 'EINVAL' });
      expect(thrown(() => devmap.update(0, new Uint8Array(new Uint32Array([p.boundTo!.ifindex, p.fd.value]).buffer)))).to.be.instanceOf(BpfError).and.include({ errno: 'EINVAL' });
    } finally {
      progArray.close();
      devmap.close();
    }
  });

  it('unbound, the verifier refuses it, and the error names the metadata kfuncs it calls', () => {
    const before = openFds();
    const e = thrown(() => loadObject(OBJECT));
    expect(e).to.be.instanceOf(VerifierError).and.include({ errno: 'EINVAL' });
    expect((e as VerifierError).log).to.contain('metadata kfuncs require device-bound program');
    expect(e.message).to.contain('program xdp_metadata (section xdp, xdp); it calls bpf_xdp_metadata_rx_timestamp, bpf_xdp_metadata_rx_hash, bpf_xdp_metadata_rx_vlan_tag, which only a program loaded bound to its network device may call');
    expect(openFds()).to.equal(before);
  });

  it('typed errors before anything is made: a missing interface, the wrong namespace, a kernel without the kfuncs', () => {
    const before = openFds();
    const missing = thrown(() => loadObject(OBJECT, { programs: { xdp_metadata: { interface: 'tsbpfnope0', netns: net.nsA } } }));
    expect(missing).to.be.instanceOf(InterfaceNotFoundError).and.include({ interface: 'tsbpfnope0', netns: `/run/netns/${net.nsA}` });
    expect(missing.message).to.equal(`loadObject programs.xdp_metadata.interface: ENODEV (No such device): no interface "tsbpfnope0" in network namespace /run/netns/${net.nsA}`);
    // vethA is not in this thread's namespace
    expect(thrown(() => loadObject(OBJECT, { programs: { xdp_metadata: { interface: net.vethA } } }))).to.be.instanceOf(InterfaceNotFoundError);
    // kernel BTF without the kfuncs (another object's): one is named, with the kernel that brought it
    const old = thrown(() => loadObject(OBJECT, { kernelBtf: readObject('bpf/xdp_hello.o').source.btf!, programs: { xdp_metadata: { interface: net.vethA, netns: net.nsA } } }));
    expect(old).to.be.instanceOf(ExternError).and.include({ kind: 'kfunc' });
    expect((old as ExternError).extern).to.match(/^bpf_xdp_metadata_rx_(hash|timestamp|vlan_tag)$/);
    expect(old.message).to.match(/no such function in the kernel's BTF \(vmlinux or modules\) \(it came with Linux 6\.[38]\)/);
    expect(openFds()).to.equal(before);
  });

  it('a device without native XDP is refused by the kernel (EOPNOTSUPP), said so, and the maps made are released', () => {
    const before = openFds();
    const e = thrown(() => loadObject(OBJECT, { programs: { xdp_metadata: { interface: 'lo', netns: net.nsA } } }));
    expect(e).to.be.instanceOf(LoadError).and.include({ program: 'xdp_metadata' });
    expect(e.message).to.contain(`EOPNOTSUPP (Operation not supported): xdp program xdp_metadata; binding to lo (ifindex 1) in network namespace /run/netns/${net.nsA} was asked: the kernel refuses it (EOPNOTSUPP) because the interface's driver has no native XDP support`);
    expect(openFds()).to.equal(before);
  });
});
