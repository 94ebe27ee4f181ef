// Throwaway networks for the examples (and the tests): two network namespaces joined by a veth
// pair, addressed from the benchmarking range 198.18.0.0/15 (never routed anywhere). Set-up
// shells out to `ip` (only here: the library itself speaks netlink); everything is removed by
// cleanup(), which is safe to call twice and after a partial set-up.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ffi } from '../../lib/syscall/backend.js';
import { SYS } from '../../lib/syscall/numbers.js';

const CLONE_NEWNET = 0x40000000;

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run a command inside a namespace and return its stdout. */
export function nsExec(ns: string, cmd: string[], opts: { timeoutMs?: number; input?: string } = {}): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], {
    encoding: 'utf8', stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    input: opts.input, timeout: opts.timeoutMs ?? 20_000,
  });
}

function setns(fd: number, what: string): void {
  const r = ffi().syscall3(SYS.setns, fd, CLONE_NEWNET, 0);
  if (r < 0) throw new Error(`setns(${what}) failed: errno ${-r}`);
}

/** setns(2) the calling thread into the namespace at `path` for the duration of fn. */
export function withNetns<T>(path: string, fn: () => T): T {
  const restore = enterNetns(path);
  try {
    return fn();
  } finally {
    restore();
  }
}

/**
 * Move the calling thread (for Node: the main thread, where every socket and child process of
 * the program is made) into the namespace at `path`. Returns the function that moves it back.
 */
export function enterNetns(path: string): () => void {
  const self = openSync('/proc/thread-self/ns/net', 'r');
  try {
    const target = openSync(path, 'r');
    try {
      setns(target, path);
    } finally {
      closeSync(target);
    }
  } catch (e) {
    closeSync(self);
    throw e;
  }
  let back = false;
  return () => {
    if (back) return;
    back = true;
    try {
      setns(self, 'back to the original namespace');
    } finally {
      closeSync(self);
    }
  };
}

// ETHTOOL_S* commands that take a struct ethtool_value {cmd, data} through SIOCETHTOOL: iproute2
// cannot switch offloads and ethtool is not everywhere; python3 is. struct ifreq = name[16] + a
// pointer to the ethtool_value.
const ETHTOOL_SET_PY = `import fcntl,socket,struct,ctypes,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
v=ctypes.create_string_buffer(struct.pack('II',int(sys.argv[2]),int(sys.argv[3])),8)
fcntl.ioctl(s,0x8946,struct.pack('16sQ16x',sys.argv[1].encode(),ctypes.addressof(v)))`;
const ETHTOOL_STXCSUM = 0x17;
const ETHTOOL_SGRO = 0x2c;

function ethtoolSet(ns: string, dev: string, cmd: number, on: boolean): void {
  nsExec(ns, ['python3', '-c', ETHTOOL_SET_PY, dev, String(cmd), on ? '1' : '0']);
}

/**
 * Switch TX checksum offload of a device in `ns`. With it off, every packet leaves with a full
 * checksum (CHECKSUM_NONE), so the receiving kernel really verifies it: on a veth with offload
 * on, packets cross with CHECKSUM_PARTIAL and are never checked, hiding broken checksum fix-ups.
 */
export function setTxChecksumOffload(ns: string, dev: string, on: boolean): void {
  ethtoolSet(ns, dev, ETHTOOL_STXCSUM, on);
}

/** Switch GRO of a device in `ns` (`ethtool -K DEV gro on|off`); on a veth it also switches its NAPI. */
export function setGro(ns: string, dev: string, on: boolean): void {
  ethtoolSet(ns, dev, ETHTOOL_SGRO, on);
}

export interface VethNetwork {
  /** namespace holding vethA (where the programs are attached) */
  readonly nsA: string;
  /** namespace holding vethB (the peer that sends traffic) */
  readonly nsB: string;
  readonly vethA: string;
  readonly vethB: string;
  readonly addrA: string;
  readonly addrB: string;
  /** the /30 both addresses are in, e.g. 198.18.3.4 */
  readonly subnet: string;
  /** an address block nobody else uses, for service addresses: `${spare}.N` with N in 1..254 */
  readonly spare: string;
  /** run fn with this thread inside nsA (or nsB); netlink sockets opened there stay there */
  inNs<T>(which: 'A' | 'B', fn: () => T): T;
  cleanup(): void;
}

export interface VethNetworkOptions {
  /** names are tsbpf-<label>-<random>-a/b */
  label?: string;
  /** leave TX checksum offload on (default: switched off on both ends, see setTxChecksumOffload) */
  txChecksumOffload?: boolean;
  /** 18 (default: the tests' block) or 19 (the examples' block): 198.<block>.0.0/16 */
  block?: 18 | 19;
}

let counter = 0;

/**
 * One /30 inside 198.<block>.0.0/16 (.1 and .2 used), so two networks never share addresses even
 * if their namespaces were ever joined, and a spare /24 for service addresses.
 */
function pickSubnet(block: number): { subnet: string; addrA: string; addrB: string; spare: string } {
  const n = (process.pid * 7 + counter++ + randomBytes(2).readUInt16LE(0)) % 16000;
  const third = (n * 4) >> 8;
  const fourth = (n * 4) & 255;
  // 198.<block>.250-255.x are never used for /30s (n * 4 < 64000): a /24 from there per network
  return {
    subnet: `198.${block}.${third}.${fourth}`,
    addrA: `198.${block}.${third}.${fourth + 1}`,
    addrB: `198.${block}.${third}.${fourth + 2}`,
    spare: `198.${block}.${250 + (n % 6)}`,
  };
}

