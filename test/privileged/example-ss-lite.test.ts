// examples/ss-lite.ts as a user runs it: its socket tables, from the iter/tcp and iter/udp walks,
// against `ss -tunae` run in the same namespaces: every row (netid, state, Recv-Q, Send-Q, local and
// peer address:port) and the inode and uid of `ss -e`, on its own demo network, for namespaces named
// with --netns (where the test makes the sockets whose struct is not a full sock: time-wait in
// FIN-WAIT-2, request sockets in SYN-RECV), and inside a namespace with --interface IF.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, leftoverNamespaces, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';

/** a row as compared: the six columns of `ss -tuna`, then ino:N and uid:N when printed */
function rowKey(line: string): string {
  const t = line.trim().split(/\s+/);
  return [...t.slice(0, 6), ...t.slice(6).filter((x) => /^(ino|uid):\d+$/.test(x)).sort()].join(' ');
}

/** `ss -tunaeH` in a namespace, rows as rowKey gives them, sorted */
function ssRows(ns: string): string[] {
  return nsExec(ns, ['ss', '-tunaeH']).split('\n').filter((l) => l.trim()).map(rowKey).sort();
}

/** the tables ss-lite printed: by the namespace of their "netns NAME:" line ('' for none), rows sorted */
function tables(lines: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let ns = '';
  let rows: string[] | undefined;
  for (const l of lines) {
    const title = /^netns (\S+):$/.exec(l);
    if (title) ns = title[1];
    else if (l.startsWith('Netid ')) rows = [];
    else if (rows && /^\d+ sockets?$/.test(l)) {
      expect(rows.length, `count line of the table of ${ns || 'this namespace'}`).to.equal(Number(l.split(' ')[0]));
      out.set(ns, rows.sort());
      rows = undefined;
    } else if (rows) rows.push(rowKey(l));
  }
  return out;
}

const cols = (key: string) => key.split(' ');

/** a python3 holder of sockets in ns (through `ip netns exec`); resolves at "ready" */
function holder(ns: string, script: string, args: (string | number)[]): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l === 'ready') resolve(); });
    child.once('exit', (code) => reject(new Error(`holder in ${ns} exited (${code}): ${stderr}`)));
    setTimeout(() => reject(new Error(`holder in ${ns} not ready within 10 s: ${stderr}`)), 10_000).unref();
  });
  return { child, ready };
}

// nsA: a listener that never accepts (P), a dual-stack IPv6 listener (P+1), UDP sockets: IPv6-only
// on :: (P+2), on ::1 (v6only by binding it, P+3), bound to device lo (P+4), on 127.0.0.1 (P+5) with
// a datagram from a connected socket waiting unread
const HOLD_A = `import socket,sys
a,P=sys.argv[1],int(sys.argv[2]); S=socket
keep=[]
def k(s): keep.append(s); return s
l=k(S.socket()); l.bind((a,P)); l.listen(8)
l6=k(S.socket(S.AF_INET6)); l6.setsockopt(S.IPPROTO_IPV6,S.IPV6_V6ONLY,0); l6.bind(('::',P+1)); l6.listen(8)
u=k(S.socket(S.AF_INET6,S.SOCK_DGRAM)); u.setsockopt(S.IPPROTO_IPV6,S.IPV6_V6ONLY,1); u.bind(('::',P+2))
u=k(S.socket(S.AF_INET6,S.SOCK_DGRAM)); u.bind(('::1',P+3))
u=k(S.socket(S.AF_INET,S.SOCK_DGRAM)); u.setsockopt(S.SOL_SOCKET,S.SO_BINDTODEVICE,b'lo'); u.bind(('0.0.0.0',P+4))
u=k(S.socket(S.AF_INET,S.SOCK_DGRAM)); u.bind(('127.0.0.1',P+5))
c=k(S.socket(S.AF_INET,S.SOCK_DGRAM)); c.connect(('127.0.0.1',P+5)); c.send(b'd'*10)
print('ready',flush=True)
sys.stdin.read()`;

