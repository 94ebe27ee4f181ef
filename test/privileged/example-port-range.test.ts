// examples/port-range.ts as a user runs it: on its own throwaway network (its demo connections and
// counters), and inside a test namespace with --interface (connections from the peer namespace to
// ports of the ranges reach the one server, ports outside are refused, connections to 127.0.0.1 are
// not steered unless --interface any). The server is the example process itself (tsbpf's TCP
// listener served by Node, its UDP socket read by its own recvFrom()): no child process. Afterwards
// nothing of it is left: no link, no namespace, no process.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { linkExists } from '../helpers/links.js';
import { portRequests } from '../../examples/lib/traffic.js';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';
import { waitFor } from '../helpers/netns.js';
import { queryNetns } from '../../lib/index.js';

const clients = (ns: string, addr: string, ...specs: string[]): string[] => portRequests(ns, addr, specs);

/** the pids of a process's children (its main thread's: the example's are all made there) */
const childrenOf = (pid: number): string => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();

const processExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** the link id and the server's pid the example printed (its own) */
async function started(run: ExampleRun): Promise<{ linkId: number; serverPid: number }> {
  const [, pid] = await run.waitForLine(/^server pid (\d+) listening on /);
  const [, id] = await run.waitForLine(/^attached steer_ranges \(sk_lookup, link (\d+)\) to network namespace /);
  return { linkId: Number(id), serverPid: Number(pid) };
}

/** the example's link and process are gone (the kernel frees a link from a work item: waited for, bounded) */
async function nothingLeft(s: { linkId: number; serverPid: number }): Promise<void> {
  expect(await waitFor(() => linkExists(s.linkId), (v) => !v, 5000), `link ${s.linkId} left behind`).to.equal(false);
  expect(await waitFor(() => processExists(s.serverPid), (v) => !v, 5000), `server pid ${s.serverPid} left behind`).to.equal(false);
}

/** "final RANGE steered=N no_socket=N assign_failed=N" lines → { RANGE: [steered, no_socket, assign_failed] } */
function finals(run: ExampleRun): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const l of run.lines) {
    const m = /^final (\S+) steered=(\d+) no_socket=(\d+) assign_failed=(\d+)$/.exec(l);
    if (m) out[m[1]] = m.slice(2).map(Number);
  }
  return out;
}

