// attachSkLookup and attachFlowDissector: the network namespace's own hooks (BPF_LINK_TYPE_NETNS).
// A python3 server in namespace A listens on one TCP port and one UDP port; this process takes its
// two sockets (pidfd_getfd) and puts them into the sk_lookup program's SOCKMAP. Clients in B then
// reach that one server on every port of a range; a port outside the range is refused, and so is
// every port once the link is detached. Flow dissectors in A and in B (RPS on the veths makes the
// receive path dissect every packet) each count their own namespace's traffic only. The kernel's
// rules are checked as it states them: errnos, defunct links, a namespace that goes away.
import { expect } from 'chai';
import { linkExists } from '../helpers/links.js';
import { portRequests } from '../../examples/lib/traffic.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { requirePrivileged } from '../helpers/privileged.js';
import { counter } from '../helpers/attach-fixtures.js';
import { createTestNetwork, ip, nsExec, waitFor, type TestNetwork } from '../helpers/netns.js';
import { loadObject, fdFromProcess, AttachArgumentError, BpfError, LinkAttachment, ProgAttachment, type Attachment, type BpfObject } from '../../lib/index.js';
import { Netns, NetnsError, inNetns } from '../../lib/netlink/index.js';
import { attachSkLookup, attachFlowDissector, queryNetns, OWN_NETNS } from '../../lib/attach/netns-link.js';
import { linkDetach } from '../../lib/syscall/link.js';
import { progAttach } from '../../lib/syscall/prog.js';
import { BPF_ATTACH_TYPE } from '../../lib/syscall/types.js';

/** stats keys of bpf/attach_sk_lookup.c */
const S = { tcpSteered: 0, udpSteered: 1, noSocket: 2, assignFailed: 3, dissected: 4, ipv4: 5, udp: 6, tcp: 7 };
/** the server's own ports, and the range steered to it (none of them the server's) */
const SERVER_PORT = 7100;
const LO = 7200;
const HI = 7263;

// one TCP listener and one UDP socket; each reply names the server's port and the port the client
// asked for (the accepted socket's local port; for UDP the datagram's original destination port,
// IP_ORIGDSTADDR, answered from a socket bound to that port so a connected client takes it)
const SERVER = `
import os, select, socket, struct, sys
port = int(sys.argv[1])
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(('0.0.0.0', port)); t.listen(64)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', port))
u.setsockopt(socket.SOL_IP, 20, 1)  # IP_RECVORIGDSTADDR
print(os.getpid(), t.fileno(), u.fileno(), flush=True)
while True:
    r, _, _ = select.select([t, u, sys.stdin], [], [])
    if sys.stdin in r and not sys.stdin.buffer.read1(64):
        break
    if t in r:
        c, _ = t.accept()
        c.sendall(b'tcp %d via %d' % (port, c.getsockname()[1]))
        c.close()
    if u in r:
        data, anc, _, peer = u.recvmsg(2048, 256)
        orig = port
        for level, kind, d in anc:
            if level == socket.SOL_IP and kind == 20:
                orig = struct.unpack('!H', d[2:4])[0]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', orig))
        s.sendto(b'udp %d via %d' % (port, orig), peer)
        s.close()
`;

const openFds = () => readdirSync('/proc/self/fd').length;

