// examples/nf-firewall.ts as a user runs it: per-rule and total counters printed exactly as the
// traffic sent hit the rules (source prefix, UDP and TCP destination ports), denied datagrams never
// delivered (receivers and Udp InDatagrams of the namespace), --interface keeping to one interface,
// --hook/--priority on the link the kernel lists, a taken priority refused, and nothing left after
// the example exits: no netfilter link, no program, no namespace.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { waitFor } from '../helpers/netns.js';
import { createVethNetwork, nsExec, snmp, type VethNetwork } from '../../examples/lib/netns.js';
import { sendUdp, startUdpServer, type UdpServer } from '../../examples/lib/traffic.js';

interface Counts { packets: number; bytes: number }
interface Block { accepted: Counts; dropped: Counts; other?: number; rules: Record<string, Counts> }

const HEAD = /^(\S+) accepted packets=(\d+) bytes=(\d+) dropped packets=(\d+) bytes=(\d+)(?: other-interfaces packets=(\d+))?$/;
const RULE = /^ {2}rule \d+ (.+?)\s+packets=(\d+) bytes=(\d+)$/;

/** the last block of counters printed under `label` ('final', or any with undefined) */
function lastBlock(lines: readonly string[], label?: string): Block | undefined {
  const start = lines.findLastIndex((l) => { const m = HEAD.exec(l); return m !== null && (label === undefined || m[1] === label); });
  if (start < 0) return undefined;
  const h = HEAD.exec(lines[start])!;
  const block: Block = {
    accepted: { packets: Number(h[2]), bytes: Number(h[3]) },
    dropped: { packets: Number(h[4]), bytes: Number(h[5]) },
    ...(h[6] === undefined ? {} : { other: Number(h[6]) }),
    rules: {},
  };
  for (const l of lines.slice(start + 1)) {
    const r = RULE.exec(l);
    if (!r) break;
    block.rules[r[1]] = { packets: Number(r[2]), bytes: Number(r[3]) };
  }
  return block;
}

/** the example's netfilter links as `tsbpf link show -j` lists them (bpftool 7.1 does not know the type) */
function netfilterLinks(): { id: number; prog_id: number; pf: number; hook: number; prio: number; flags: number }[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'link', 'show', '-j'], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, `tsbpf link show: ${r.stderr}`).to.equal(0);
  return (JSON.parse(r.stdout) as { type: string; id: number; prog_id: number; pf: number; hook: number; prio: number; flags: number }[]).filter((l) => l.type === 'netfilter');
}

/** ids of the programs named nf_firewall the kernel has */
function firewallPrograms(): number[] {
  const r = spawnSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, `bpftool prog show: ${r.stderr}`).to.equal(0);
  return (JSON.parse(r.stdout) as { id: number; name?: string }[]).filter((p) => p.name === 'nf_firewall').map((p) => p.id);
}

