// attachNetfilter: bpf/attach_netfilter.o on netfilter hooks of the test's own namespaces. UDP from
// B to A (and back) is counted per L4 protocol and dropped at one port; python3 receivers bound to
// both ports and /proc/net/snmp of the receiving namespace say what was delivered. The hooks are
// per namespace: the same priority is free in another one, the calling thread's namespace is the
// default, and the test's own namespace never sees the program. Defrag shows whole datagrams after
// a counting program before defragmentation saw their fragments. `tsbpf link show` is compared with
// bpftool; bad options are typed errors before the kernel is asked; no link and no fd stays.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, waitFor, type TestNetwork } from '../helpers/netns.js';
import { linksOf } from '../helpers/links.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { counter } from '../helpers/attach-fixtures.js';
import { snmp } from '../../examples/lib/netns.js';
import { loadObject, AttachArgumentError, BpfError, LinkAttachment, type BpfObject } from '../../lib/index.js';
import { NetnsError } from '../../lib/netlink/index.js';
import { attachNetfilter, NetfilterLinkAttachment, NETFILTER_PRIORITY, type AttachNetfilterOptions } from '../../lib/attach/netfilter.js';
import { getFdById, linkDetails } from '../../lib/syscall/obj.js';
import { linkDetach } from '../../lib/syscall/link.js';

const here = () => statSync('/proc/thread-self/ns/net').ino;
/** this process's fds of BPF objects (links, programs, maps) and namespaces, by what they are */
const kernelFds = () => readdirSync('/proc/self/fd').map((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return ''; // the directory fd readdir used, closed meanwhile
  }
}).filter((t) => /^anon_inode:bpf|^net:\[/.test(t)).sort();

/** Counts what arrives on each port until stdin closes, then prints {"port": n, …}. */
const RECEIVER_PY = `
import json, os, select, socket, sys
addr, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
socks = {}
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, p))
    s.setblocking(False)
    socks[s.fileno()] = (s, p)
counts = {str(p): 0 for p in ports}
print('ready', flush=True)
done = False
while not done:
    ready, _, _ = select.select(list(socks) + [0], [], [], 60)
    if not ready or 0 in ready:
        done = True
    for fd, (s, p) in socks.items():
        while True:
            try:
                s.recv(65536)
            except BlockingIOError:
                break
            counts[str(p)] += 1
print(json.dumps(counts), flush=True)
`;

interface Receiver {
  /** close its stdin and read what it counted */
  finish(): Promise<Record<string, number>>;
  kill(): void;
}

/** A python3 receiver in `ns` on addr:ports, ready (bound) when the promise resolves. */
async function startReceiver(ns: string, addr: string, ports: number[]): Promise<Receiver> {
  const child: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', RECEIVER_PY, addr, ...ports.map(String)]);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  const lineAfter = async (what: string, test: (lines: string[]) => boolean): Promise<string[]> => {
    const lines = await waitFor(() => out.split('\n').filter(Boolean), (l) => test(l) || child.exitCode !== null, 10_000);
    if (!test(lines)) {
      kill();
      throw new Error(`receiver in ${ns}: no ${what} (stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}, exit ${child.exitCode})`);
    }
    return lines;
  };
  await lineAfter('ready line', (l) => l[0] === 'ready');
  return {
    async finish() {
      child.stdin.end();
      const lines = await lineAfter('counts', (l) => l.length >= 2);
      return JSON.parse(lines[1]) as Record<string, number>;
    },
    kill,
  };
}

/** UDP to 127.0.0.1:port in this process's namespace, received there: how many of `count` arrived. */
function loopbackHere(port: number, count: number): number {
  const py = `import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(('127.0.0.1', ${port})); r.settimeout(5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(${count}): s.sendto(b'x', ('127.0.0.1', ${port}))
n = 0
try:
    while n < ${count}:
        r.recv(64); n += 1
except socket.timeout:
    pass
print(n)`;
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8', timeout: 15_000 });
  if (r.status !== 0) throw new Error(`loopback sender: ${r.stderr}`);
  return Number(r.stdout.trim());
}

interface Stats { byProto: Record<number, number>; total: number; drops: number }

