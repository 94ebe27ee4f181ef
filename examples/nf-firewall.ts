// nf-firewall: a small stateless IPv4 firewall on a netfilter hook. The program of bpf/nf_firewall.c
// runs at the ipv4 `input` (or `prerouting`) hook of a network namespace through a netfilter BPF
// link (attachNetfilter), among nftables', iptables' and conntrack's hooks in priority order, and
// drops (NF_DROP) what a rule denies: a source prefix (--deny-from, an LPM trie) or a UDP/TCP
// destination port (--deny-port, a hash). It counts packets and bytes per rule and in totals
// (per-CPU arrays, summed here); this program fills the rule maps and prints the counters every
// second and once more at the end.
//
// A netfilter hook belongs to a network namespace, not to an interface. Without --interface the
// example makes its own throwaway network, attaches in its first namespace (`netns`), and sends
// demo traffic from the second that hits and misses the rules (the demo's own rules unless rules are
// given): UDP to a denied and an allowed port, UDP from a denied source prefix (a second address of
// the sender), a TCP connection to a denied port, and an ICMP echo request; receivers on both UDP
// ports show what was delivered. With --interface IF it attaches in the namespace it runs in (IF must
// be there: `ip netns exec NS node … --interface IF` guards NS) and the program looks only at packets
// that came in through IF (ctx->state->in->ifindex): packets from other interfaces are accepted and
// counted as such. `--interface any` looks at packets from every interface of the namespace.
// Only IPv4 is filtered (the link is on the ipv4 family: IPv6 passes untouched). Non-first
// fragments carry no ports and are matched by source only, unless --defrag hands the program
// whole datagrams.
//
// The default priority, -250, is after raw (-300) and before conntrack (-200): at prerouting a
// dropped packet never makes a conntrack entry. The priority must be one no other hook of the
// namespace holds at that hook (EBUSY otherwise).
// Run: node --import tsx examples/nf-firewall.ts [--interface IF|any] [--deny-port PORT/udp|tcp ...]
//        [--deny-from ADDR[/LEN] ...] [--hook input|prerouting] [--priority N] [--defrag] [--seconds N]
import { execFile } from 'node:child_process';
import { InvalidArgumentError } from 'commander';
import { attachNetfilter, interfaceIndex } from '../lib/index.js';
import { runExample } from './lib/run.js';
import { nsExec } from './lib/netns.js';
import { pingAsync, sendUdpAsync, startUdpServer, type UdpServer } from './lib/traffic.js';
import { collect, ipv4ToU32, protocolName, sumCpus } from './lib/format.js';

/** struct src_rule of bpf/nf_firewall.c (networkOrder codec: addr is the number 198.19.0.0 stands for) */
interface SrcRule { prefixlen: number; addr: number }
/** struct port_rule (port as the number it stands for) */
interface PortRule { port: number; proto: number; pad: number }
/** struct counter */
interface Counter { packets: bigint; bytes: bigint }

/** the program's rule_stats has 64 entries; rule numbers (its indexes) start at 1 */
const MAX_RULES = 63;
/** totals' indexes (bpf/nf_firewall.c) */
const TOTAL = { dropped: 0, accepted: 1, otherInterface: 2 } as const;

interface Rule { n: number; text: string }
interface DenyFrom { addr: number; prefixlen: number }
interface DenyPort { port: number; proto: number }

/** "ADDR[/LEN]" → the prefix, host bits cleared */
function parseDenyFrom(v: string): DenyFrom {
  const m = /^([\d.]+)(?:\/(\d{1,2}))?$/.exec(v);
  const prefixlen = m?.[2] === undefined ? 32 : Number(m[2]);
  if (!m || prefixlen > 32) throw new InvalidArgumentError(`expected ADDR[/LEN] (IPv4, LEN 0-32), got ${v}`);
  ipv4ToU32(m[1]); // checks the address
  const addr = m[1].split('.').reduce((a, b) => a * 256 + Number(b), 0); // the number it stands for
  const mask = prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0;
  return { addr: (addr & mask) >>> 0, prefixlen };
}

function parseDenyPort(v: string): DenyPort {
  const m = /^(\d{1,5})\/(udp|tcp)$/i.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new InvalidArgumentError(`expected PORT/udp or PORT/tcp, got ${v}`);
  return { port: Number(m[1]), proto: m[2].toLowerCase() === 'tcp' ? 6 : 17 };
}

function parseHook(v: string): 'input' | 'prerouting' {
  if (v !== 'input' && v !== 'prerouting') throw new InvalidArgumentError('expected input or prerouting');
  return v;
}

function parsePriority(v: string): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n <= -2147483648 || n >= 2147483647) throw new InvalidArgumentError('expected an integer between -2147483647 and 2147483646');
  return n;
}