describe('example port-range', function () {
  this.timeout(90_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(async () => {
    // a test that failed half-way: SIGINT lets the example remove its network and server (SIGKILL if it hangs)
    const r = run;
    run = undefined;
    if (r) await r.stop(20_000).catch(() => r.kill());
    net?.cleanup();
    net = undefined;
  });

  it('runs on its own throwaway network: the demo connections to ports of both ranges reach the one server, the ports outside are refused, counted exactly', async () => {
    run = runExample('port-range', []);
    const names = await demoNamespaces(run);
    const s = await started(run);
    const [, addr] = await run.waitForLine(/^demo udp (\S+):5400: (.*)$/);
    expect(run.lines.filter((l) => /^demo (tcp|udp) /.test(l))).to.deep.equal([
      ...[8000, 8001, 8499, 8999].map((p) => `demo tcp ${addr}:${p}: tcp 7100 via ${p}`),
      `demo tcp ${addr}:9000: refused`,
      ...[5300, 5301, 5349, 5399].map((p) => `demo udp ${addr}:${p}: udp 7100 via ${p}`),
      `demo udp ${addr}:5400: refused`,
    ]);
    expect(run.lines).to.include.members(['range 8000-8999/tcp -> 0.0.0.0:7100', 'range 5300-5399/udp -> 0.0.0.0:7100']);
    // the server printed each connection and datagram it took, with the port asked for
    const served = run.lines.filter((l) => l.startsWith('served ')).map((l) => l.replace(/ to \S+$/, ''));
    expect(served.sort()).to.deep.equal([...[8000, 8001, 8499, 8999].map((p) => `served tcp port ${p}`), ...[5300, 5301, 5349, 5399].map((p) => `served udp port ${p}`)].sort());
    expect(await run.stop()).to.equal(0);
    expect(finals(run)).to.deep.equal({ '8000-8999/tcp': [4, 0, 0], '5300-5399/udp': [4, 0, 0] });
    expect(leftoverNamespaces(names)).to.deep.equal([]);
    await nothingLeft(s);
  });

  it('--interface IF: steers the ranges of the namespace it runs in for connections whose ingress interface is IF only; --interface any also 127.0.0.1; SIGINT detaches', async () => {
    const n = createVethNetwork({ label: 'expr' });
    net = n;
    const args = ['--range', '7200-7263/tcp', '--range', '7300-7309/udp', '--range', '7400-7401/tcp', '--listen', `${n.addrA}:7100`];
    // before: nothing listens on the ranges
    expect(clients(n.nsB, n.addrA, 'tcp:7200', 'udp:7300')).to.deep.equal(['refused', 'refused']);

    run = runExample('port-range', ['--interface', n.vethA, ...args], { netns: n.nsA });
    const s = await started(run);
    await run.waitForLine(new RegExp(`steering connections whose ingress interface is ${esc(n.vethA)}$`));
    // it makes no connections with --interface: a child would be a server of its own
    expect(childrenOf(s.serverPid), 'child processes of the example').to.equal('');
    expect(queryNetns('sk_lookup', n.nsA)).to.have.length(1);
    expect(queryNetns('sk_lookup', n.nsB)).to.deep.equal([]);
    expect(clients(n.nsB, n.addrA, 'tcp:7200', 'tcp:7231', 'tcp:7263', 'tcp:7264', 'tcp:7199', 'tcp:7401', 'tcp:7402', 'tcp:7100', 'udp:7300', 'udp:7309', 'udp:7310', 'tcp:7300'))
      .to.deep.equal([
        'tcp 7100 via 7200', 'tcp 7100 via 7231', 'tcp 7100 via 7263', 'refused', 'refused', 'tcp 7100 via 7401', 'refused',
        'tcp 7100 via 7100', 'udp 7100 via 7300', 'udp 7100 via 7309', 'refused', 'refused',
      ]);
    // from inside the namespace: to an address of vethA the kernel gives vethA as the ingress interface
    // (the local route's device, though the packets go over lo), so that is steered; to 127.0.0.1 not
    expect(clients(n.nsA, n.addrA, 'tcp:7210', 'udp:7301')).to.deep.equal(['tcp 7100 via 7210', 'udp 7100 via 7301']);
    expect(clients(n.nsA, '127.0.0.1', 'tcp:7211', 'udp:7302')).to.deep.equal(['refused', 'refused']);
    await run.waitForLine(new RegExp(`^served udp port 7309 to ${esc(n.addrB)}:\\d+$`));
    expect(await run.stop()).to.equal(0);
    expect(finals(run)).to.deep.equal({ '7200-7263/tcp': [4, 0, 0], '7300-7309/udp': [3, 0, 0], '7400-7401/tcp': [1, 0, 0] });
    expect(run.lines.filter((l) => /^demo (tcp|udp) /.test(l))).to.deep.equal([]);
    await nothingLeft(s);
    expect(queryNetns('sk_lookup', n.nsA)).to.deep.equal([]);
    expect(clients(n.nsB, n.addrA, 'tcp:7200', 'udp:7300', 'tcp:7100')).to.deep.equal(['refused', 'refused', 'refused']);

    // --interface any: loopback connections are steered too
    run = runExample('port-range', ['--interface', 'any', '--range', '7200-7209/tcp', '--listen', `0.0.0.0:7100`], { netns: n.nsA });
    const t = await started(run);
    await run.waitForLine(/steering connections from every interface$/);
    expect(clients(n.nsA, '127.0.0.1', 'tcp:7205', 'tcp:7210')).to.deep.equal(['tcp 7100 via 7205', 'refused']);
    expect(clients(n.nsB, n.addrA, 'tcp:7209')).to.deep.equal(['tcp 7100 via 7209']);
    expect(await run.stop(20_000, 'SIGTERM')).to.equal(0);
    expect(finals(run)).to.deep.equal({ '7200-7209/tcp': [2, 0, 0] });
    await nothingLeft(t);
    expect(queryNetns('sk_lookup', n.nsA)).to.deep.equal([]);
  });

  it('refuses bad ranges, too many ranges and an interface the namespace does not have, leaving nothing', async () => {
    run = runExample('port-range', ['--range', '9000-8000/tcp']);
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/expected FIRST-LAST\[\/tcp\|\/udp\] with 1 <= FIRST <= LAST <= 65535, got 9000-8000\/tcp/);

    run = runExample('port-range', Array.from({ length: 17 }, (_, i) => ['--range', `${9000 + i}/udp`]).flat());
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: at most 16 ranges \(the program's map has 16 slots\), got 17/);
    expect(run.output()).to.not.match(/^(server pid|attached) /m);
    expect(leftoverNamespaces(names)).to.deep.equal([]);

    const n = createVethNetwork({ label: 'expr' });
    net = n;
    run = runExample('port-range', ['--interface', 'tsbpf-no-such-if'], { netns: n.nsA });
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/tsbpf-no-such-if/);
    expect(run.output()).to.not.match(/^(server pid|attached) /m);
  });
});