/** cleanup() of a network: delete its namespaces and its veth (safe twice and after a partial set-up) */
function removeOnce(namespaces: string[], veth: string): () => void {
  let cleaned = false;
  return () => {
    if (cleaned) return;
    cleaned = true;
    for (const ns of namespaces) {
      try { ip('netns', 'del', ns); } catch { /* never created or already gone */ }
    }
    try { ip('link', 'del', veth); } catch { /* went with its namespace */ }
  };
}

/** Make namespace `newNs`, a veth pair between a and b with a /30 address on each end, lo and both ends up. */
function joinByVeth(o: VethNetworkOptions, a: [ns: string, dev: string, addr: string], b: [ns: string, dev: string, addr: string], newNs: string): void {
  ip('netns', 'add', newNs);
  ip('link', 'add', a[1], 'netns', a[0], 'type', 'veth', 'peer', 'name', b[1], 'netns', b[0]);
  for (const [ns, dev, addr] of [a, b]) {
    nsExec(ns, ['ip', 'addr', 'add', `${addr}/30`, 'dev', dev]);
    nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    nsExec(ns, ['ip', 'link', 'set', dev, 'up']);
    if (!o.txChecksumOffload) setTxChecksumOffload(ns, dev, false);
  }
}

export function createVethNetwork(o: VethNetworkOptions = {}): VethNetwork {
  const id = randomBytes(3).toString('hex');
  const label = o.label ?? 't';
  const nsA = `tsbpf-${label}-${id}-a`;
  const nsB = `tsbpf-${label}-${id}-b`;
  const vethA = `tb${id}a`;
  const vethB = `tb${id}b`;
  const { subnet, addrA, addrB, spare } = pickSubnet(o.block ?? 18);
  const cleanup = removeOnce([nsA, nsB], vethA);
  try {
    ip('netns', 'add', nsA);
    joinByVeth(o, [nsA, vethA, addrA], [nsB, vethB, addrB], nsB);
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    nsA, nsB, vethA, vethB, addrA, addrB, subnet, spare,
    inNs: (which, fn) => withNetns(`/var/run/netns/${which === 'A' ? nsA : nsB}`, fn),
    cleanup,
  };
}

/** A namespace joined to another one by a veth pair of its own (see joinNamespace). */
export interface VethLeg {
  /** the new namespace and its end of the pair */
  readonly ns: string;
  readonly veth: string;
  readonly addr: string;
  /** the end in the namespace it was joined to, and its address */
  readonly peer: string;
  readonly peerAddr: string;
  /** the /30 both addresses are in */
  readonly subnet: string;
  cleanup(): void;
}

/**
 * A new namespace joined to the existing namespace `to` (e.g. a VethNetwork's nsA) by a veth pair
 * with a /30 of its own, addressed as createVethNetwork's: a third host, so that `to` can be a
 * router between two others. cleanup() removes the namespace and the pair.
 */
export function joinNamespace(to: string, o: VethNetworkOptions = {}): VethLeg {
  const id = randomBytes(3).toString('hex');
  const ns = `tsbpf-${o.label ?? 't'}-${id}-c`;
  const veth = `tb${id}c`;
  const peer = `tb${id}p`;
  // a /30 that `to` has no address in yet (its own network's, say)
  const taken = nsExec(to, ['ip', '-4', '-o', 'addr', 'show']);
  let picked = pickSubnet(o.block ?? 18);
  while (taken.includes(` ${picked.addrA}/`)) picked = pickSubnet(o.block ?? 18);
  const { subnet, addrA: peerAddr, addrB: addr } = picked;
  const cleanup = removeOnce([ns], peer);
  try {
    joinByVeth(o, [to, peer, peerAddr], [ns, veth, addr], ns);
  } catch (err) {
    cleanup();
    throw err;
  }
  return { ns, veth, addr, peer, peerAddr, subnet, cleanup };
}

/**
 * Make `net`'s nsA a router between nsB and a third namespace joined to it (joinNamespace):
 * default routes from both through nsA, IPv4 forwarding on in nsA. The leg's cleanup() removes
 * the third namespace; the routes and the setting go with the namespaces.
 */
export function routeThrough(net: VethNetwork, o: VethNetworkOptions = {}): VethLeg {
  const leg = joinNamespace(net.nsA, o);
  try {
    nsExec(net.nsB, ['ip', 'route', 'add', 'default', 'via', net.addrA]);
    nsExec(leg.ns, ['ip', 'route', 'add', 'default', 'via', leg.peerAddr]);
    nsExec(net.nsA, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  } catch (err) {
    leg.cleanup();
    throw err;
  }
  return leg;
}

/**
 * A kernel counter of a namespace from /proc/net/snmp, e.g. snmp(ns, 'Udp', 'InCsumErrors'); ns
 * null reads the one this process runs in.
 */
export function snmp(ns: string | null, group: string, field: string): number {
  const text = ns === null ? readFileSync('/proc/self/net/snmp', 'utf8') : nsExec(ns, ['cat', '/proc/net/snmp']);
  const lines = text.split('\n').filter((l) => l.startsWith(`${group}:`));
  if (lines.length < 2) throw new Error(`no ${group} counters in /proc/net/snmp of ${ns ?? 'this namespace'}`);
  const names = lines[0].trim().split(/\s+/);
  const values = lines[1].trim().split(/\s+/);
  const i = names.indexOf(field);
  if (i < 0) throw new Error(`no ${group} ${field} in /proc/net/snmp`);
  return Number(values[i]);
}