const prefixText = (p: DenyFrom) => `${[24, 16, 8, 0].map((s) => (p.addr >>> s) & 255).join('.')}/${p.prefixlen}`;

// connect with a timeout: 'connected', 'refused' (a RST came back) or 'timeout' (the SYN was dropped;
// under 1 s, the kernel's first SYN retransmission, so exactly one SYN is sent)
const TCP_CONNECT = `import socket,sys
s=socket.socket(); s.settimeout(float(sys.argv[3]))
try:
  s.connect((sys.argv[1],int(sys.argv[2]))); print('connected')
except socket.timeout: print('timeout')
except ConnectionRefusedError: print('refused')`;

function tcpConnectAsync(ns: string, dst: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'exec', ns, 'python3', '-c', TCP_CONNECT, dst, String(port), String(timeoutMs / 1000)],
      { encoding: 'utf8', timeout: timeoutMs + 10_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`TCP connect in ${ns} failed: ${stderr.trim() || err.message}`));
        else resolve(stdout.trim());
      });
  });
}

await runExample<{ denyPort?: DenyPort[]; denyFrom?: DenyFrom[]; hook: 'input' | 'prerouting'; priority: number; defrag?: boolean }>({
  name: 'nf-firewall',
  description: 'a stateless IPv4 firewall on a netfilter hook: drop by source prefix or UDP/TCP destination port, counted per rule',
  interfaceHelp: 'filter what comes in through this interface of the namespace this runs in (any: every interface) instead of a throwaway network',
  options: (cmd) => cmd
    .option('--deny-port <PORT/udp|tcp>', 'drop UDP or TCP to this destination port (repeatable)', collect(parseDenyPort))
    .option('--deny-from <ADDR[/LEN]>', 'drop IPv4 from this source prefix (repeatable)', collect(parseDenyFrom))
    .option('--hook <hook>', 'netfilter hook: input or prerouting', parseHook, 'input')
    .option('--priority <n>', 'priority at the hook (lower runs earlier; must be free in the namespace)', parsePriority, -250)
    .option('--defrag', 'let the kernel defragment first, so the program sees whole datagrams (priority above -400)'),
  async main(ctx) {
    const { demo, opts } = ctx;
    let denyFrom = opts.denyFrom ?? [];
    let denyPort = opts.denyPort ?? [];
    const sender = demo && `${demo.spare}.9`;
    const target = demo && `${demo.spare}.1`;
    if (demo && sender && target) {
      // a second address on each side: the sender's, in a prefix the demo denies, is the source
      // of what goes to the receiver's (a route with `src`); nsA routes it back (reverse-path filter)
      nsExec(demo.nsA, ['ip', 'addr', 'add', `${target}/32`, 'dev', demo.vethA]);
      nsExec(demo.nsA, ['ip', 'route', 'add', `${sender}/32`, 'dev', demo.vethA]);
      nsExec(demo.nsB, ['ip', 'addr', 'add', `${sender}/32`, 'dev', demo.vethB]);
      nsExec(demo.nsB, ['ip', 'route', 'add', `${target}/32`, 'dev', demo.vethB, 'src', sender]);
      if (denyFrom.length === 0 && denyPort.length === 0) {
        denyFrom = [parseDenyFrom(`${demo.spare}.0/24`)];
        denyPort = [{ port: 7000, proto: 17 }, { port: 7002, proto: 6 }];
      }
    } else if (denyFrom.length === 0 && denyPort.length === 0) {
      throw new Error('no rules: give --deny-port PORT/udp|tcp or --deny-from ADDR[/LEN] (each repeatable)');
    }
    if (denyFrom.length + denyPort.length > MAX_RULES) throw new Error(`at most ${MAX_RULES} rules`);

    // which packets the program looks at: 0 is every interface
    const ifname = demo ? demo.vethA : opts.interface!;
    const ifindex = ifname === 'any' ? 0 : interfaceIndex(ifname);
    const obj = ctx.load('nf_firewall.o', { constants: { ifindex }, typedMaps: { networkOrder: true } });
    const srcRules = obj.map<SrcRule, number>('deny_src');
    const portRules = obj.map<PortRule, number>('deny_port');
    const ruleStats = obj.map<number, Counter[]>('rule_stats');
    const totals = obj.map<number, Counter[]>('totals');

    const rules: Rule[] = [];
    for (const p of denyFrom) {
      const key = { prefixlen: p.prefixlen, addr: p.addr };
      const text = `deny from ${prefixText(p)}`;
      if (srcRules.lookup(key) !== undefined) throw new Error(`${text} is given twice`);
      srcRules.update(key, rules.length + 1, 'noexist');
      rules.push({ n: rules.length + 1, text });
    }
    for (const p of denyPort) {
      const key = { port: p.port, proto: p.proto, pad: 0 };
      const text = `deny ${protocolName(p.proto)} port ${p.port}`;
      if (portRules.lookup(key) !== undefined) throw new Error(`${text} is given twice`);
      portRules.update(key, rules.length + 1, 'noexist');
      rules.push({ n: rules.length + 1, text });
    }
    const program = obj.program('nf_firewall');
    const link = attachNetfilter({ program, family: 'ipv4', hook: opts.hook, priority: opts.priority, defrag: opts.defrag, ...(demo ? { netns: demo.nsA } : {}) });
    ctx.defer(() => link.detach());
    const where = demo ? demo.nsA : 'this namespace';
    console.log(`attached ${program.name} (netfilter ipv4 ${link.info.hook} priority ${link.info.priority}${link.info.defrag ? ' defrag' : ''}) in ${where}, link id ${link.info.linkId}; packets from ${ifindex ? ifname : 'every interface'}`);
    for (const r of rules) console.log(`rule ${r.n}: ${r.text}`);

    const pad = Math.max(...rules.map((r) => r.text.length));
    const sum = (v: Counter[] | undefined) => ({ packets: sumCpus(v ?? [], (c) => c.packets), bytes: sumCpus(v ?? [], (c) => c.bytes) });
    const show = (label: string) => {
      const t = (i: number) => sum(totals.lookup(i));
      const acc = t(TOTAL.accepted);
      const drop = t(TOTAL.dropped);
      const other = ifindex ? ` other-interfaces packets=${t(TOTAL.otherInterface).packets}` : '';
      console.log(`${label} accepted packets=${acc.packets} bytes=${acc.bytes} dropped packets=${drop.packets} bytes=${drop.bytes}${other}`);
      for (const r of rules) {
        const c = sum(ruleStats.lookup(r.n));
        console.log(`  rule ${r.n} ${r.text.padEnd(pad)} packets=${c.packets} bytes=${c.bytes}`);
      }
    };

    let finishTraffic: (() => Promise<void>) | undefined;
    if (demo && sender && target) {
      const servers: UdpServer[] = [7000, 7001].map((p) => startUdpServer(demo.nsA, '0.0.0.0', p));
      ctx.defer(() => { for (const s of servers) s.stop(); });
      await Promise.all(servers.map((s) => s.ready));
      const sent = { udp7000: 0, udp7001: 0, fromDenied: 0, tcp: 0, tcpTimeouts: 0, pings: 0, pongs: 0 };
      let inflight: Promise<void> = Promise.resolve();
      let finished = false;
      ctx.every(1000, () => {
        if (finished) return Promise.resolve();
        inflight = (async () => {
          await sendUdpAsync(demo.nsB, { dst: demo.addrA, port: 7000, count: 2 });
          sent.udp7000 += 2;
          await sendUdpAsync(demo.nsB, { dst: demo.addrA, port: 7001, count: 2 });
          sent.udp7001 += 2;
          await sendUdpAsync(demo.nsB, { dst: target, port: 7001, count: 2 });
          sent.fromDenied += 2;
          const r = await tcpConnectAsync(demo.nsB, demo.addrA, 7002, 500);
          sent.tcp++;
          if (r === 'timeout') sent.tcpTimeouts++;
          sent.pings++;
          sent.pongs += await pingAsync(demo.nsB, demo.addrA, 1, 500);
        })();
        return inflight;
      }, true);
      finishTraffic = async () => {
        finished = true;
        await inflight;
        // the last datagrams may still sit in the receiving CPU's backlog
        await new Promise((r) => setTimeout(r, 100));
        console.log(`demo traffic from ${demo.nsB}: ${sent.udp7000} UDP datagrams to ${demo.addrA}:7000, ${sent.udp7001} UDP datagrams to ${demo.addrA}:7001, `
          + `${sent.fromDenied} UDP datagrams from ${sender} to ${target}:7001, ${sent.tcp} TCP connections to ${demo.addrA}:7002 (${sent.tcpTimeouts} timed out), `
          + `${sent.pings} ICMP echo requests to ${demo.addrA} (${sent.pongs} answered)`);
        const from = (s: UdpServer, a: string) => s.received.filter((d) => d.from === a).length;
        console.log(`delivered: port 7000 ${servers[0].received.length} (from ${demo.addrB} ${from(servers[0], demo.addrB)}), `
          + `port 7001 ${servers[1].received.length} (from ${demo.addrB} ${from(servers[1], demo.addrB)}, from ${sender} ${from(servers[1], sender)})`);
      };
    }
    ctx.every(1000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await finishTraffic?.();
    show('final');
  },
});
