// Throwaway test hosts: two network namespaces joined by a veth pair, addressed from the
// benchmarking range 198.18.0.0/15 (never routed anywhere). Everything is removed by cleanup(),
// which is safe to call twice and after a partial set-up.
// The network itself (names, addresses, ip/setns plumbing) is examples/lib/netns.ts, shared with
// the examples' own throwaway networks; this adds the tests' UDP sender and waitFor.
import { createVethNetwork, ip, nsExec, withNetns } from '../../examples/lib/netns.js';

export { ip, nsExec, withNetns };

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

export function createTestNetwork(label = 't'): TestNetwork {
  // TX checksum offload stays on (the veth default) for the tests that do not look at checksums
  const n = createVethNetwork({ label, txChecksumOffload: true });
  const { nsA, nsB, vethA, vethB, addrA, addrB } = n;
  const net: TestNetwork = {
    nsA, nsB, vethA, vethB, addrA, addrB,
    inNs: n.inNs,
    sendUdp({ count, port, from = 'B', size = 16 }) {
      const ns = from === 'B' ? nsB : nsA;
      const dst = from === 'B' ? addrA : addrB;
      // python3 is on every machine of this kind; a tiny sender avoids depending on nc/socat flavours
      const script = `import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${count}): s.sendto(b'x'*${size},('${dst}',${port}))`;
      nsExec(ns, ['python3', '-c', script]);
    },
    cleanup: n.cleanup,
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
