// examples/tcpstates.ts as a user runs it: every state change of the TCP connections the test makes
// is printed, in order, with the right addresses, ports, pids and kernel state names, for the server
// and the client side; sockets of namespaces it does not watch are not printed (and are with --all).
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';

interface Change {
  sk: string; pid: number; comm: string; laddr: string; lport: number; raddr: string; rport: number;
  from: string; to: string; ms: number;
}

const LINE = /^([0-9a-f]{16}) (\d+) +(.{10}) (\S+) +(\d+) +(\S+) +(\d+) +(\S+) +-> (\S+) +(\d+\.\d{3})$/;

function changes(run: ExampleRun): Change[] {
  return run.lines.flatMap((l) => {
    const m = LINE.exec(l);
    if (!m) return [];
    return [{
      sk: m[1], pid: Number(m[2]), comm: m[3].trim(), laddr: m[4], lport: Number(m[5]), raddr: m[6], rport: Number(m[7]),
      from: m[8], to: m[9], ms: Number(m[10]),
    }];
  });
}

/** One socket's changes: from the first record matching `first` (or all[first]), up to its "-> CLOSE". */
function chain(all: Change[], first: number | ((c: Change) => boolean)): Change[] {
  const start = typeof first === 'number' ? first : all.findIndex(first);
  if (start < 0) return [];
  const out: Change[] = [];
  for (const c of all.slice(start)) {
    if (c.sk !== all[start].sk) continue;
    out.push(c);
    if (c.to === 'CLOSE') break;
  }
  return out;
}

const states = (cs: Change[]) => [cs[0]?.from, ...cs.map((c) => c.to)];

/**
 * The client socket whose SYN_SENT -> ESTABLISHED is all[est]: from its CLOSE -> SYN_SENT (port 0
 * there, so found as the socket's last change before) to its CLOSE. Socket memory is reused: a later
 * connection may have the same address, never an overlapping one.
 */
function clientChain(all: Change[], est: number): Change[] {
  const sk = all[est].sk;
  const start = all.findLastIndex((x, i) => i < est && x.sk === sk);
  return start < 0 || all[start].to !== 'SYN_SENT' ? [all[est]] : chain(all, start);
}

// accepts connections, answers each and closes it (the active close); prints its pid when listening
const SERVER = `import socket,sys,os
s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
s.bind((sys.argv[1],int(sys.argv[2]))); s.listen(16); print(os.getpid(),flush=True)
while True:
  c,a=s.accept(); c.sendall(b'hello'); c.close()`;

// N connections one after the other, each read to the end, then closed; prints its pid, then each local port
const CLIENT = `import socket,sys,os
print(os.getpid())
for i in range(int(sys.argv[3])):
  s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5)
  print(s.getsockname()[1])
  while s.recv(4096): pass
  s.close()`;

interface Server { pid: Promise<number>; proc: ChildProcess }

function startServer(ns: string, addr: string, port: number): Server {
  const proc = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', SERVER, addr, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const pid = new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (l) => resolve(Number(l)));
    proc.once('exit', (code) => reject(new Error(`server ${addr}:${port} in ${ns} exited (${code}): ${stderr}`)));
  });
  pid.catch(() => { /* reported to whoever awaits it */ });
  return { pid, proc };
}

function connect(ns: string, addr: string, port: number, n: number): { pid: number; ports: number[] } {
  const [pid, ...ports] = nsExec(ns, ['python3', '-c', CLIENT, addr, String(port), String(n)]).trim().split('\n').map(Number);
  return { pid, ports };
}

const CLIENT_STATES = ['CLOSE', 'SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSE'];

/** Every change follows from the one before (old state = the previous new state), times in order. */
function expectConsistent(cs: Change[], what: string): void {
  for (let i = 1; i < cs.length; i++) expect(cs[i].from, `${what}: change ${i}`).to.equal(cs[i - 1].to);
  expect(cs[0].ms, `${what}: a socket's first change has no previous one`).to.equal(0);
  for (const c of cs.slice(1)) expect(c.ms, what).to.be.at.least(0).and.below(10_000);
  expect(new Set(cs.map((c) => c.sk)).size, what).to.equal(1);
}