describe('attachSkLookup / attachFlowDissector (network namespace links)', function () {
  this.timeout(90_000);
  let net: TestNetwork | undefined;
  let obj: BpfObject | undefined;
  /** a second copy, for a flow dissector in B */
  let objB: BpfObject | undefined;
  let server: ChildProcess | undefined;
  let serverPid = 0;
  let fdsBefore = 0;
  const made: Attachment[] = [];
  const linkIds: number[] = [];
  const extraNs: string[] = [];

  const pathA = () => `/run/netns/${net!.nsA}`;
  const inoOf = (ns: string) => statSync(`/run/netns/${ns}`).ino;
  const stat = (o: BpfObject | undefined, k: number) => counter(o!.maps.get('stats'), k);
  const prog = (name: 'steer_range' | 'count_dissect', o = obj) => o!.programs.get(name)!;
  const keep = <T extends Attachment>(a: T): T => {
    made.push(a);
    const id = (a.info as { linkId?: number }).linkId;
    if (id) linkIds.push(id);
    return a;
  };
  /** connections from B to A, one python run: the replies in order */
  const clients = (...specs: string[]): string[] => portRequests(net!.nsB, net!.addrA, specs, 5);
  const tcp = (...ports: number[]) => clients(...ports.map((p) => `tcp:${p}`));

  before(async function () {
    requirePrivileged(this);
    fdsBefore = openFds();
    net = createTestNetwork('skl');
    try {
      // RPS on both veths: the receive path hashes (dissects) every packet in its namespace
      for (const [ns, dev] of [[net.nsA, net.vethA], [net.nsB, net.vethB]]) {
        nsExec(ns, ['sh', '-c', `echo 1 > /sys/class/net/${dev}/queues/rx-0/rps_cpus`]);
      }
      obj = loadObject('bpf/attach_sk_lookup.o', { constants: { port_lo: LO, port_hi: HI } });
      objB = loadObject('bpf/attach_sk_lookup.o');
      server = spawn('ip', ['netns', 'exec', net.nsA, 'python3', '-u', '-c', SERVER, String(SERVER_PORT)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const first = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`the server in ${net!.nsA} did not start in 10 s`)), 10_000);
        server!.stdout!.on('data', (b: Buffer) => {
          text += b.toString();
          if (text.includes('\n')) {
            clearTimeout(timer);
            resolve(text.split('\n')[0]);
          }
        });
        server!.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the server exited (${code}) before listening`));
        });
      });
      const [pid, tcpFd, udpFd] = first.trim().split(' ').map(Number);
      serverPid = pid;
      // its two sockets into the SOCKMAP; the map holds them while the server does (our copies go)
      for (const [key, fd] of [[0, tcpFd], [1, udpFd]]) {
        const sock = fdFromProcess(pid, fd);
        try {
          obj.maps.get('target')!.update(key, sock);
        } finally {
          sock.close();
        }
      }
    } catch (e) {
      cleanup();
      throw e;
    }
  });

  function cleanup(): void {
    for (const a of made.splice(0).reverse()) try { a.detach(); } catch { /* reported by the test that made it */ }
    if (server && server.exitCode === null) {
      server.stdin?.end();
      server.kill();
    }
    if (serverPid) try { process.kill(serverPid); } catch { /* gone with its stdin */ }
    obj?.close();
    objB?.close();
    obj = objB = undefined;
    for (const ns of extraNs.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
    net?.cleanup();
    net = undefined;
  }

  after(async function () {
    if (!net) return;
    const ours = [...linkIds];
    cleanup();
    // nothing of ours is left: no link, and (the server gone) no fd of this process
    expect(ours.filter(linkExists), 'links left behind').to.deep.equal([]);
    const fds = await waitFor(openFds, (n) => n <= fdsBefore, 5000);
    expect(fds, 'fds of this process').to.be.at.most(fdsBefore);
  });

  afterEach(() => {
    for (const a of made.splice(0).reverse()) a.detach();
  });

  it('sk_lookup: every port of the range reaches the one server (TCP and UDP); outside is refused; detach() refuses again', () => {
    const p = prog('steer_range');
    // before: nothing listens on the range
    expect(tcp(LO, SERVER_PORT)).to.deep.equal(['refused', `tcp ${SERVER_PORT} via ${SERVER_PORT}`]);
    const a = keep(attachSkLookup({ program: p, netns: net!.nsA }));
    expect(a).to.be.instanceOf(LinkAttachment);
    expect(a.info).to.deep.include({
      kind: 'sk_lookup', netns: pathA(), netnsIno: inoOf(net!.nsA), programId: p.id, programName: 'steer_range',
      attachType: BPF_ATTACH_TYPE.SK_LOOKUP, attachTypeName: 'sk_lookup', mode: 'link',
    });
    expect(a.info.linkId).to.be.a('number').and.above(0);
    expect(a.query()).to.include({ netnsIno: inoOf(net!.nsA), attachType: BPF_ATTACH_TYPE.SK_LOOKUP, progId: p.id });
    expect(queryNetns('sk_lookup', net!.nsA)).to.deep.equal([p.id]);
    expect(queryNetns('sk_lookup', net!.nsB)).to.deep.equal([]);

    const ports = [LO, LO + 1, LO + 17, HI];
    expect(tcp(...ports, HI + 1, LO - 1, SERVER_PORT)).to.deep.equal([
      ...ports.map((q) => `tcp ${SERVER_PORT} via ${q}`), 'refused', 'refused', `tcp ${SERVER_PORT} via ${SERVER_PORT}`,
    ]);
    expect(clients(`udp:${LO + 3}`, `udp:${HI}`, `udp:${HI + 1}`)).to.deep.equal([`udp ${SERVER_PORT} via ${LO + 3}`, `udp ${SERVER_PORT} via ${HI}`, 'refused']);
    expect([stat(obj, S.tcpSteered), stat(obj, S.udpSteered), stat(obj, S.noSocket), stat(obj, S.assignFailed)]).to.deep.equal([4n, 2n, 0n, 0n]);

    a.detach();
    expect(a.detached).to.equal(true);
    expect(queryNetns('sk_lookup', net!.nsA)).to.deep.equal([]);
    expect(tcp(LO, HI)).to.deep.equal(['refused', 'refused']);
    expect(stat(obj, S.tcpSteered)).to.equal(4n);
  });

  it('sk_lookup: several links run in order (the second sees the socket chosen: EEXIST from bpf_sk_assign); the default namespace is the caller\'s own', () => {
    const p = prog('steer_range');
    // made with this thread inside A, without `netns`: A is "the caller's own"
    const first = keep(net!.inNs('A', () => attachSkLookup({ program: p })));
    expect(first.info).to.include({ netns: OWN_NETNS, netnsIno: inoOf(net!.nsA) });
    const second = keep(attachSkLookup({ program: p, netns: pathA() }));
    expect(queryNetns('sk_lookup', net!.nsA)).to.deep.equal([p.id, p.id]);
    const before = [stat(obj, S.tcpSteered), stat(obj, S.assignFailed)];
    expect(tcp(LO + 5, LO + 6)).to.deep.equal([`tcp ${SERVER_PORT} via ${LO + 5}`, `tcp ${SERVER_PORT} via ${LO + 6}`]);
    expect([stat(obj, S.tcpSteered) - before[0], stat(obj, S.assignFailed) - before[1]]).to.deep.equal([2n, 2n]);
    // the first gone, the second steers alone
    first.detach();
    expect(tcp(LO + 7)).to.deep.equal([`tcp ${SERVER_PORT} via ${LO + 7}`]);
    expect([stat(obj, S.tcpSteered) - before[0], stat(obj, S.assignFailed) - before[1]]).to.deep.equal([3n, 2n]);
    second.detach();
    expect(tcp(LO + 7)).to.deep.equal(['refused']);
  });

  it('flow dissector: each namespace\'s program counts what that namespace receives, and only that', () => {
    const fa = keep(attachFlowDissector({ program: prog('count_dissect'), netns: net!.nsA }));
    const fb = keep(attachFlowDissector({ program: prog('count_dissect', objB), netns: net!.nsB }));
    expect(fa).to.be.instanceOf(LinkAttachment);
    expect(fa.info).to.include({ kind: 'flow_dissector', mode: 'link', netns: pathA(), netnsIno: inoOf(net!.nsA), attachTypeName: 'flow_dissector' });
    expect(queryNetns('flow_dissector', net!.nsA)).to.deep.equal([prog('count_dissect').id]);
    expect(queryNetns('flow_dissector', net!.nsB)).to.deep.equal([prog('count_dissect', objB).id]);
    const port = 9000 + (randomBytes(2).readUInt16LE() % 1000);
    net!.sendUdp({ count: 7, port });
    expect([stat(obj, S.udp), stat(objB, S.udp)]).to.deep.equal([7n, 0n]);
    net!.sendUdp({ count: 4, port, from: 'A' });
    expect([stat(obj, S.udp), stat(objB, S.udp)]).to.deep.equal([7n, 4n]);
    expect(stat(obj, S.dissected) >= 7n, 'every run is counted').to.equal(true);
    // (TCP segments carry their sender's socket hash, so RPS takes that and dissects none of them)
    fa.detach();
    fb.detach();
    net!.sendUdp({ count: 3, port });
    expect(stat(obj, S.udp)).to.equal(7n);
  });

  it('flow dissector: one per namespace (E2BIG for a second link, EEXIST for PROG_ATTACH beside a link); LINK_DETACH leaves a defunct link that detach() still ends', () => {
    const p = prog('count_dissect');
    const fa = keep(attachFlowDissector({ program: p, netns: net!.nsA, mode: 'link' }));
    const other = prog('count_dissect', objB);
    let err: unknown;
    try {
      attachFlowDissector({ program: other, netns: net!.nsA });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BpfError);
    expect((err as BpfError).errno).to.equal('E2BIG');
    expect((err as Error).message).to.contain(`flow_dissector in network namespace ${pathA()} (net:[${inoOf(net!.nsA)}])`).and.contain('one per namespace');
    // mode 'attach' would be the kernel's EEXIST: said before it is asked
    expect(() => attachFlowDissector({ program: other, netns: net!.nsA, mode: 'attach' }))
      .to.throw(AttachArgumentError, new RegExp(`has program id ${p.id} as its flow dissector already`));
    // and the kernel's own answer, asked straight
    const nsA = Netns.open(net!.nsA);
    try {
      expect(() => inNetns(nsA, 'test', () => progAttach({ targetFd: 0, progFd: other.fd.value, attachType: BPF_ATTACH_TYPE.FLOW_DISSECTOR })))
        .to.throw(BpfError, /PROG_ATTACH: EEXIST/);
      // PROG_ATTACH names no namespace fd: target_fd must be 0
      expect(() => progAttach({ targetFd: nsA.fd, progFd: other.fd.value, attachType: BPF_ATTACH_TYPE.FLOW_DISSECTOR }))
        .to.throw(BpfError, /PROG_ATTACH: EINVAL/);
    } finally {
      nsA.close();
    }
    expect(queryNetns('flow_dissector', net!.nsA)).to.deep.equal([p.id]);

    // LINK_DETACH behind the handle's back: the link is defunct (netns_ino 0), the hook empty
    linkDetach(fa.fd.value);
    expect(fa.query()).to.include({ netnsIno: 0, progId: p.id });
    expect(queryNetns('flow_dissector', net!.nsA)).to.deep.equal([]);
    expect(() => fa.update(p)).to.throw(BpfError, /LINK_UPDATE: ENOLINK/);
    fa.detach();
    expect(fa.detached).to.equal(true);
  });

  it("flow dissector through PROG_ATTACH (mode 'attach'): a ProgAttachment in A that counts A's traffic; a link beside it is EEXIST; detach() removes it", () => {
    const p = prog('count_dissect');
    const pa = keep(attachFlowDissector({ program: p, netns: net!.nsA, mode: 'attach' }));
    expect(pa).to.be.instanceOf(ProgAttachment);
    expect(pa.info).to.include({ kind: 'flow_dissector', mode: 'attach', netns: pathA(), netnsIno: inoOf(net!.nsA), programId: p.id });
    expect(pa.info.linkId).to.equal(undefined);
    expect(queryNetns('flow_dissector', net!.nsA)).to.deep.equal([p.id]);
    const before = stat(obj, S.udp);
    net!.sendUdp({ count: 5, port: 9999 });
    expect(stat(obj, S.udp) - before).to.equal(5n);
    let err: unknown;
    try {
      attachFlowDissector({ program: prog('count_dissect', objB), netns: net!.nsA, mode: 'link' });
    } catch (e) {
      err = e;
    }
    expect((err as BpfError).errno).to.equal('EEXIST');
    expect((err as Error).message).to.contain(`network namespace ${pathA()}`).and.contain('PROG_ATTACH');
    // the same program again: refused before the kernel (which says EINVAL)
    expect(() => attachFlowDissector({ program: p, netns: net!.nsA, mode: 'attach' })).to.throw(AttachArgumentError, /has this program as its flow dissector already/);
    pa.detach();
    expect(queryNetns('flow_dissector', net!.nsA)).to.deep.equal([]);
    net!.sendUdp({ count: 2, port: 9999 });
    expect(stat(obj, S.udp) - before).to.equal(5n);
  });

  it('a namespace that goes away detaches its links (netns_ino 0); detach() and close() still work', async () => {
    const name = `tsbpf-skl-gone-${randomBytes(3).toString('hex')}`;
    extraNs.push(name);
    ip('netns', 'add', name);
    const ino = inoOf(name);
    const l = keep(attachSkLookup({ program: prog('steer_range'), netns: name }));
    const f = keep(attachFlowDissector({ program: prog('count_dissect', objB), netns: name, mode: 'link' }));
    expect([l.query().netnsIno, f.query().netnsIno]).to.deep.equal([ino, ino]);
    ip('netns', 'del', name);
    extraNs.pop();
    // the namespace is freed by a kernel worker, after its last reference (none of ours) went
    const gone = await waitFor(() => [l.query().netnsIno, f.query().netnsIno], (v) => v[0] === 0 && v[1] === 0, 10_000);
    expect(gone).to.deep.equal([0, 0]);
    expect(l.info.netnsIno).to.equal(ino);
    l.detach();
    f.close();
    made.splice(0);
    expect(linkExists(l.info.linkId)).to.equal(false);
    await waitFor(() => linkExists(f.info.linkId), (v) => !v, 5000);
    expect(linkExists(f.info.linkId)).to.equal(false);
  });

  it('`tsbpf link show id N` and `bpftool link show id N` agree', () => {
    const l = keep(attachSkLookup({ program: prog('steer_range'), netns: net!.nsA }));
    const f = keep(attachFlowDissector({ program: prog('count_dissect'), netns: net!.nsA, mode: 'link' }));
    for (const a of [l, f]) {
      const id = String(a.info.linkId);
      const ours = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'link', 'show', 'id', id], { encoding: 'utf8', timeout: 30_000 });
      const theirs = spawnSync('bpftool', ['link', 'show', 'id', id], { encoding: 'utf8', timeout: 30_000 });
      expect(ours.status, ours.stderr).to.equal(0);
      expect(theirs.status, theirs.stderr).to.equal(0);
      const header = (s: string) => s.split('\n')[0];
      expect(header(ours.stdout)).to.equal(header(theirs.stdout));
      expect(header(ours.stdout)).to.match(new RegExp(`^${id}: netns  prog ${a.info.programId}`));
      expect(ours.stdout).to.equal(theirs.stdout);
      expect(ours.stdout).to.contain(`netns_ino ${inoOf(net!.nsA)}  attach_type ${a.info.kind}`);
    }
  });

  it('typed errors before the kernel: wrong program type, bad namespace, bad mode; nothing attached', () => {
    const fds = openFds();
    expect(() => attachSkLookup({ program: prog('count_dissect'), netns: net!.nsA }))
      .to.throw(AttachArgumentError, /count_dissect is of type flow_dissector; the sk_lookup hook takes sk_lookup/);
    expect(() => attachFlowDissector({ program: prog('steer_range'), netns: net!.nsA }))
      .to.throw(AttachArgumentError, /steer_range is of type sk_lookup; the flow_dissector hook takes flow_dissector/);
    expect(() => attachSkLookup({ program: prog('steer_range'), netns: 'tsbpf-no-such-netns' }))
      .to.throw(NetnsError, /network namespace \/run\/netns\/tsbpf-no-such-netns does not exist/);
    expect(() => attachFlowDissector({ program: prog('count_dissect'), netns: '/etc/hostname' }))
      .to.throw(NetnsError, /\/etc\/hostname is not a namespace file/);
    expect(() => attachSkLookup({ program: prog('steer_range'), netns: '/proc/self/ns/mnt' }))
      .to.throw(NetnsError, /is a mount namespace, not a network namespace/);
    expect(() => attachSkLookup({ program: prog('steer_range'), netns: net!.nsA, mode: 'attach' } as never))
      .to.throw(AttachArgumentError, /only through a BPF link/);
    expect(() => attachFlowDissector({ program: prog('count_dissect'), netns: net!.nsA, mode: 'tc' as never }))
      .to.throw(AttachArgumentError, /mode must be 'link' or 'attach', got tc/);
    expect(() => attachSkLookup({ program: { fd: obj!.maps.get('stats')!.fd, name: 'stats' }, netns: net!.nsA }))
      .to.throw(AttachArgumentError, /is a bpf map, not a prog|not a program/);
    expect(() => queryNetns('xdp' as never, net!.nsA)).to.throw(AttachArgumentError, /hook must be 'sk_lookup' or 'flow_dissector'/);
    expect(queryNetns('sk_lookup', net!.nsA)).to.deep.equal([]);
    expect(queryNetns('flow_dissector', net!.nsA)).to.deep.equal([]);
    expect(openFds()).to.equal(fds);
  });
});
