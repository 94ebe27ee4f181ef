// Shared set-up of the attach/netlink privileged tests: a throwaway network, a private bpffs, the
// seed object (tc_counter.o, counting only UDP to one port so counts are exact) and an XDP counter,
// plus iproute2 read-outs to compare with.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { loadObject, type BpfObject, type BpfMap } from '../../lib/index.js';
import { createTestNetwork, type TestNetwork } from './netns.js';
import { createTestBpffs, type TestBpffs } from './bpffs.js';

export interface AttachFixture {
  net: TestNetwork;
  bpffs: TestBpffs;
  /** tc_counter.o with only_dport = port: tc_ingress counts into key 0, tc_egress into key 1 */
  tc: BpfObject;
  /** packet_counter.o: XDP, counts packets per IP protocol (key 17 = UDP) */
  xdp: BpfObject;
  port: number;
  cleanup(): void;
}

export function createAttachFixture(label: string): AttachFixture {
  const net = createTestNetwork(label);
  let bpffs: TestBpffs | undefined;
  let tc: BpfObject | undefined;
  let xdp: BpfObject | undefined;
  const cleanup = () => {
    tc?.close();
    xdp?.close();
    bpffs?.cleanup();
    net.cleanup();
  };
  try {
    bpffs = createTestBpffs();
    const port = 20000 + randomInt(20000);
    tc = loadObject('bpf/tc_counter.o', { pinPath: bpffs.dir, constants: { only_dport: port } });
    xdp = loadObject('bpf/packet_counter.o');
    return { net, bpffs, tc, xdp, port, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** The u64 value at a u32/array key, 0n when absent. */
export function counter(m: BpfMap | undefined, key: number): bigint {
  const b = m?.lookupBytes(key);
  return b ? new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) : 0n;
}

/** Run a command inside a namespace (stdout), or its failure text as 'ERR …'. */
export function inNsExec(ns: string, ...cmd: string[]): string {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return `ERR ${(e as { stderr?: string }).stderr ?? String(e)}`;
  }
}

/** `tc filter show` lines that carry a filter (not the per-priority heads). */
export function tcFilters(ns: string, dev: string, dir: 'ingress' | 'egress'): string[] {
  return inNsExec(ns, 'tc', 'filter', 'show', 'dev', dev, dir).split('\n').filter((l) => l.includes(' handle '));
}

export function tcQdiscKinds(ns: string, dev: string): string[] {
  return inNsExec(ns, 'tc', 'qdisc', 'show', 'dev', dev).split('\n').filter(Boolean).map((l) => l.split(' ')[1]);
}

/** `ip -d link show` of one device in a namespace, parsed from JSON. */
export function ipLink(ns: string, dev: string): { mtu: number; ifindex: number; flags: string[]; xdp?: { mode: number; prog?: { id: number }; attached?: { mode: number; prog: { id: number } }[] } } {
  return JSON.parse(inNsExec(ns, 'ip', '-j', '-d', 'link', 'show', 'dev', dev))[0];
}