/** The client side of a connection from laddr:lport: all its changes, as the kernel made them. */
function expectClient(all: Change[], c: { laddr: string; lport: number; raddr: string; rport: number; pid: number }): void {
  // the port is chosen after CLOSE -> SYN_SENT (printed as 0): the socket is found by its second change
  const est = all.findIndex((x) => x.from === 'SYN_SENT' && x.laddr === c.laddr && x.lport === c.lport && x.raddr === c.raddr && x.rport === c.rport);
  expect(est, `SYN_SENT -> ESTABLISHED of ${c.laddr}:${c.lport}`).to.be.at.least(0);
  const cs = clientChain(all, est);
  const what = `client ${c.laddr}:${c.lport}`;
  expect(states(cs), what).to.deep.equal(CLIENT_STATES);
  expectConsistent(cs, what);
  expect(cs[0].lport, `${what}: no port before connect() picked it`).to.equal(0);
  for (const x of cs.slice(1)) expect([x.laddr, x.lport, x.raddr, x.rport], what).to.deep.equal([c.laddr, c.lport, c.raddr, c.rport]);
  // connect() and close() run in the client process
  expect([cs[0].pid, cs[0].comm, cs[0].raddr, cs[0].rport], `${what}: connect()`).to.deep.equal([c.pid, 'python3', c.raddr, c.rport]);
  expect([cs[3].pid, cs[3].comm], `${what}: close()`).to.deep.equal([c.pid, 'python3']);
}

