// Throwaway networks for the examples (and the tests): two network namespaces joined by a veth
// pair, addressed from the benchmarking range 198.18.0.0/15 (never routed anywhere). Set-up
// shells out to `ip` (only here: the library itself speaks netlink); everything is removed by
// cleanup(), which is safe to call twice and after a partial set-up.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
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

// ETHTOOL_STXCSUM through SIOCETHTOOL: iproute2 cannot switch offloads and ethtool is not
// everywhere; python3 is. struct ifreq = name[16] + a pointer to struct ethtool_value {cmd, data}.
const TX_CSUM_PY = `import fcntl,socket,struct,ctypes,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
v=ctypes.create_string_buffer(struct.pack('II',0x17,int(sys.argv[2])),8)
fcntl.ioctl(s,0x8946,struct.pack('16sQ16x',sys.argv[1].encode(),ctypes.addressof(v)))`;

/**
 * Switch TX checksum offload of a device in `ns`. With it off, every packet leaves with a full
 * checksum (CHECKSUM_NONE), so the receiving kernel really verifies it: on a veth with offload
 * on, packets cross with CHECKSUM_PARTIAL and are never checked, hiding broken checksum fix-ups.
 */
export function setTxChecksumOffload(ns: string, dev: string, on: boolean): void {
  nsExec(ns, ['python3', '-c', TX_CSUM_PY, dev, on ? '1' : '0']);
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

export function createVethNetwork(o: VethNetworkOptions = {}): VethNetwork {
  const id = randomBytes(3).toString('hex');
  const label = o.label ?? 't';
  const nsA = `tsbpf-${label}-${id}-a`;
  const nsB = `tsbpf-${label}-${id}-b`;
  const vethA = `tb${id}a`;
  const vethB = `tb${id}b`;
  // one /30 per network inside the block, so two networks never share addresses even if their
  // namespaces were ever joined
  const n = (process.pid * 7 + counter++ + randomBytes(2).readUInt16LE(0)) % 16000;
  const block = o.block ?? 18;
  const third = (n * 4) >> 8;
  const base = [198, block, third, (n * 4) & 255];
  const subnet = base.join('.');
  const addrA = `198.${block}.${third}.${base[3] + 1}`;
  const addrB = `198.${block}.${third}.${base[3] + 2}`;
  // 198.<block>.250-255.x are never used for /30s (n * 4 < 64000): a /24 from there per network
  const spare = `198.${block}.${250 + (n % 6)}`;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const ns of [nsA, nsB]) {
      try { ip('netns', 'del', ns); } catch { /* never created or already gone */ }
    }
    try { ip('link', 'del', vethA); } catch { /* went with its namespace */ }
  };
  try {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', vethA, 'netns', nsA, 'type', 'veth', 'peer', 'name', vethB, 'netns', nsB);
    nsExec(nsA, ['ip', 'addr', 'add', `${addrA}/30`, 'dev', vethA]);
    nsExec(nsB, ['ip', 'addr', 'add', `${addrB}/30`, 'dev', vethB]);
    for (const [ns, dev] of [[nsA, vethA], [nsB, vethB]]) {
      nsExec(ns, ['ip', 'link', 'set', 'lo', 'up']);
      nsExec(ns, ['ip', 'link', 'set', dev, 'up']);
      if (!o.txChecksumOffload) setTxChecksumOffload(ns, dev, false);
    }
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

/** A kernel counter of a namespace from /proc/net/snmp, e.g. snmp(ns, 'Udp', 'InCsumErrors'). */
export function snmp(ns: string, group: string, field: string): number {
  const lines = nsExec(ns, ['cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith(`${group}:`));
  if (lines.length < 2) throw new Error(`no ${group} counters in /proc/net/snmp of ${ns}`);
  const names = lines[0].trim().split(/\s+/);
  const values = lines[1].trim().split(/\s+/);
  const i = names.indexOf(field);
  if (i < 0) throw new Error(`no ${group} ${field} in /proc/net/snmp`);
  return Number(values[i]);
}