function stats(o: BpfObject): Stats {
  const byProto: Record<number, number> = {};
  let total = 0;
  for (let p = 0; p < 256; p++) {
    const n = Number(counter(o.maps.get('packets'), p));
    if (n) byProto[p] = n;
    total += n;
  }
  return { byProto, total, drops: Number(counter(o.maps.get('drops'), 0)) };
}

function since(o: BpfObject, s0: Stats): Stats {
  const s = stats(o);
  const byProto: Record<number, number> = {};
  for (const [p, n] of Object.entries(s.byProto)) if (n - (s0.byProto[Number(p)] ?? 0)) byProto[Number(p)] = n - (s0.byProto[Number(p)] ?? 0);
  return { byProto, total: s.total - s0.total, drops: s.drops - s0.drops };
}

describe('attachNetfilter (netfilter BPF links)', function () {
  this.timeout(60_000);
  let net: TestNetwork;
  /** drops UDP to BLOCKED */
  let dropper: BpfObject;
  /** blocked_port 0: counts only */
  let counting: BpfObject;
  let home: number;
  let fdsAtStart: string[];
  const BLOCKED = 30000 + randomInt(20000);
  const OPEN = BLOCKED + 1;
  const prog = (o: BpfObject = dropper) => o.programs.get('nf_count_drop')!;
  const progIds = () => [prog(dropper).id, prog(counting).id];
  const stillHome = () => expect(here(), 'the thread is back in its own network namespace').to.equal(home);
  const attached: LinkAttachment[] = [];
  const attach = (o: AttachNetfilterOptions) => {
    const l = attachNetfilter(o);
    attached.push(l);
    return l;
  };
  const delivered = (ns: string) => snmp(ns, 'Udp', 'InDatagrams');

  before(function () {
    requirePrivileged(this);
    home = here();
    net = createTestNetwork('nf');
    try {
      dropper = loadObject('bpf/attach_netfilter.o', { constants: { blocked_port: BLOCKED } });
      counting = loadObject('bpf/attach_netfilter.o', { constants: { blocked_port: 0 } });
    } catch (e) {
      dropper?.close();
      net.cleanup();
      throw e;
    }
    fdsAtStart = kernelFds();
  });
  afterEach(() => {
    for (const l of attached.splice(0)) l.detach();
    stillHome();
  });
  after(() => {
    for (const l of attached.splice(0)) try { l.detach(); } catch { /* reported by the test */ }
    dropper?.close();
    counting?.close();
    net?.cleanup();
  });

  it('drops UDP to the blocked port at ipv4 input of the given namespace, counts exactly, and detach() restores delivery', async () => {
    const rx = await startReceiver(net.nsA, net.addrA, [BLOCKED, OPEN]);
    try {
      const in0 = delivered(net.nsA);
      const s0 = stats(dropper);
      const l = attach({ program: prog(), family: 'ipv4', hook: 'input', priority: 10, netns: net.nsA });
      stillHome();
      expect(l).to.be.instanceOf(NetfilterLinkAttachment).and.instanceOf(LinkAttachment);
      expect(l.info).to.deep.equal({
        kind: 'netfilter', family: 'ipv4', hook: 'input', priority: 10, defrag: false,
        linkId: l.info.linkId, programId: prog().id, programName: 'nf_count_drop', netns: `/run/netns/${net.nsA}`,
      });
      const q = l.query();
      expect(q).to.include({ type: 10, id: l.info.linkId, progId: prog().id }); // BPF_LINK_TYPE_NETFILTER
      expect(q.netfilter).to.deep.equal({ pf: 2, hooknum: 1, priority: 10, flags: 0 });

      net.sendUdp({ count: 5, port: BLOCKED });
      net.sendUdp({ count: 7, port: OPEN });
      const seen = await waitFor(() => since(dropper, s0), (s) => s.total >= 12 && s.drops >= 5);
      expect(seen).to.deep.equal({ byProto: { 17: 12 }, total: 12, drops: 5 });
      expect(await waitFor(() => delivered(net.nsA) - in0, (n) => n >= 7)).to.equal(7);

      l.detach();
      expect(l.detached).to.equal(true);
      // LINK_DETACH took the hook away at once; then the handle closed the link's fd
      net.sendUdp({ count: 4, port: BLOCKED });
      expect(await waitFor(() => delivered(net.nsA) - in0, (n) => n >= 11)).to.equal(11);
      expect(since(dropper, s0)).to.deep.equal(seen);
      expect(await rx.finish()).to.deep.equal({ [BLOCKED]: 4, [OPEN]: 7 });
    } finally {
      rx.kill();
    }
  });

  it('hooks are per namespace: the default is the calling thread\'s, the same priority is free in another, the test\'s own never sees the program', async () => {
    const a = attach({ program: prog(), family: 'ipv4', hook: 'input', priority: 10, netns: net.nsA });
    // no netns: the hook goes where the calling thread is (here inside B)
    const b = net.inNs('B', () => attach({ program: prog(), family: 'ipv4', hook: 'input', priority: 10 }));
    stillHome();
    expect(b.info.netns).to.equal(undefined);
    expect(b.query().netfilter).to.deep.equal({ pf: 2, hooknum: 1, priority: 10, flags: 0 });
    // the same priority twice in one namespace: EBUSY, wrapped with the hook and the program
    let busy: unknown;
    try {
      attach({ program: prog(), family: 'ipv4', hook: 'input', priority: 10, netns: net.nsA });
    } catch (e) {
      busy = e;
    }
    stillHome();
    expect(busy).to.be.instanceOf(BpfError).and.include({ cmd: 'LINK_CREATE', errno: 'EBUSY' });
    expect((busy as Error).message).to.equal(`LINK_CREATE: EBUSY (Device or resource busy): netfilter ipv4 input priority 10 in network namespace /run/netns/${net.nsA}, program nf_count_drop (id ${prog().id}); another hook of this namespace already has priority 10 at ipv4 input (a BPF link, or nftables, iptables, conntrack or defrag: a BPF hook needs a priority of its own); pick another`);
    expect((busy as Error).cause).to.be.instanceOf(BpfError);
    // another family or hook at that priority is another list: A's output counts without dropping
    attach({ program: prog(), family: 'ipv6', hook: 'input', priority: 10, netns: net.nsA });
    const out = attach({ program: prog(counting), family: 'ip', hook: 'NF_INET_LOCAL_OUT', priority: 10, netns: net.nsA });
    expect(out.info).to.include({ family: 'ipv4', hook: 'output' });

    const rxA = await startReceiver(net.nsA, net.addrA, [BLOCKED, OPEN]);
    const rxB = await startReceiver(net.nsB, net.addrB, [BLOCKED, OPEN]);
    try {
      const s0 = stats(dropper);
      const c0 = stats(counting);
      const inA = delivered(net.nsA);
      const inB = delivered(net.nsB);
      net.sendUdp({ count: 3, port: BLOCKED }); // B → A: A's input drops them (B's output has no hook)
      net.sendUdp({ count: 2, port: BLOCKED, from: 'A' }); // A → B: A's output counts them, B's input drops them
      net.sendUdp({ count: 4, port: OPEN, from: 'A' }); // counted at A's output and B's input, delivered
      const seen = await waitFor(() => since(dropper, s0), (s) => s.total >= 9 && s.drops >= 5);
      expect(seen).to.deep.equal({ byProto: { 17: 9 }, total: 9, drops: 5 });
      expect(since(counting, c0)).to.deep.equal({ byProto: { 17: 6 }, total: 6, drops: 0 });
      expect(await waitFor(() => delivered(net.nsB) - inB, (n) => n >= 4)).to.equal(4);
      expect(delivered(net.nsA) - inA).to.equal(0);
      // the test's own namespace: no hook, UDP to the blocked port arrives and nothing is counted
      expect(loopbackHere(BLOCKED, 3)).to.equal(3);
      expect(since(dropper, s0)).to.deep.equal(seen);
      expect(since(counting, c0).total).to.equal(6);
      expect(await rxA.finish()).to.deep.equal({ [BLOCKED]: 0, [OPEN]: 0 });
      expect(await rxB.finish()).to.deep.equal({ [BLOCKED]: 0, [OPEN]: 4 });
    } finally {
      rxA.kill();
      rxB.kill();
    }
    // NF_DROP on output fails the sender's sendto() with EPERM
    attach({ program: prog(), family: 'ipv4', hook: 'output', priority: 20, netns: net.nsA });
    expect(() => net.sendUdp({ count: 1, port: BLOCKED, from: 'A' })).to.throw(/PermissionError: \[Errno 1\] Operation not permitted/);
    net.sendUdp({ count: 1, port: OPEN, from: 'A' });
  });

  it('defrag: the program sees whole datagrams; one before defragmentation sees the fragments; defrag holds priority -400', async () => {
    // counting at -450 (before the kernel's defrag at -400), the dropper with defrag after it
    const early = attach({ program: prog(counting), family: 'ipv4', hook: 'prerouting', priority: NETFILTER_PRIORITY.rawBeforeDefrag, netns: net.nsA });
    const d = attach({ program: prog(), family: 'ipv4', hook: 'prerouting', priority: NETFILTER_PRIORITY.raw, defrag: true, netns: net.nsA });
    expect(early.info.defrag).to.equal(false);
    expect(d.info).to.include({ hook: 'prerouting', priority: -300, defrag: true });
    expect(d.query().netfilter).to.deep.equal({ pf: 2, hooknum: 0, priority: -300, flags: 1 }); // BPF_F_NETFILTER_IP_DEFRAG
    // the defrag hook the link enabled is at -400 on prerouting (and output), not on input: a BPF
    // hook there is refused like one at another BPF link's priority
    const refusal = (o: Partial<AttachNetfilterOptions>) => {
      try {
        attach({ program: prog(counting), family: 'ipv4', hook: 'prerouting', priority: -400, netns: net.nsA, ...o });
      } catch (e) {
        return e as BpfError;
      }
      throw new Error('no refusal');
    };
    expect(refusal({}).message).to.match(/^LINK_CREATE: EBUSY .*: netfilter ipv4 prerouting priority -400 in network namespace .*; another hook of this namespace already has priority -400 at ipv4 prerouting/);
    expect(refusal({ hook: 'output' }).errno).to.equal('EBUSY');
    attach({ program: prog(counting), family: 'ipv4', hook: 'input', priority: -400, netns: net.nsA }).detach();

    const rx = await startReceiver(net.nsA, net.addrA, [BLOCKED, OPEN]);
    try {
      const c0 = stats(counting);
      const s0 = stats(dropper);
      const in0 = delivered(net.nsA);
      // 3000 bytes of UDP payload over a 1500 MTU: three fragments per datagram
      net.sendUdp({ count: 2, port: BLOCKED, size: 3000 });
      net.sendUdp({ count: 2, port: OPEN, size: 3000 });
      expect(await waitFor(() => since(dropper, s0), (s) => s.total >= 4)).to.deep.equal({ byProto: { 17: 4 }, total: 4, drops: 2 });
      expect(since(counting, c0)).to.deep.equal({ byProto: { 17: 12 }, total: 12, drops: 0 });
      expect(await waitFor(() => delivered(net.nsA) - in0, (n) => n >= 2)).to.equal(2);
      expect(await rx.finish()).to.deep.equal({ [BLOCKED]: 0, [OPEN]: 2 });
    } finally {
      rx.kill();
    }
    // when the last defrag user goes, so does the defrag hook: -400 is free again
    d.detach();
    attach({ program: prog(counting), family: 'ipv4', hook: 'prerouting', priority: -400, netns: net.nsA });
  });

  it('tsbpf link show prints the netfilter hook as newer bpftool does; its header is bpftool 7.1\'s', () => {
    const plain = attach({ program: prog(), family: 'ipv4', hook: 'input', priority: 10, netns: net.nsA });
    const v6 = attach({ program: prog(), family: 'ipv6', hook: 'postrouting', priority: -100, defrag: true, netns: net.nsA });
    const run = (cmd: string, args: string[]) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, `${cmd} ${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0);
      return r.stdout;
    };
    const tsbpf = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args]);
    const pid = prog().id;
    for (const [l, line, json] of [
      [plain, '\tip input prio 10', { pf: 2, hook: 1, prio: 10, flags: 0 }],
      [v6, '\tip6 postrouting prio -100 flags 0x1', { pf: 10, hook: 4, prio: -100, flags: 1 }],
    ] as const) {
      const id = l.info.linkId;
      const text = tsbpf('link', 'show', 'id', String(id));
      expect(text).to.equal(`${id}: netfilter  prog ${pid}  \n${line}\n`);
      expect(JSON.parse(tsbpf('link', 'show', 'id', String(id), '-j'))).to.deep.equal({ id, type: 'netfilter', prog_id: pid, ...json });
      const bt = run('bpftool', ['link', 'show', 'id', String(id)]);
      // bpftool 7.1 (libbpf 1.1) knows no netfilter link: `type 10` and the header alone
      if (bt.startsWith(`${id}: netfilter `)) expect(text).to.equal(bt);
      else expect(bt).to.equal(`${text.split('\n')[0].replace('netfilter', 'type 10')}\n`);
      const bj = JSON.parse(run('bpftool', ['link', 'show', 'id', String(id), '-j']));
      expect(bj).to.include({ id, prog_id: pid });
    }
    // net show has newer bpftool's netfilter section: every netfilter link of the machine (the kernel
    // does not tell a link's namespace), by family, hook and priority; the program id as `id`
    const ours = (list: { id: number }[]) => list.filter((n) => n.id === pid);
    const shown = JSON.parse(tsbpf('net', 'show', '-j'))[0];
    expect(ours(shown.netfilter)).to.deep.equal([{ pf: 2, hook: 1, prio: 10, flags: 0, id: pid }, { pf: 10, hook: 4, prio: -100, flags: 1, id: pid }]);
    expect(ours(JSON.parse(tsbpf('net', 'show', '--netns', net.nsA, '-j'))[0].netfilter)).to.deep.equal(ours(shown.netfilter));
    const text = tsbpf('net', 'show');
    const section = text.slice(text.indexOf('\nnetfilter:\n'), text.indexOf('\ntcx:\n'));
    expect(section).to.include(`\n\tip input prio 10 prog_id ${pid}\n`).and.include(`\n\tip6 postrouting prio -100 flags 0x1 prog_id ${pid}\n`);
    expect(section.indexOf('\tip input')).to.be.lessThan(section.indexOf('\tip6 postrouting'));
  });

  it('close() ends an unpinned link; a pinned one stays until LINK_DETACH or until its pin goes; update() is refused by the kernel', async () => {
    const fs: TestBpffs = createTestBpffs();
    try {
      const opts: AttachNetfilterOptions = { program: prog(), family: 'ipv4', hook: 'forward', priority: 77, netns: net.nsA };
      const a = attachNetfilter(opts);
      const id = a.info.linkId;
      a.close();
      // freed by a kernel work item once its last fd is closed: bounded wait
      expect(await waitFor(() => linksOf(progIds()).includes(id), (v) => !v)).to.equal(false);
      const p = attach(opts); // the priority is free again
      let refused: unknown;
      try {
        p.update(prog(counting));
      } catch (e) {
        refused = e;
      }
      expect(refused).to.be.instanceOf(BpfError).and.include({ cmd: 'LINK_UPDATE', errno: 'EOPNOTSUPP' });
      expect((refused as Error).message).to.equal(`LINK_UPDATE: EOPNOTSUPP (Operation not supported): netfilter link id ${p.info.linkId} (ipv4 forward priority 77); netfilter links cannot change their program: attach the new one at another priority, then detach this one`);
      expect(p.info.programId).to.equal(prog().id);
      const pin = join(fs.dir, 'nf_link');
      p.pin(pin);
      p.close();
      expect(() => attachNetfilter(opts)).to.throw(BpfError, /EBUSY/);
      // the pin holds the link: opened again by id it is the same hook, and LINK_DETACH ends the hook
      // while the pin (and so the link) stays
      const again = getFdById('link', p.info.linkId);
      try {
        expect(linkDetails(again.value).netfilter).to.deep.equal({ pf: 2, hooknum: 2, priority: 77, flags: 0 });
        linkDetach(again.value);
      } finally {
        again.close();
      }
      attach(opts).detach();
      expect(linksOf(progIds())).to.include(p.info.linkId);
      unlinkSync(pin);
      // the link goes with its last reference, asynchronously after the unlink
      const still = await waitFor(() => linksOf(progIds()).includes(p.info.linkId), (v) => !v, 10_000);
      expect(still).to.equal(false);
    } finally {
      fs.cleanup();
    }
  });

  it('bad options are typed errors before the kernel is asked, and leave nothing behind', () => {
    const fds = kernelFds();
    const links = linksOf(progIds());
    const base: AttachNetfilterOptions = { program: prog(), family: 'ipv4', hook: 'input', priority: 10, netns: net.nsA };
    const bad = (o: Partial<Record<keyof AttachNetfilterOptions, unknown>>, msg: RegExp, cls: new (...a: never[]) => Error = AttachArgumentError) =>
      expect(() => attachNetfilter({ ...base, ...o } as AttachNetfilterOptions), msg.source).to.throw(cls, msg);
    expect(() => attachNetfilter(undefined as never)).to.throw(AttachArgumentError, /attachNetfilter: options \{ program, family, hook, priority \} are required/);
    bad({ family: 'inet' }, /attachNetfilter: family 'inet' cannot be: a netfilter link is on one family \(attach once with 'ipv4' and once with 'ipv6'\)/);
    for (const f of ['arp', 'bridge', 'netdev', 'IPv4', 2, undefined]) bad({ family: f }, /family must be 'ipv4' or 'ipv6' \(or 'ip' \/ 'ip6'; the kernel has netfilter links for no other family\), got/);
    for (const h of ['ingress', 'INPUT', 'LOCAL_IN', 1, undefined]) bad({ hook: h }, /hook must be one of 'prerouting', 'input', 'forward', 'output', 'postrouting' \(or the kernel's NF_INET_\* names\), got/);
    for (const p of [1.5, 2 ** 31, -(2 ** 31) - 1, '10', 10n, Number.NaN, undefined]) bad({ priority: p }, /priority must be a 32-bit signed integer, got/);
    bad({ priority: NETFILTER_PRIORITY.first }, /priority -2147483648 cannot be: the kernel keeps INT_MIN \(NF_IP_PRI_FIRST\) and INT_MAX \(NF_IP_PRI_LAST, conntrack confirm\) from BPF hooks; use -2147483647 or anything between/);
    bad({ priority: NETFILTER_PRIORITY.last }, /priority 2147483647 cannot be: .*; use 2147483646 or anything between/);
    for (const p of [-400, -450]) bad({ priority: p, defrag: true }, new RegExp(`priority ${p} cannot be with defrag: the program must run after defragmentation \\(NF_IP_PRI_CONNTRACK_DEFRAG, -400\\), so above -400`));
    bad({ defrag: 'yes' }, /defrag must be true or false, got "yes"/);
    const xdp = loadObject('bpf/packet_counter.o');
    try {
      bad({ program: xdp.programs.get('packet_counter') }, /attachNetfilter: program packet_counter is of type xdp; a netfilter hook takes netfilter/);
    } finally {
      xdp.close();
    }
    bad({ program: { name: 'x' } }, /program must be a loaded program/);
    bad({ netns: `tsbpf-nf-missing-${randomInt(1e9)}` }, /attachNetfilter: network namespace \/run\/netns\/tsbpf-nf-missing-\d+ does not exist/, NetnsError);
    // a closed program, checked before the namespace is opened
    const copy = loadObject('bpf/attach_netfilter.o');
    const closed = prog(copy);
    copy.close();
    bad({ program: closed }, /program nf_count_drop is closed/);
    stillHome();
    expect(linksOf(progIds())).to.deep.equal(links);
    expect(kernelFds()).to.deep.equal(fds);
  });

  it('leaves no link of its programs and no fd behind', async () => {
    for (const l of attached.splice(0)) l.detach();
    expect(await waitFor(() => linksOf(progIds()), (v) => v.length === 0)).to.deep.equal([]);
    expect(kernelFds()).to.deep.equal(fdsAtStart);
    expect(fdsAtStart.filter((t) => t.includes('bpf-link'))).to.deep.equal([]);
  });
});