/** The server side of the connection from raddr:rport: the socket accept() gives, closed first by the server. */
function expectServer(all: Change[], s: { laddr: string; lport: number; raddr: string; rport: number; pid: number }): void {
  const what = `server ${s.laddr}:${s.lport} <- ${s.raddr}:${s.rport}`;
  const cs = chain(all, (x) => x.from === 'LISTEN' && x.to === 'SYN_RECV' && x.raddr === s.raddr && x.rport === s.rport);
  expect(states(cs).slice(0, 4), what).to.deep.equal(['LISTEN', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1']);
  expect(cs.at(-1)?.to, what).to.equal('CLOSE');
  expectConsistent(cs, what);
  for (const x of cs) expect([x.laddr, x.lport, x.raddr, x.rport], what).to.deep.equal([s.laddr, s.lport, s.raddr, s.rport]);
  // the server's close() is the active close
  expect([cs[2].pid, cs[2].comm], `${what}: close()`).to.deep.equal([s.pid, 'python3']);
}

/** The listening socket: CLOSE -> LISTEN at listen(), LISTEN -> CLOSE as its process exits. */
function expectListener(all: Change[], l: { laddr: string; lport: number; pid: number }): void {
  const what = `listener ${l.laddr}:${l.lport}`;
  const cs = chain(all, (x) => x.from === 'CLOSE' && x.to === 'LISTEN' && x.laddr === l.laddr && x.lport === l.lport);
  expect(states(cs), what).to.deep.equal(['CLOSE', 'LISTEN', 'CLOSE']);
  expectConsistent(cs, what);
  expect([cs[0].pid, cs[0].comm, cs[1].lport], what).to.deep.equal([l.pid, 'python3', l.lport]);
}

/** Wait until cond() holds, looking again every 50 ms, for at most ms. */
async function waitUntil(run: ExampleRun, cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`tcpstates: not ${what} within ${ms} ms; output so far:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('example tcpstates', function () {
  this.timeout(60_000);
  const nets: VethNetwork[] = [];
  const servers: Server[] = [];
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    run?.kill();
    run = undefined;
    for (const s of servers.splice(0)) s.proc.kill('SIGKILL');
    for (const n of nets.splice(0)) n.cleanup();
  });

  const network = () => {
    const n = createVethNetwork({ label: 'exts' });
    nets.push(n);
    return n;
  };
  const port = () => 20000 + Math.floor(Math.random() * 40000);

  /** N connections from nsB to a server in nsA while the example runs; returns what was made. */
  async function connections(net: VethNetwork, n: number) {
    const p = port();
    const server = startServer(net.nsA, net.addrA, p);
    servers.push(server);
    const serverPid = await server.pid;
    const client = connect(net.nsB, net.addrA, p, n);
    expect(client.ports).to.have.length(n);
    // the listener's LISTEN -> CLOSE comes as the server process exits
    const exited = new Promise((resolve) => server.proc.once('exit', resolve));
    server.proc.kill('SIGKILL');
    await exited;
    return { port: p, serverPid, client };
  }

  it('--interface: the namespace it runs in, server side only (the clients are in another namespace)', async () => {
    const net = network();
    run = runExample('tcpstates', ['--interface', net.vethA], { netns: net.nsA });
    await run.waitForLine(/^attached tcp_set_state \(tp_btf inet_sock_set_state, link\); watching network namespace \d+ \(this process's/);
    const { port: p, serverPid, client } = await connections(net, 3);
    const [a, b] = [net.addrA, net.addrB];
    await run.waitForLine(new RegExp(` ${esc(a)} +${p} +0\\.0\\.0\\.0 +0 +LISTEN +-> CLOSE `), 10_000);
    // the last connection's last change
    await run.waitForLine(new RegExp(` ${esc(a)} +${p} +${esc(b)} +${client.ports[2]} +\\S+ +-> CLOSE `), 10_000);
    expect(await run.stop()).to.equal(0);
    const all = changes(run);
    expectListener(all, { laddr: a, lport: p, pid: serverPid });
    for (const rport of client.ports) expectServer(all, { laddr: a, lport: p, raddr: b, rport, pid: serverPid });
    // nothing of nsB: its client sockets are not printed
    expect(all.filter((c) => c.laddr === b)).to.deep.equal([]);
    expect(run.lines.at(-1)).to.equal(`${all.length} state changes`);
  });

  it('--all: both sides, the client\'s too', async () => {
    const net = network();
    run = runExample('tcpstates', ['--interface', net.vethA, '--all'], { netns: net.nsA });
    await run.waitForLine(/^attached tcp_set_state .*; watching every network namespace$/);
    const { port: p, serverPid, client } = await connections(net, 2);
    const [a, b] = [net.addrA, net.addrB];
    for (const lport of client.ports) {
      await run.waitForLine(new RegExp(` ${esc(b)} +${lport} +${esc(a)} +${p} +LAST_ACK +-> CLOSE `), 10_000);
    }
    await run.waitForLine(new RegExp(` ${esc(a)} +${p} +0\\.0\\.0\\.0 +0 +LISTEN +-> CLOSE `), 10_000);
    expect(await run.stop()).to.equal(0);
    const all = changes(run);
    for (const lport of client.ports) {
      expectClient(all, { laddr: b, lport, raddr: a, rport: p, pid: client.pid });
      expectServer(all, { laddr: a, lport: p, raddr: b, rport: lport, pid: serverPid });
    }
  });

  it('says so when --interface names no interface of its namespace', async () => {
    const net = network();
    run = runExample('tcpstates', ['--interface', 'tsbpf-none0'], { netns: net.nsA });
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: no interface tsbpf-none0 in this network namespace/);
  });

  it('on its own network: both sides of its IPv4 and IPv6 demo connections, nothing of other namespaces', async () => {
    run = runExample('tcpstates', []);
    const names = await demoNamespaces(run);
    await run.waitForLine(/^attached tcp_set_state .*; watching network namespaces \d+ \(tsbpf-ex-.*-a\) and \d+ \(tsbpf-ex-.*-b\)$/);
    // connections in a namespace pair it does not watch
    const other = network();
    const elsewhere = await connections(other, 2);
    // two IPv6 connections have ended on the client side (each demo round makes IPv4, then IPv6)
    const v6Closed = /^\S+ +\d+ +.{10} 2001:\S+ +\d+ +2001:\S+ +7100 +LAST_ACK +-> CLOSE /;
    await waitUntil(run, () => run!.lines.filter((l) => v6Closed.test(l)).length >= 2, 20_000, 'two IPv6 demo connections closed');
    expect(await run.stop()).to.equal(0);
    const m = /^demo connections from \S+: (\d+) to (\S+):7100, (\d+) to \[(\S+)\]:7100$/.exec(run.lines.find((l) => l.startsWith('demo connections')) ?? '');
    expect(m, run.output()).to.not.equal(null);
    const [v4, a4, v6, a6] = [Number(m![1]), m![2], Number(m![3]), m![4]];
    expect(v4).to.be.at.least(2);
    expect(v6).to.be.at.least(2);
    const all = changes(run);
    for (const [n, addr] of [[v4, a4], [v6, a6]] as const) {
      const clients = all.flatMap((c, i) => (c.from === 'SYN_SENT' && c.raddr === addr && c.rport === 7100 ? [i] : []));
      expect(clients, addr).to.have.length(n);
      const peer = all[clients[0]].laddr;
      for (const i of clients) {
        const c = all[i];
        const what = `${c.laddr}:${c.lport}`;
        const cs = clientChain(all, i);
        expect(states(cs), what).to.deep.equal(CLIENT_STATES);
        expectConsistent(cs, what);
        const server = chain(all, (x) => x.from === 'LISTEN' && x.to === 'SYN_RECV' && x.raddr === peer && x.rport === c.lport);
        expect(states(server).slice(0, 4), what).to.deep.equal(['LISTEN', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1']);
        expect(server.at(-1)?.to, what).to.equal('CLOSE');
        expect(server.every((x) => x.laddr === addr && x.lport === 7100), what).to.equal(true);
      }
      expect(states(chain(all, (x) => x.to === 'LISTEN' && x.laddr === addr && x.lport === 7100)), addr).to.deep.equal(['CLOSE', 'LISTEN', 'CLOSE']);
    }
    // the other network's connections were made while it ran, and none of them is here
    const [oa, ob] = [other.addrA, other.addrB];
    expect(all.filter((c) => [c.laddr, c.raddr].some((x) => x === oa || x === ob) || c.lport === elsewhere.port || c.rport === elsewhere.port)).to.deep.equal([]);
    expect(run.lines.at(-1)).to.equal(`${all.length} state changes`);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
