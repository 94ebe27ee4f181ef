// xdp-sock: UDP datagrams to one port go from XDP straight into an AF_XDP socket (no network stack),
// are printed one line each, and with --echo are sent back from user space through the socket's TX
// ring (addresses and ports swapped, the UDP checksum computed afresh: a datagram from a local sender
// over veth with TX checksum offload on, the default, carries only the pseudo-header's part of it,
// which the socket sees as it is; the echo leaves with no offload and the peer would drop it).
// Run: node --import tsx examples/xdp-sock.ts [--interface IF] [--port N] [--echo] [--bind-mode auto|copy|zerocopy] [--seconds N]
import { InvalidArgumentError } from 'commander';
import { loadObject, XdpSocket, XskNoFreeFrameError, type XskBindMode } from '../lib/index.js';
import { runExample, port, objectPath } from './lib/run.js';
import { demoTraffic } from './lib/traffic.js';

interface Options {
  port: number;
  queue: number;
  echo?: boolean;
  bindMode: XskBindMode;
}

/**
 * Ethernet + IPv4 + UDP: where the addresses, ports and payload are; undefined for anything else.
 * The payload ends where the UDP length says: a frame can be longer (Ethernet pads to 60 bytes).
 */
function parseUdp(f: Uint8Array): { ihl: number; payload: Uint8Array } | undefined {
  if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 17) return undefined;
  const ihl = (f[14] & 15) * 4;
  if (f.length < 14 + ihl + 8) return undefined;
  const len = (f[14 + ihl + 4] << 8) | f[14 + ihl + 5];
  if (len < 8 || 14 + ihl + len > f.length) return undefined;
  return { ihl, payload: f.subarray(14 + ihl + 8, 14 + ihl + len) };
}

const ip = (f: Uint8Array, at: number) => `${f[at]}.${f[at + 1]}.${f[at + 2]}.${f[at + 3]}`;
const u16 = (f: Uint8Array, at: number) => (f[at] << 8) | f[at + 1];

/** RFC 768's checksum of the UDP datagram at `udp` (its length field says how long) and the IPv4 pseudo-header */
function udpChecksum(f: Uint8Array, udp: number): number {
  const len = Math.min(u16(f, udp + 4), f.length - udp);
  let sum = 17 + u16(f, udp + 4);
  for (let i = 26; i < 34; i += 2) sum += u16(f, i); // source and destination address
  for (let i = 0; i < len; i += 2) {
    if (i !== 6) sum += (f[udp + i] << 8) | (i + 1 < len ? f[udp + i + 1] : 0); // not the checksum itself
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum & 0xffff) || 0xffff; // 0 means "no checksum": a sum of 0 is sent as 0xffff
}

/** the frame sent back: MAC, IP and UDP source and destination swapped, the UDP checksum made whole, in a copy */
function reply(f: Uint8Array, ihl: number): Uint8Array {
  const r = f.slice();
  const swap = (a: number, b: number, n: number) => {
    r.set(f.subarray(a, a + n), b);
    r.set(f.subarray(b, b + n), a);
  };
  swap(0, 6, 6);
  swap(26, 30, 4); // the IP header checksum stays right: its sum does not change
  const udp = 14 + ihl;
  swap(udp, udp + 2, 2);
  if (u16(r, udp + 6) !== 0) {
    const c = udpChecksum(r, udp);
    r[udp + 6] = c >> 8;
    r[udp + 7] = c & 0xff;
  }
  return r;
}

function printable(b: Uint8Array): string {
  const s = Array.from(b.subarray(0, 40), (c) => (c >= 0x20 && c < 0x7f && c !== 0x22 ? String.fromCharCode(c) : '.')).join('');
  return b.length > 40 ? `${s}…` : s;
}

await runExample<Options>({
  name: 'xdp-sock',
  description: 'receive UDP datagrams to a port in an AF_XDP socket, print them, and echo them with --echo',
  xdp: true,
  options(cmd) {
    cmd.option('-p, --port <n>', 'UDP destination port redirected to the socket', port, 7000)
      .option('-q, --queue <n>', 'the interface queue the socket binds to', (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a queue number');
        return n;
      }, 0)
      .option('--echo', 'send each datagram back to its sender through the socket')
      .option('--bind-mode <mode>', 'AF_XDP bind mode: auto, copy or zerocopy', (v: string) => {
        if (v !== 'auto' && v !== 'copy' && v !== 'zerocopy') throw new InvalidArgumentError('expected auto, copy or zerocopy');
        return v;
      }, 'auto');
  },
  async main(ctx) {
    const { port: udpPort, queue, echo, bindMode } = ctx.opts;
    // udp_port (set before load): only these datagrams are redirected; ARP and the rest go on to the stack
    const obj = loadObject(objectPath('xsk_redirect.o'), { constants: { udp_port: udpPort } });
    ctx.defer(() => obj.close());
    ctx.attachXdp(obj.program('xsk_redirect'));
    // closed before the program is detached (deferred work runs in reverse)
    const xsk = XdpSocket.create({ interface: ctx.iface, queue, mode: bindMode, frames: 4096, frameSize: 2048 });
    ctx.defer(() => xsk.close());
    xsk.register(obj.map('xsks'));
    console.log(`AF_XDP socket on ${xsk.interface} queue ${xsk.queue} (${xsk.mode} mode): UDP to port ${udpPort}${echo ? ', echoed' : ''}`);
    const traffic = ctx.demo && demoTraffic({ ns: ctx.demo.nsB, dst: ctx.demo.addrA, port: udpPort, udp: 3, every: ctx.every });

    let received = 0;
    let payloadBytes = 0;
    let echoed = 0;
    // the loop ends when the socket is closed: at SIGINT/SIGTERM or after --seconds, once the demo
    // traffic in flight has arrived and the kernel's counters are read
    let stats = xsk.stats();
    void ctx.stopped.then(async () => {
      await traffic?.finish();
      stats = xsk.stats();
      xsk.close();
    });
    for await (const frame of xsk) {
      const udp = parseUdp(frame);
      if (!udp) continue;
      received++;
      payloadBytes += udp.payload.length;
      const sport = u16(frame, 14 + udp.ihl);
      console.log(`${new Date().toISOString().slice(11, 23)} ${ip(frame, 26)}:${sport} > ${ip(frame, 30)}:${udpPort} len ${frame.length} "${printable(udp.payload)}"`);
      if (echo) {
        try {
          echoed += xsk.transmit([reply(frame, udp.ihl)]);
        } catch (e) {
          if (!(e instanceof XskNoFreeFrameError)) throw e;
          console.log('echo dropped: no free TX frame');
        }
      }
    }
    const s = stats;
    console.log(`received ${received} datagrams (${payloadBytes} payload bytes), echoed ${echoed}; dropped: ${s.rxDropped}, RX ring full: ${s.rxRingFull}, fill ring empty: ${s.rxFillRingEmptyDescs}`);
  },
});
