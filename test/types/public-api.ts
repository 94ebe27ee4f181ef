// Compile-only: the public API as a TypeScript user writes it (README, DESIGN.md). Never run;
// test/unit/typecheck.test.ts fails when a line here stops compiling or an @ts-expect-error line
// starts to compile (the types got looser or wrong).
import {
  loadObject, loadKernelBtf, BpfMap, RingBuffer, attachTc, attachTcx, attachXdp, attachSockMap, withBtfCodecs, btfCodecSource,
  XdpSocket, XskNoFreeFrameError, type XskStatistics, type XskBoundMode,
  type BpfObject, type BpfProgram,
} from '../../lib/index.js';

interface ConnKey { saddr: number; daddr: number; proto: number; pad: number[] }
interface ConnVal { packets: bigint; bytes: bigint }

export function objectMaps(obj: BpfObject): bigint {
  // the typed accessor: keys and values as the BTF decodes them
  const conns = obj.map<ConnKey, ConnVal>('conns');
  const v = conns.lookup({ saddr: 1, daddr: 2, proto: 17, pad: [0, 0, 0] });
  let total = v ? v.packets + v.bytes : 0n;
  for (const [k, val] of conns.entries()) total += BigInt(k.proto) + val.bytes;
  // @ts-expect-error a field the value type does not have
  void v?.drops;
  // @ts-expect-error a key of the wrong shape
  conns.lookup({ saddr: '10.0.0.1' });
  const totals = obj.map<number, ConnVal[]>('totals');
  total += (totals.lookup(0) ?? []).reduce((a, c) => a + c.packets, 0n);
  // the plain Map says nothing about the values: unknown, not a wrong Uint8Array
  const loose = obj.maps.get('conns');
  const u = loose?.lookup({ saddr: 1, daddr: 2, proto: 17, pad: [0, 0, 0] });
  // @ts-expect-error unknown until narrowed
  void u.packets;
  // maps go wherever a map is taken
  new RingBuffer(obj.map('events')).close();
  attachSockMap({ program: obj.program('redirect'), map: obj.map('socks') }).detach();
  attachTc({ program: obj.program('tc_ingress'), interface: 'veth0', direction: 'ingress' }).detach();
  return total;
}

export function rawMaps(): number {
  // a map made here has no codecs: raw bytes in and out
  const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16 });
  m.update(1, new Uint8Array(8));
  const bytes: Uint8Array | undefined = m.lookup(1);
  const per = BpfMap.create<Uint8Array, Uint8Array[]>({ type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1 });
  const cpus = per.lookup(0)?.length ?? 0;
  const typed = withBtfCodecs<number, bigint>(m, btfCodecSource(loadKernelBtf()), 0, 0);
  const n: bigint | undefined = typed.lookup(1);
  return (bytes?.length ?? 0) + cpus + Number(n ?? 0n);
}

export function kernelBtf(): number {
  const btf = loadKernelBtf();
  // kinds that share an interface narrow to the kind asked for
  const skb = btf.findByName('sk_buff', 'struct');
  const td = btf.findByName('u32', 'typedef');
  const e = btf.findByName('bpf_map_type', 'enum');
  // @ts-expect-error an int has no members
  void btf.findByName('int', 'int')?.members;
  return (skb?.members.length ?? 0) + (td?.type ?? 0) + (e?.values.length ?? 0) + btf.findAllByName('u32', 'typedef').length;
}

// the README's "Using the library"
export async function readmeUsage(program: BpfProgram): Promise<bigint | undefined> {
  const obj = loadObject('bpf/tc_counter.o', { pinPath: '/sys/fs/bpf/ebpf-plugin', constants: { only_dport: 53 } });
  const tc = attachTc({ program: obj.program('tc_ingress'), interface: 'eth0', direction: 'ingress' });
  const counter = obj.map<number, bigint>('counter');
  const n = counter.lookup(0);
  tc.detach();
  obj.close();
  const mode: 'drv' | 'skb' | 'hw' = attachXdp({ program, interface: 'eth0', mode: 'auto' }).info.mode;
  attachTcx({ program, interface: 'eth0', direction: 'egress' }).detach();
  {
    using scoped = loadObject('bpf/tc_counter.o');
    for await (const record of new RingBuffer(scoped.map('events'))) return BigInt(record.length + mode.length);
  }
  return n;
}

// README's "AF_XDP sockets"
export async function xdpSocketUsage(obj: BpfObject): Promise<number> {
  using xsk = XdpSocket.create({ interface: 'eth0', queue: 0, frames: 4096, frameSize: 2048, mode: 'auto', needWakeup: true });
  xsk.register(obj.map('xsks'));
  const mode: XskBoundMode = xsk.mode;
  let bytes = xsk.receive((frame: Uint8Array, address: number) => { bytes += frame.length + address; }, 64);
  for await (const frame of xsk) bytes += frame[0];
  try {
    xsk.transmit([new Uint8Array(60)]);
  } catch (e) {
    if (e instanceof XskNoFreeFrameError) bytes += e.available;
  }
  const s: XskStatistics = xsk.stats();
  // @ts-expect-error not a bind mode
  XdpSocket.create({ interface: 'eth0', mode: 'fast' });
  // @ts-expect-error frames are bytes
  xsk.transmit(['hello']);
  return bytes + s.rxDropped + mode.length + xsk.txInFlight;
}