// in nsA, switched to user 65534 before making it: a listener (ss -e shows uid:65534)
const HOLD_USER = `import socket,sys,os
os.setgroups([]); os.setresgid(65534,65534,65534); os.setresuid(65534,65534,65534)
l=socket.socket(); l.bind((sys.argv[1],int(sys.argv[2]))); l.listen(4)
print('ready',flush=True)
sys.stdin.read()`;

// nsB: to the listener P, one connection with 123 unread bytes and one closed at once (its end
// becomes a time-wait socket in FIN-WAIT-2, the listener's end CLOSE-WAIT); an IPv4 connection to
// the dual-stack listener (::ffff: addresses); a SYN to an address nobody answers (SYN-SENT); and a
// raw SYN to P from an address whose SYN-ACK nobody answers (a request socket: SYN-RECV)
const HOLD_B = `import socket,sys,struct,time,fcntl,termios
a,P,lost,ghost=sys.argv[1],int(sys.argv[2]),sys.argv[3],sys.argv[4]; S=socket
c1=S.create_connection((a,P),timeout=5); c1.sendall(b'x'*123)
c2=S.create_connection((a,P),timeout=5); c2.close()
c3=S.create_connection((a,P+1),timeout=5)
s=S.socket(); s.setblocking(False); s.connect_ex((lost,9))
def csum(b):
  if len(b)%2: b+=b'\\0'
  x=sum(struct.unpack('!%dH'%(len(b)//2),b)); x=(x>>16)+(x&0xffff); x+=x>>16
  return ~x&0xffff
tcp=struct.pack('!HHIIBBHHH',40000,P,12345,0,5<<4,2,65535,0,0)
tcp=tcp[:16]+struct.pack('!H',csum(S.inet_aton(ghost)+S.inet_aton(a)+struct.pack('!BBH',0,6,len(tcp))+tcp))+tcp[18:]
ip=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(tcp),1,0,64,6,0,S.inet_aton(ghost),S.inet_aton(a))
r=S.socket(S.AF_INET,S.SOCK_RAW,S.IPPROTO_RAW); r.sendto(ip+tcp,(a,0))
end=time.time()+5
while struct.unpack('I',fcntl.ioctl(c1,termios.TIOCOUTQ,b'\\0'*4))[0] and time.time()<end: time.sleep(0.01)
print('ready',flush=True)
sys.stdin.read()`;

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('example ss-lite', function () {
  this.timeout(60_000);
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; });

  it('prints the tables of both namespaces of its demo network as ss -tunae shows them', async () => {
    run = runExample('ss-lite', ['--seconds', '50', '--extended']);
    const [, nsA, addrA, nsB, addrB] = await run.waitForLine(/^demo network: (\S+) \(\S+ (\S+)\) <-> (\S+) \(\S+ (\S+)\)/);
    await run.waitForLine(/^\d+ sockets?$/);
    await until('both tables printed', () => tables(run!.lines).size === 2);
    const printed = tables(run.lines);
    // ss in the same namespaces while the example (and its sockets) runs
    expect(printed.get(nsA)).to.deep.equal(ssRows(nsA));
    expect(printed.get(nsB)).to.deep.equal(ssRows(nsB));

    // what the demo made: the unread bytes are Recv-Q, the unaccepted connections the listener's
    const a = printed.get(nsA)!.map(cols);
    const server = a.filter((r) => r[1] === 'ESTAB' && r[4] === `${addrA}:7100`);
    expect(server.map((r) => Number(r[2])).sort((x, y) => x - y)).to.deep.equal([100, 200, 300]);
    expect(server.every((r) => r[5].startsWith(`${addrB}:`) && r[3] === '0' && r.includes('ino:0'))).to.equal(true);
    expect(a.find((r) => r[1] === 'LISTEN' && r[4] === `${addrA}:7100`)?.slice(0, 6)).to.deep.equal(['tcp', 'LISTEN', '3', '16', `${addrA}:7100`, '0.0.0.0:*']);
    expect(a.filter((r) => r[1] === 'TIME-WAIT').map((r) => r[4])).to.deep.equal([`${addrA}:7101`]);
    expect(a.find((r) => r[1] === 'LISTEN' && r[4] === '*:7102')?.slice(0, 6)).to.deep.equal(['tcp', 'LISTEN', '1', '8', '*:7102', '*:*']);
    expect(a.find((r) => r[4] === '[::1]:7102')?.slice(1, 4)).to.deep.equal(['ESTAB', '64', '0']);
    expect(a.find((r) => r[0] === 'udp' && r[4] === `${addrA}:7001`)?.[1]).to.equal('UNCONN');
    expect(printed.get(nsB)!.map(cols).filter((r) => r[0] === 'tcp' && r[1] === 'ESTAB' && r[5] === `${addrA}:7100`)).to.have.length(3);

    expect(await run.stop()).to.equal(0);
    expect(leftoverNamespaces([nsA, nsB])).to.deep.equal([]);
  });

  describe('on namespaces of the test\'s own', () => {
    let net: VethNetwork;
    const held: ChildProcess[] = [];
    const P = 20000 + Math.floor(Math.random() * 30000);
    before(async function () {
      requirePrivileged(this);
      net = createVethNetwork({ label: 'exss' });
      const [lost, ghost] = [`${net.spare}.1`, `${net.spare}.2`];
      // nsA drops what it would have to forward (SYNs to `lost`), nsB the SYN-ACKs to `ghost`
      nsExec(net.nsB, ['ip', 'route', 'add', `${lost}/32`, 'via', net.addrA]);
      nsExec(net.nsA, ['ip', 'route', 'add', `${ghost}/32`, 'via', net.addrB]);
      const a = holder(net.nsA, HOLD_A, [net.addrA, P]);
      const u = holder(net.nsA, HOLD_USER, [net.addrA, P + 6]);
      held.push(a.child, u.child);
      await Promise.all([a.ready, u.ready]);
      const b = holder(net.nsB, HOLD_B, [net.addrA, P, lost, ghost]);
      held.push(b.child);
      await b.ready;
      // the states that come from packets still in flight when the holder said ready
      await until('SYN-RECV, CLOSE-WAIT in nsA and FIN-WAIT-2, SYN-SENT in nsB', () => {
        const [sa, sb] = [ssRows(net.nsA).map(cols), ssRows(net.nsB).map(cols)];
        return sa.some((r) => r[1] === 'SYN-RECV') && sa.some((r) => r[1] === 'CLOSE-WAIT') && sb.some((r) => r[1] === 'FIN-WAIT-2') && sb.some((r) => r[1] === 'SYN-SENT');
      });
    });
    after(() => {
      for (const c of held) { c.stdin?.end(); c.kill('SIGKILL'); }
      net?.cleanup();
      expect(leftoverNamespaces([net.nsA, net.nsB])).to.deep.equal([]);
    });

    it('--interface any --netns A --netns B: time-wait, request sockets, IPv6, a bound device and uids as ss shows them', async () => {
      run = runExample('ss-lite', ['--interface', 'any', '--netns', net.nsA, '--netns', net.nsB, '--extended']);
      expect(await run.exited()).to.equal(0);
      const printed = tables(run.lines);
      expect([...printed.keys()]).to.deep.equal([net.nsA, net.nsB]);
      expect(printed.get(net.nsA)).to.deep.equal(ssRows(net.nsA));
      expect(printed.get(net.nsB)).to.deep.equal(ssRows(net.nsB));

      const a = printed.get(net.nsA)!.map(cols);
      const b = printed.get(net.nsB)!.map(cols);
      const at = (rows: string[][], state: string) => rows.filter((r) => r[1] === state).map((r) => r.slice(0, 6).join(' '));
      const [lost, ghost] = [`${net.spare}.1`, `${net.spare}.2`];
      expect(at(a, 'SYN-RECV')).to.deep.equal([`tcp SYN-RECV 0 0 ${net.addrA}:${P} ${ghost}:40000`]);
      expect(at(b, 'SYN-SENT')).to.have.length(1).and.to.match(new RegExp(`^tcp SYN-SENT 0 1 ${net.addrB.replace(/\./g, '\\.')}:\\d+ ${lost.replace(/\./g, '\\.')}:9$`));
      expect(at(b, 'FIN-WAIT-2')).to.have.length(1);
      // the FIN counts in the sequence space: rcv_nxt - copied_seq is 1 on the CLOSE-WAIT end
      expect(at(a, 'CLOSE-WAIT')).to.have.length(1).and.to.match(/^tcp CLOSE-WAIT 1 0 /);
      expect(a.filter((r) => r[1] === 'ESTAB' && r[4] === `${net.addrA}:${P}`).map((r) => r[2])).to.deep.equal(['123']);
      expect(a.find((r) => r[1] === 'LISTEN' && r[4] === `${net.addrA}:${P}`)?.slice(2, 4)).to.deep.equal(['2', '8']); // c1 and the CLOSE-WAIT one wait in its accept queue
      expect(a.some((r) => r[1] === 'ESTAB' && r[4] === `[::ffff:${net.addrA}]:${P + 1}`)).to.equal(true);
      expect(a.find((r) => r[4] === `${net.addrA}:${P + 6}`)).to.include('uid:65534');
      const udp = Object.fromEntries(a.filter((r) => r[0] === 'udp').map((r) => [r[4], r.slice(1, 6)]));
      expect(udp[`[::]:${P + 2}`]).to.deep.equal(['UNCONN', '0', '0', `[::]:${P + 2}`, '[::]:*']);
      expect(udp[`[::1]:${P + 3}`]).to.deep.equal(['UNCONN', '0', '0', `[::1]:${P + 3}`, '[::]:*']);
      expect(udp[`0.0.0.0%lo:${P + 4}`]?.[0]).to.equal('UNCONN');
      expect(Number(udp[`127.0.0.1:${P + 5}`]?.[1])).to.be.greaterThan(10); // skb memory, not payload
    });

    it('--interface IF inside a namespace: only the sockets IF\'s traffic reaches', async () => {
      run = runExample('ss-lite', ['--interface', net.vethA], { netns: net.nsA });
      expect(await run.exited()).to.equal(0);
      const printed = tables(run.lines);
      expect([...printed.keys()]).to.deep.equal(['']);
      const reach = (local: string) => {
        const addr = local.slice(0, local.lastIndexOf(':'));
        if (addr.includes('%')) return addr.endsWith(`%${net.vethA}`);
        return [net.addrA, '0.0.0.0', '*', '[::]', `[::ffff:${net.addrA}]`].includes(addr);
      };
      const expected = nsExec(net.nsA, ['ss', '-tunaH']).split('\n').filter((l) => l.trim()).map(rowKey).filter((k) => reach(cols(k)[4])).sort();
      expect(printed.get('')).to.deep.equal(expected);
      const locals = printed.get('')!.map((k) => cols(k)[4]);
      expect(locals).to.include(`${net.addrA}:${P}`).and.to.include(`[::]:${P + 2}`);
      expect(locals).to.not.include(`127.0.0.1:${P + 5}`).and.to.not.include(`0.0.0.0%lo:${P + 4}`).and.to.not.include(`[::1]:${P + 3}`);
    });

    it('--watch prints the table again every 2 s; --netns without --interface is refused', async () => {
      run = runExample('ss-lite', ['--interface', 'any', '--netns', net.nsB, '--watch']);
      await run.waitForLine(/^\d+ sockets?$/);
      const first = Date.now();
      await until('a second table', () => run!.lines.filter((l) => /^\d+ sockets?$/.test(l)).length >= 2, 5000);
      expect(Date.now() - first).to.be.within(1000, 4000);
      expect(run.lines.filter((l) => /^\d\d:\d\d:\d\d$/.test(l)).length).to.be.at.least(2);
      expect(await run.stop()).to.equal(0);

      run = runExample('ss-lite', ['--netns', net.nsB]);
      expect(await run.exited()).to.equal(1);
      const names = [...run.output().matchAll(/^demo network: (\S+) \(.*\) <-> (\S+) \(/gm)].flatMap((m) => [m[1], m[2]]);
      expect(run.output()).to.match(/error: --netns goes with --interface/);
      expect(leftoverNamespaces(names)).to.deep.equal([]);
    });
  });
});
