// Throwaway test hosts: two network namespaces joined by a veth pair, addressed from the
// benchmarking range 198.18.0.0/15 (never routed anywhere). Everything is removed by cleanup(),
// which is safe to call twice and after a partial set-up.
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
export function nsExec(ns: string, cmd: string[], opts: { timeoutMs?: number } = {}): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...cmd], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 20_000,
  });
}

export interface TestNetwork {
  /** namespace holding vethA (where programs are usually attached) */
  readonly nsA: string;
  /** namespace holding vethB (the peer that sends traffic) */
  readonly nsB: string;
  readonly vethA: string;
  readonly vethB: string;
  readonly addrA: string;
  readonly addrB: string;
  /** run fn with this thread inside nsA (or nsB); netlink sockets opened there stay there */
  inNs<T>(which: 'A' | 'B', fn: () => T): T;
  /** send `count` UDP datagrams from nsB to addrA:port (or the reverse with from: 'A') */
  sendUdp(opts: { count: number; port: number; from?: 'A' | 'B'; size?: number }): void;
  cleanup(): void;
}

/** setns(2) the calling thread into the namespace at `path` for the duration of fn. */
export function withNetns<T>(path: string, fn: () => T): T {
  const self = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(path, 'r');
  try {
    const r = ffi().syscall3(SYS.setns, target, CLONE_NEWNET, 0);
    if (r < 0) throw new Error(`setns(${path}) failed: errno ${-r}`);
    try {
      return fn();
    } finally {
      const back = ffi().syscall3(SYS.setns, self, CLONE_NEWNET, 0);
      if (back < 0) throw new Error(`setns back to the original namespace failed: errno ${-back}`);
    }
  } finally {
    closeSync(target);
    closeSync(self);
  }
}

let subnet = 0;

export function createTestNetwork(label = 't'): TestNetwork {
  const id = randomBytes(3).toString('hex');
  const nsA = `tsbpf-${label}-${id}-a`;
  const nsB = `tsbpf-${label}-${id}-b`;
  const vethA = `tb${id}a`;
  const vethB = `tb${id}b`;
  // one /30 per network inside 198.18.0.0/16 so concurrent networks never share addresses
  const n = (process.pid * 7 + subnet++) % 16000;
  const base = `198.18.${(n * 4) >> 8}.${(n * 4) & 255}`;
  const oct = base.split('.').map(Number);
  const addrA = `${oct[0]}.${oct[1]}.${oct[2]}.${oct[3] + 1}`;
  const addrB = `${oct[0]}.${oct[1]}.${oct[2]}.${oct[3] + 2}`;
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
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  const net: TestNetwork = {
    nsA, nsB, vethA, vethB, addrA, addrB,
    inNs: (which, fn) => withNetns(`/var/run/netns/${which === 'A' ? nsA : nsB}`, fn),
    sendUdp({ count, port, from = 'B', size = 16 }) {
      const ns = from === 'B' ? nsB : nsA;
      const dst = from === 'B' ? addrA : addrB;
      // python3 is on every machine of this kind; a tiny sender avoids depending on nc/socat flavours
      const script = `import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${count}): s.sendto(b'x'*${size},('${dst}',${port}))`;
      nsExec(ns, ['python3', '-c', script]);
    },
    cleanup,
  };
  return net;
}

/** Poll `cond` until it is true or the deadline passes; returns the last value for assertions. */
export async function waitFor<T>(fn: () => T, ok: (v: T) => boolean, timeoutMs = 5000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, stepMs));
    v = fn();
  }
  return v;
}