/** the link id from the "attached" line */
async function attached(run: ExampleRun): Promise<number> {
  return Number((await run.waitForLine(/^attached nf_firewall \(netfilter .*, link id (\d+);/))[1]);
}

/** after the example: its link and its program are gone (the kernel frees links from a work item) */
async function nothingLeft(linkId: number): Promise<void> {
  const links = await waitFor(() => netfilterLinks().filter((l) => l.id === linkId), (l) => l.length === 0, 10_000, 100);
  expect(links, `link ${linkId} is still there`).to.deep.equal([]);
  expect(await waitFor(firewallPrograms, (p) => p.length === 0, 10_000, 100)).to.deep.equal([]);
}

/** TCP connect from `ns` with a 0.5 s timeout (under the 1 s SYN retransmission: one SYN) */
function tcpConnect(ns: string, dst: string, port: number): string {
  return nsExec(ns, ['python3', '-c', `import socket
s=socket.socket(); s.settimeout(0.5)
try:
  s.connect(('${dst}',${port})); print('connected')
except socket.timeout: print('timeout')
except ConnectionRefusedError: print('refused')`]).trim();
}

describe('example nf-firewall', function () {
  this.timeout(90_000);
  let net: VethNetwork | undefined;
  let runs: ExampleRun[] = [];
  let servers: UdpServer[] = [];
  const start = (args: string[], o: { netns?: string } = {}) => {
    const r = runExample('nf-firewall', args, o);
    runs.push(r);
    return r;
  };
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    for (const r of runs) r.kill();
    runs = [];
    for (const s of servers) s.stop();
    servers = [];
    net?.cleanup();
    net = undefined;
  });

  it('--interface IF: drops by source prefix and UDP/TCP port, counts every rule exactly, delivers the rest, ignores other interfaces, leaves nothing', async () => {
    const n = createVethNetwork({ label: 'exnf' });
    net = n;
    // a second address on each side: UDP from `sender` (in the denied prefix) to `target`
    const sender = `${n.spare}.9`;
    const target = `${n.spare}.1`;
    nsExec(n.nsA, ['ip', 'addr', 'add', `${target}/32`, 'dev', n.vethA]);
    nsExec(n.nsA, ['ip', 'route', 'add', `${sender}/32`, 'dev', n.vethA]);
    nsExec(n.nsB, ['ip', 'addr', 'add', `${sender}/32`, 'dev', n.vethB]);
    nsExec(n.nsB, ['ip', 'route', 'add', `${target}/32`, 'dev', n.vethB, 'src', sender]);
    servers = [7000, 7001].map((p) => startUdpServer(n.nsA, '0.0.0.0', p));
    await Promise.all(servers.map((s) => s.ready));
    const [s7000, s7001] = servers;

    const run = start(['--interface', n.vethA, '--deny-from', `${n.spare}.7/24`, '--deny-port', '7000/udp', '--deny-port', '7002/TCP'], { netns: n.nsA });
    const linkId = await attached(run);
    await run.waitForLine(/^rule 3: deny tcp port 7002$/);
    expect(run.lines).to.include('rule 1: deny from ' + `${n.spare}.0/24`); // host bits cleared
    expect(run.lines).to.include('rule 2: deny udp port 7000');
    const mine = netfilterLinks().find((l) => l.id === linkId);
    expect(mine).to.include({ pf: 2, hook: 1, prio: -250, flags: 0 }); // ipv4 input, the default priority

    const delivered0 = snmp(n.nsA, 'Udp', 'InDatagrams');
    sendUdp(n.nsB, { dst: n.addrA, port: 7000, count: 5 });              // rule 2
    sendUdp(n.nsB, { dst: n.addrA, port: 7001, count: 3, size: 100 });   // accepted
    sendUdp(n.nsB, { dst: target, port: 7001, count: 4 });               // rule 1 (source)
    expect(tcpConnect(n.nsB, n.addrA, 7002)).to.equal('timeout');        // rule 3: one SYN
    // over loopback: another interface, not looked at, delivered
    sendUdp(n.nsA, { dst: '127.0.0.1', port: 7000, count: 2 });
    await waitFor(() => s7000.received.length + s7001.received.length, (v) => v >= 5, 10_000);
    const ok = (b: Block | undefined) => b?.rules['deny tcp port 7002']?.packets === 1 && b.accepted.packets === 3 && b.other === 2;
    await waitFor(() => lastBlock(run.lines), ok, 10_000);
    expect(await run.stop()).to.equal(0);

    const final = lastBlock(run.lines, 'final');
    // IP bytes: UDP 20 + 8 + payload (16 by default); the SYN 20 + 20 + 20 of options
    expect(final).to.deep.equal({
      accepted: { packets: 3, bytes: 3 * 128 },
      dropped: { packets: 10, bytes: 9 * 44 + 60 },
      other: 2,
      rules: {
        [`deny from ${n.spare}.0/24`]: { packets: 4, bytes: 4 * 44 },
        'deny udp port 7000': { packets: 5, bytes: 5 * 44 },
        'deny tcp port 7002': { packets: 1, bytes: 60 },
      },
    });
    // what was denied never reached a socket: only the loopback datagrams on 7000, only n.addrB's on 7001
    expect(s7000.received.map((d) => d.from)).to.deep.equal(['127.0.0.1', '127.0.0.1']);
    expect(s7001.received.map((d) => `${d.from} ${d.len}`)).to.deep.equal(Array(3).fill(`${n.addrB} 100`));
    expect(snmp(n.nsA, 'Udp', 'InDatagrams')).to.equal(delivered0 + 5);
    await nothingLeft(linkId);
    // without the example, the same datagrams are delivered
    sendUdp(n.nsB, { dst: target, port: 7001, count: 1 });
    expect(await waitFor(() => s7001.received.length, (v) => v === 4, 10_000)).to.equal(4);
  });

  it('--interface any --hook prerouting --priority N: every interface, at that hook and priority; a taken priority is refused; SIGTERM ends it cleanly', async () => {
    const n = createVethNetwork({ label: 'exnf' });
    net = n;
    servers = [startUdpServer(n.nsA, '0.0.0.0', 7005)];
    await servers[0].ready;
    const run = start(['--interface', 'any', '--hook', 'prerouting', '--priority', '-123', '--deny-port', '7005/udp'], { netns: n.nsA });
    const linkId = await attached(run);
    expect(run.lines.find((l) => l.startsWith('attached '))).to.match(/\(netfilter ipv4 prerouting priority -123\) in this namespace, .*; packets from every interface$/);
    expect(netfilterLinks().find((l) => l.id === linkId)).to.include({ pf: 2, hook: 0, prio: -123 });

    // a second firewall in the same namespace at the same hook and priority: EBUSY, exit 1, its undo done
    const second = start(['--interface', 'any', '--hook', 'prerouting', '--priority', '-123', '--deny-port', '7006/udp'], { netns: n.nsA });
    expect(await second.exited()).to.equal(1);
    expect(second.output()).to.match(/error: .*priority -123/);
    expect(second.output()).to.not.match(/^attached /m);

    const delivered0 = snmp(n.nsA, 'Udp', 'InDatagrams');
    sendUdp(n.nsA, { dst: '127.0.0.1', port: 7005, count: 3 });   // loopback: dropped too (any)
    sendUdp(n.nsB, { dst: n.addrA, port: 7005, count: 2 });
    await waitFor(() => lastBlock(run.lines), (b) => b?.rules['deny udp port 7005']?.packets === 5, 10_000);
    expect(await run.stop(20_000, 'SIGTERM')).to.equal(0);
    const final = lastBlock(run.lines, 'final')!;
    expect(final.rules).to.deep.equal({ 'deny udp port 7005': { packets: 5, bytes: 5 * 44 } });
    expect(final.dropped).to.deep.equal({ packets: 5, bytes: 5 * 44 });
    expect(final.other).to.equal(undefined); // every interface: no such counter
    expect(servers[0].received).to.deep.equal([]);
    expect(snmp(n.nsA, 'Udp', 'InDatagrams')).to.equal(delivered0);
    await nothingLeft(linkId);
  });

  it('bad options and duplicate rules are errors: exit 1, nothing attached', async () => {
    for (const [args, re] of [
      [['--interface', 'lo'], /error: no rules: give --deny-port/],
      [['--interface', 'lo', '--deny-port', '7000'], /argument '7000' is invalid\. expected PORT\/udp or PORT\/tcp/],
      [['--interface', 'lo', '--deny-from', '10.0.0.0/33'], /expected ADDR\[\/LEN\]/],
      [['--interface', 'lo', '--deny-port', '1/udp', '--hook', 'output'], /expected input or prerouting/],
      [['--interface', 'lo', '--deny-port', '1/udp', '--deny-port', '1/udp'], /error: deny udp port 1 is given twice/],
    ] as const) {
      const r = start([...args]);
      expect(await r.exited(), r.output()).to.equal(1);
      expect(r.output()).to.match(re);
      expect(r.output()).to.not.match(/^attached /m);
    }
  });

  it('runs on its own network by default: the counters are the demo traffic that hit each rule, what was denied was not delivered, and nothing is left', async () => {
    const run = start(['--seconds', '3']);
    const names = await demoNamespaces(run);
    const linkId = await attached(run);
    expect(await run.exited()).to.equal(0);
    const [nsB] = names.slice(1);
    const sent = (await run.waitForLine(new RegExp(`^demo traffic from ${esc(nsB)}: (\\d+) UDP datagrams to (\\S+):7000, (\\d+) UDP datagrams to \\S+:7001, `
      + '(\\d+) UDP datagrams from (\\S+) to \\S+:7001, (\\d+) TCP connections to \\S+:7002 \\((\\d+) timed out\\), (\\d+) ICMP echo requests to \\S+ \\((\\d+) answered\\)$'))).slice(1);
    const [udp7000, addrA, udp7001, fromDenied, sender, tcp, timeouts, pings, pongs] = sent;
    expect(Number(udp7000)).to.be.greaterThan(0);
    expect(timeouts).to.equal(tcp);
    expect(pongs).to.equal(pings);
    const spare = sender.split('.').slice(0, 3).join('.');
    const final = lastBlock(run.lines, 'final')!;
    expect(final.rules).to.deep.equal({
      [`deny from ${spare}.0/24`]: { packets: Number(fromDenied), bytes: Number(fromDenied) * 44 },
      'deny udp port 7000': { packets: Number(udp7000), bytes: Number(udp7000) * 44 },
      'deny tcp port 7002': { packets: Number(tcp), bytes: Number(tcp) * 60 },
    });
    // accepted: the UDP to 7001 and the echo requests (20 + 8 + 13 bytes); nothing else comes in
    expect(final.accepted).to.deep.equal({ packets: Number(udp7001) + Number(pings), bytes: Number(udp7001) * 44 + Number(pings) * 41 });
    expect(final.dropped.packets).to.equal(Number(fromDenied) + Number(udp7000) + Number(tcp));
    expect(final.other).to.equal(0);
    const addrB = addrA.replace(/\d+$/, (d) => String(Number(d) + 1));
    expect(run.lines).to.include(`delivered: port 7000 0 (from ${addrB} 0), port 7001 ${udp7001} (from ${addrB} ${udp7001}, from ${sender} 0)`);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
    await nothingLeft(linkId);
  });
});
