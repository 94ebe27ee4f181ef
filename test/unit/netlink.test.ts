// Exact bytes of every request tsbpf's rtnetlink client sends, and decoding of kernel replies.
// Reference: iproute2 6.1 as seen by `strace -e sendmsg -xx` (noted per request); where tsbpf
// differs on purpose the comment says how and why.
import { expect } from 'chai';
import {
  addClsactRequest, attachFilterRequest, decodeDone, decodeError, deleteClsactRequest, deleteFilterRequest,
  dumpFiltersRequest, getFilterRequest, getHookQdiscRequest, dumpLinksRequest, dumpQdiscsRequest, getLinkRequest, setXdpRequest, parseMessages, parseFilter,
  parseLink, Attrs, MessageBuilder, dumpNsidsRequest, dumpLinksInRequest, NetlinkError, NetlinkProtocolError, NetlinkEncodeError, InvalidInterfaceError, getInterface, checkInterfaceRef, NL, answersTo, AckCollector, DumpCollector, type NlMessage,
} from '../../lib/netlink/index.js';
import { TsbpfError } from '../../lib/errors.js';

const hex = (s: string) => s.replace(/\s+|#[^\n]*/g, '');
const bytes = (s: string) => Uint8Array.from(Buffer.from(hex(s), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('lib/netlink request bytes', () => {
  it('adds clsact exactly as `tc qdisc add dev X clsact` does', () => {
    expect(toHex(addClsactRequest(7).finish(1))).to.equal(hex(`
      30000000 2400 0506 01000000 00000000   # len 48, RTM_NEWQDISC, REQUEST|ACK|EXCL|CREATE, seq 1, pid 0
      00 00 0000 07000000 0000ffff f1ffffff 00000000   # tcmsg: ifindex 7, handle ffff:, parent ffff:fff1
      0b00 0100 636c7361637400 00   # TCA_KIND "clsact" (len 11, padded to 12)
    `));
  });

  it('deletes clsact exactly as `tc qdisc del dev X clsact` does', () => {
    expect(toHex(deleteClsactRequest(7).finish(2))).to.equal(hex(`
      30000000 2500 0500 02000000 00000000   # RTM_DELQDISC, REQUEST|ACK
      00 00 0000 07000000 0000ffff f1ffffff 00000000
      0b00 0100 636c7361637400 00
    `));
  });

  it('asks for the qdisc on the ingress/clsact hook of one interface, with NLM_F_ECHO (a get is answered only to an echo request)', () => {
    expect(toHex(getHookQdiscRequest(7).finish(3))).to.equal(hex(`
      24000000 2600 0d00 03000000 00000000   # len 36, RTM_GETQDISC, REQUEST|ACK|ECHO
      00 00 0000 07000000 00000000 f1ffffff 00000000   # ifindex 7, handle 0 (any), parent ffff:fff1
    `));
  });

  it('dumps the nsids of peer namespaces and the interfaces of one (where a moved interface went)', () => {
    // `ip netns list-id` sends nlmsg_len 17 (rtgenmsg unpadded); the kernel reads the same request
    expect(toHex(dumpNsidsRequest().finish(3))).to.equal(hex(`
      14000000 5a00 0103 03000000 00000000   # len 20, RTM_GETNSID, REQUEST|DUMP
      00 000000   # rtgenmsg AF_UNSPEC, padded
    `));
    expect(toHex(dumpLinksInRequest(2).finish(4))).to.equal(hex(`
      28000000 1200 0103 04000000 00000000   # len 40, RTM_GETLINK, REQUEST|DUMP
      00 00 0000 00000000 00000000 00000000   # ifinfomsg
      0800 2e00 02000000   # IFLA_TARGET_NETNSID 2
    `));
  });

  it('adds a direct-action cls_bpf filter', () => {
    // iproute2 (`tc filter add dev X ingress prio 7 handle 3 bpf da obj F sec S`) sends the same
    // header, tcmsg and attribute order; tsbpf adds NLM_F_ECHO (to read back kernel-chosen
    // priority/handle) and marks TCA_OPTIONS with NLA_F_NESTED as libbpf does.
    // TCA_CHAIN 0 goes first, where `tc filter add … chain 0` puts it
    const req = attachFilterRequest({ ifindex: 7, direction: 'ingress', progFd: 9, name: 'tc_ingress', priority: 7, handle: 3 });
    expect(toHex(req.finish(5, 0))).to.equal(hex(`
      58000000 2c00 0d06 05000000 00000000   # len 88, RTM_NEWTFILTER, REQUEST|ACK|ECHO|EXCL|CREATE
      00 00 0000 07000000 03000000 f2ffffff 00030700   # handle 3, parent ffff:fff2, info prio 7 | ETH_P_ALL(be)
      0800 0b00 00000000   # TCA_CHAIN 0
      0800 0100 62706600   # TCA_KIND "bpf"
      2400 0280   # TCA_OPTIONS | NLA_F_NESTED, 36 bytes
        0800 0600 09000000   # TCA_BPF_FD 9
        0f00 0700 74635f696e677265737300 00   # TCA_BPF_NAME "tc_ingress" (len 15, padded)
        0800 0800 01000000   # TCA_BPF_FLAGS ACT_DIRECT
    `));
  });

  it('lets the kernel choose priority and handle, and replaces with REPLACE instead of EXCL', () => {
    const auto = attachFilterRequest({ ifindex: 2, direction: 'egress', progFd: 4, name: 'x' }).finish(1);
    expect(toHex(auto.subarray(16, 36))).to.equal(hex('00 00 0000 02000000 00000000 f3ffffff 00030000'));
    const chained = attachFilterRequest({ ifindex: 2, direction: 'egress', progFd: 4, name: 'x', chain: 5 }).finish(1);
    expect(toHex(chained.subarray(36, 44))).to.equal(hex('0800 0b00 05000000'));
    const rep = attachFilterRequest({ ifindex: 2, direction: 'egress', progFd: 4, name: 'x', priority: 1, handle: 1, replace: true }).finish(1);
    expect(new DataView(rep.buffer).getUint16(6, true)).to.equal(0x1 | 0x4 | 0x8 | 0x400 | 0x100);
  });

  it('deletes a filter by chain, priority and handle', () => {
    // iproute2 `tc filter del dev X ingress chain 0 prio 7 handle 3 bpf` sends protocol 0 (any) in
    // tcm_info; tsbpf names ETH_P_ALL, the protocol it attached with. Without TCA_CHAIN the kernel
    // looks in chain 0 only, so the chain is always said
    expect(toHex(deleteFilterRequest({ ifindex: 7, direction: 'ingress', priority: 7, handle: 3 }).finish(3))).to.equal(hex(`
      34000000 2d00 0500 03000000 00000000   # len 52, RTM_DELTFILTER, REQUEST|ACK
      00 00 0000 07000000 03000000 f2ffffff 00030700
      0800 0b00 00000000   # TCA_CHAIN 0
      0800 0100 62706600
    `));
    expect(toHex(deleteFilterRequest({ ifindex: 7, direction: 'ingress', priority: 7, handle: 3, chain: 9 }).finish(3).subarray(36, 44)))
      .to.equal(hex('0800 0b00 09000000'));
  });

  it('asks for one filter by chain, priority and handle (not a dump: `tc filter get dev X ingress prio 7 handle 3 bpf`)', () => {
    expect(toHex(getFilterRequest({ ifindex: 7, direction: 'ingress', priority: 7, handle: 3, chain: 2 }).finish(3))).to.equal(hex(`
      34000000 2e00 0500 03000000 00000000   # len 52, RTM_GETTFILTER, REQUEST|ACK
      00 00 0000 07000000 03000000 f2ffffff 00030700   # handle 3, parent ffff:fff2, prio 7 | ETH_P_ALL(be)
      0800 0b00 02000000   # TCA_CHAIN 2
      0800 0100 62706600   # TCA_KIND "bpf"
    `));
  });

  it('dumps filters exactly as `tc filter show dev X ingress` does', () => {
    expect(toHex(dumpFiltersRequest(7, 'ingress').finish(4))).to.equal(hex(`
      24000000 2e00 0103 04000000 00000000   # len 36, RTM_GETTFILTER, REQUEST|DUMP
      00 00 0000 07000000 00000000 f2ffffff 00000000
    `));
    expect(toHex(dumpQdiscsRequest(7).finish(4)).slice(8, 16)).to.equal('26000103');
  });

  it('attaches XDP like `ip link set dev X xdpgeneric obj …`', () => {
    // iproute2 sends RTM_NEWLINK; tsbpf sends RTM_SETLINK (as libbpf), with NLA_F_NESTED on IFLA_XDP
    const flags = NL.XDP_FLAGS.UPDATE_IF_NOEXIST | NL.XDP_FLAGS.SKB_MODE;
    expect(toHex(setXdpRequest({ ifindex: 7, fd: 9, flags }).finish(6))).to.equal(hex(`
      34000000 1300 0500 06000000 00000000   # len 52, RTM_SETLINK, REQUEST|ACK
      00 00 0000 07000000 00000000 00000000   # ifinfomsg index 7
      1400 2b80   # IFLA_XDP | NLA_F_NESTED
        0800 0100 09000000   # IFLA_XDP_FD 9
        0800 0300 03000000   # IFLA_XDP_FLAGS UPDATE_IF_NOEXIST|SKB_MODE
    `));
  });

  it('replaces XDP only if the expected program is attached, and detaches with fd -1', () => {
    const flags = NL.XDP_FLAGS.DRV_MODE | NL.XDP_FLAGS.REPLACE;
    expect(toHex(setXdpRequest({ ifindex: 7, fd: 9, flags, expectedFd: 10 }).finish(1)).slice(64)).to.equal(hex(`
      1c00 2b80 0800 0100 09000000 0800 0300 14000000 0800 0800 0a000000   # FD 9, FLAGS DRV|REPLACE, EXPECTED_FD 10
    `));
    expect(toHex(setXdpRequest({ ifindex: 7, fd: -1, flags: NL.XDP_FLAGS.SKB_MODE }).finish(1)).slice(64)).to.equal(hex(`
      1400 2b80 0800 0100 ffffffff 0800 0300 02000000
    `));
  });

  it('asks for one link by name or index, and dumps all', () => {
    expect(toHex(getLinkRequest('vx0').finish(1))).to.equal(hex(`
      28000000 1200 0500 01000000 00000000   # len 40, RTM_GETLINK, REQUEST|ACK
      00 00 0000 00000000 00000000 00000000
      0800 0300 76783000   # IFLA_IFNAME "vx0"
    `));
    expect(toHex(getLinkRequest(5).finish(1)).slice(32 + 8, 32 + 16)).to.equal('05000000');
    // a name past IFNAMSIZ can only be an alternative name: IFLA_ALT_IFNAME, as iproute2's
    // ll_link_get sends it (the kernel cuts IFLA_IFNAME at 15 bytes and would look up another name)
    expect(toHex(getLinkRequest('a-long-alt-name-16').finish(1)).slice(64)).to.equal(hex(`
      1700 3500 612d6c6f6e672d616c742d6e616d652d313600 00   # IFLA_ALT_IFNAME (53) "a-long-alt-name-16" (len 23, padded)
    `));
    expect(toHex(getLinkRequest('x'.repeat(15)).finish(1)).slice(64, 72)).to.equal('14000300'); // IFLA_IFNAME up to 15 bytes
    expect(toHex(dumpLinksRequest().finish(1))).to.equal(hex('20000000 1200 0103 01000000 00000000 00 00 0000 00000000 00000000 00000000'));
  });

  it('refuses an attribute or a nest longer than nla_len can say, instead of wrapping its length', () => {
    // nla_len is a u16 counting its 4-byte header: 65531 bytes of payload is the most one can carry
    const fits = new MessageBuilder(1, 1).attr(7, new Uint8Array(65531)).finish(1);
    expect(new DataView(fits.buffer).getUint16(16, true)).to.equal(0xffff);
    expect(() => new MessageBuilder(1, 1).attr(7, new Uint8Array(65532))).to.throw(NetlinkEncodeError, /attribute 7 carries 65532 bytes; nla_len holds at most 65531/);
    expect(() => new MessageBuilder(1, 1).string(7, 'n'.repeat(70000))).to.throw(NetlinkEncodeError);
    // each part fits, the nest around them does not
    expect(() => new MessageBuilder(1, 1).nested(2, (b) => b.attr(1, new Uint8Array(40000)).attr(2, new Uint8Array(40000))))
      .to.throw(NetlinkEncodeError, /nested attribute 2 holds 80008 bytes/);
    // a filter name past 65531 bytes cannot smuggle attributes into the request
    expect(() => attachFilterRequest({ ifindex: 2, direction: 'ingress', progFd: 4, name: 'n'.repeat(65539) })).to.throw(NetlinkEncodeError);
    expect(new NetlinkEncodeError('x')).to.be.instanceOf(TsbpfError);
  });

  it('refuses an ifindex that would wrap in the s32 header field', () => {
    expect(() => getLinkRequest(2 ** 32 + 2)).to.throw(NetlinkEncodeError, /ifi_index 4294967298 is not a 32-bit signed integer/);
    expect(() => dumpFiltersRequest(2 ** 31, 'ingress')).to.throw(NetlinkEncodeError, /tcm_ifindex 2147483648/);
    expect(() => addClsactRequest(1.5)).to.throw(NetlinkEncodeError);
    expect(toHex(getLinkRequest(0x7fffffff).finish(1).subarray(20, 24))).to.equal('ffffff7f');
  });

  it('grows past its initial capacity and pads every attribute to 4 bytes', () => {
    const b = new MessageBuilder(1, 1, 8);
    for (let i = 0; i < 50; i++) b.string(1, 'x'.repeat(i));
    const m = b.finish(1);
    expect(m.length % 4).to.equal(0);
    expect(new DataView(m.buffer).getUint32(0, true)).to.equal(m.length);
    const a = new Attrs(m.subarray(16));
    expect(a.string(1)).to.equal('x'.repeat(49));
  });
});

/** A kernel reply, built by hand from the UAPI layout (independent of the encoder under test). */
function reply(type: number, flags: number, seq: number, pid: number, payload: Uint8Array): Uint8Array {
  const len = 16 + payload.length;
  const out = new Uint8Array((len + 3) & ~3);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true); v.setUint16(4, type, true); v.setUint16(6, flags, true); v.setUint32(8, seq, true); v.setUint32(12, pid, true);
  out.set(payload, 16);
  return out;
}

describe('lib/netlink reply decoding', () => {
  it('reads the extended-ack text and offset of a capped NLMSG_ERROR', () => {
    const payload = bytes(`
      efffffff   # error -17 (EEXIST)
      30000000 2400 0506 01000000 00000000   # the request's header only (NLM_F_CAPPED)
      2700 0100 4578636c757369766974792066 6c6167206f6e2c2063616e6e6f74206d6f6469667900 00   # MSG, 39 bytes + pad
      0800 0200 24000000   # OFFS 36
    `);
    const [m] = parseMessages(reply(2, 0x100 | 0x200, 1, 99, payload));
    expect(decodeError(m)).to.deep.equal({ code: 17, extack: 'Exclusivity flag on, cannot modify', offset: 36 });
    const e = new NetlinkError('RTM_NEWQDISC', 17, { extack: 'Exclusivity flag on, cannot modify' });
    expect(e).to.be.instanceOf(TsbpfError);
    expect(e.message).to.equal('RTM_NEWQDISC: EEXIST (File exists): kernel: Exclusivity flag on, cannot modify');
    expect(e).to.include({ errno: 'EEXIST', code: 17 });
  });

  it('skips the echoed request payload of an uncapped NLMSG_ERROR before the TLVs', () => {
    const payload = bytes(`
      eaffffff   # -22
      18000000 1300 0500 01000000 00000000 0800 0300 61626300   # whole request echoed (24 bytes)
      0c00 0100 6261642061726700   # MSG "bad arg" (7 chars + NUL)
    `);
    const [m] = parseMessages(reply(2, 0x200, 1, 1, payload));
    expect(decodeError(m)).to.deep.equal({ code: 22, extack: 'bad arg' });
  });

  it('treats error 0 as an acknowledgement and reads an error carried in NLMSG_DONE', () => {
    const [ack] = parseMessages(reply(2, 0x100, 1, 1, bytes('00000000 10000000 1200 0500 01000000 00000000')));
    expect(decodeError(ack).code).to.equal(0);
    const [done] = parseMessages(reply(3, 0x2 | 0x200, 1, 1, bytes('f9ffffff 0e00 0100 64756d70206661696c00 0000')));
    expect(decodeDone(done)).to.deep.equal({ code: 7, extack: 'dump fail' });
    const [ok] = parseMessages(reply(3, 0x2, 1, 1, bytes('00000000')));
    expect(decodeDone(ok).code).to.equal(0);
  });

  it('splits a datagram of several messages and rejects lengths that overrun it', () => {
    const a = reply(16, 2, 1, 1, new Uint8Array(16));
    const b = reply(3, 2, 1, 1, new Uint8Array(4));
    const both = new Uint8Array(a.length + b.length);
    both.set(a); both.set(b, a.length);
    expect(parseMessages(both).map((m) => m.type)).to.deep.equal([16, 3]);
    const bad = both.slice();
    new DataView(bad.buffer).setUint32(0, 1000, true);
    expect(() => parseMessages(bad)).to.throw(NetlinkProtocolError, /claims 1000 bytes/);
    expect(() => new Attrs(bytes('ff00 0100 0000'))).to.throw(NetlinkProtocolError);
    expect(() => parseLink({ type: 16, flags: 0, seq: 0, pid: 0, payload: new Uint8Array(3) })).to.throw(NetlinkProtocolError);
  });

  it('decodes a link with its XDP program ids per mode', () => {
    const payload = bytes(`
      00 00 0100 05000000 43100100 00000000   # ifinfomsg: index 5, flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
      0900 0300 7665746830000000   # IFLA_IFNAME "veth0"
      0800 0400 dc050000   # IFLA_MTU 1500
      2400 2b80   # IFLA_XDP nested
        0500 0200 04000000   # ATTACHED MULTI
        0800 0500 0b000000   # DRV_PROG_ID 11
        0800 0600 0c000000   # SKB_PROG_ID 12
        0800 0700 00000000   # HW_PROG_ID 0 (absent)
    `);
    const l = parseLink({ type: 16, flags: 0, seq: 0, pid: 0, payload });
    expect(l).to.deep.include({ index: 5, name: 'veth0', mtu: 1500, up: true });
    expect(l.xdp).to.deep.equal({ attached: 'multi', drv: 11, skb: 12 });
  });

  it('decodes a cls_bpf filter and skips the per-priority head a dump also sends', () => {
    const head = bytes('00 00 0000 02000000 00000000 f2ffffff 000300c0 0800 0100 62706600 0800 0b00 00000000');
    expect(parseFilter({ type: 44, flags: 2, seq: 0, pid: 0, payload: head }, 'ingress')).to.equal(undefined);
    const f = bytes(`
      00 00 0000 02000000 01000000 f2ffffff 000300c0   # handle 1, prio 0xc000
      0800 0100 62706600
      2c00 0280
        0800 0b00 2a000000   # TCA_BPF_ID 42
        0900 0700 6e616d6500000000   # TCA_BPF_NAME "name" (len 9, padded)
        0800 0800 01000000   # FLAGS direct action
        0c00 0a00 0102030405060708   # TAG
    `);
    expect(parseFilter({ type: 44, flags: 2, seq: 0, pid: 0, payload: f }, 'ingress')).to.deep.equal({
      ifindex: 2, direction: 'ingress', kind: 'bpf', priority: 0xc000, handle: 1, protocol: 3, chain: 0,
      directAction: true, name: 'name', progId: 42, tag: '0102030405060708',
    });
  });
});

describe('lib/netlink interface references', () => {
  // checked before any socket is opened: these run without privileges
  it('refuses, naming the argument, what cannot name an interface', () => {
    const bad: [unknown, RegExp][] = [
      [2 ** 32 + 2, /^interface lookup: 4294967298 is not an interface index; give an interface name \(1\.\.15 bytes, an alternative name up to 127\) or index/],
      [2 ** 31, /^interface lookup: 2147483648 is not an interface index/],
      [0, /0 is not an interface index/],
      [-3, /-3 is not an interface index/],
      [1.5, /1\.5 is not an interface index/],
      [NaN, /NaN is not an interface index/],
      ['veth0\0junk', /"veth0\\u0000junk" is not an interface name \(it contains a NUL byte\)/],
      ['', /"" is not an interface name \(empty\)/],
      ['x'.repeat(128), /"x{40}…" is not an interface name \(128 bytes, more than ALTIFNAMSIZ allows for an alternative name\)/],
      ['é'.repeat(64), /128 bytes/],
      [undefined, /^interface lookup: undefined is not an interface;/],
      [null, /null is not an interface/],
      [{}, /a Object is not an interface/],
      [5n, /5 is not an interface/],
    ];
    for (const [ref, msg] of bad) {
      let err: unknown;
      try { getInterface(ref as never); } catch (e) { err = e; }
      expect(err, String(ref)).to.be.instanceOf(InvalidInterfaceError).and.to.be.instanceOf(TsbpfError);
      expect((err as Error).message, String(ref)).to.match(msg);
      expect(Object.is((err as InvalidInterfaceError).interface, ref), String(ref)).to.equal(true);
    }
    expect(checkInterfaceRef('x'.repeat(15))).to.equal('x'.repeat(15));
    // longer names can be alternative names (`ip link property add dev X altname Y`): up to 127 bytes
    expect(checkInterfaceRef('x'.repeat(16))).to.equal('x'.repeat(16));
    expect(checkInterfaceRef('é'.repeat(63) + 'x')).to.equal('é'.repeat(63) + 'x');
    expect(checkInterfaceRef(0x7fffffff)).to.equal(0x7fffffff);
  });
});

describe('lib/netlink reply rules', () => {
  const msg = (type: number, flags: number, seq: number, pid: number, payload = new Uint8Array(0)): NlMessage => ({ type, flags, seq, pid, payload });
  const errPayload = (code: number) => { const b = new Uint8Array(20); new DataView(b.buffer).setInt32(0, -code, true); return b; };

  it('keeps only answers to this request: older sequence numbers dropped, wrong port or future sequence refused', () => {
    const ok = msg(16, 2, 10, 77);
    expect(answersTo([msg(16, 2, 9, 77), ok, msg(16, 2, 0xfffffff0, 77)], 77, 10, 'op')).to.deep.equal([ok]);
    expect(() => answersTo([msg(16, 2, 10, 78)], 77, 10, 'op')).to.throw(NetlinkProtocolError, /port 78/);
    expect(() => answersTo([msg(16, 2, 11, 77)], 77, 10, 'op')).to.throw(NetlinkProtocolError, /sequence 11, expected 10/);
    // sequence numbers wrap: 0xffffffff is older than 2
    expect(answersTo([msg(16, 2, 0xffffffff, 77)], 77, 2, 'op')).to.deep.equal([]);
  });

  it('collects an echo before the acknowledgement; a refusal throws NetlinkError', () => {
    const a = new AckCollector('RTM_NEWTFILTER');
    const echo = msg(44, 0, 1, 1, new Uint8Array(20));
    expect(a.feed(echo)).to.equal(false);
    expect(a.feed(msg(1, 0, 1, 1))).to.equal(false); // NLMSG_NOOP ignored
    expect(a.feed(msg(2, 0x100, 1, 1, errPayload(0)))).to.equal(true);
    expect(a.reply()).to.deep.equal({ messages: [echo] });
    expect(() => new AckCollector('X').feed(msg(2, 0x100, 1, 1, errPayload(16)))).to.throw(NetlinkError, 'X: EBUSY');
    expect(() => new AckCollector('X').feed(msg(4, 0, 1, 1))).to.throw(NetlinkProtocolError, /OVERRUN/);
  });

  it('reads a dump to NLMSG_DONE, notices NLM_F_DUMP_INTR, and throws the error a DONE carries', () => {
    const d = new DumpCollector('RTM_GETLINK');
    expect(d.feed(msg(16, 0x2, 1, 1))).to.equal(false);
    expect(d.feed(msg(16, 0x2 | 0x10, 1, 1))).to.equal(false);
    expect(d.feed(msg(3, 0x2, 1, 1, new Uint8Array(4)))).to.equal(true);
    expect(d.messages).to.have.length(2);
    expect(d.interrupted).to.equal(true);
    const done = bytes('f9ffffff 0e00 0100 64756d70206661696c00 0000'); // -E2BIG, "dump fail"
    expect(() => new DumpCollector('D').feed(msg(3, 0x2 | 0x200, 1, 1, done))).to.throw(NetlinkError, 'D: E2BIG (Argument list too long): kernel: dump fail');
    expect(() => new DumpCollector('D').feed(msg(2, 0x100, 1, 1, errPayload(22)))).to.throw(NetlinkError, 'EINVAL');
  });
});
