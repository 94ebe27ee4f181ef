// Addresses and ports between their text form and the way the programs keep them: in network
// byte order, so a __u32 address read as a host (little-endian) integer has the first octet in
// its low byte, and a __be16 port has its bytes swapped.
import { InvalidArgumentError } from 'commander';

const le = new DataView(new ArrayBuffer(4));

/** "a.b.c.d" → the __u32 whose memory holds a, b, c, d (network order) */
export function ipv4ToU32(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new InvalidArgumentError(`not an IPv4 address: ${text}`);
  }
  parts.forEach((p, i) => le.setUint8(i, Number(p)));
  return le.getUint32(0, true);
}

/** the inverse of ipv4ToU32 */
export function u32ToIpv4(n: number): string {
  le.setUint32(0, n >>> 0, true);
  return `${le.getUint8(0)}.${le.getUint8(1)}.${le.getUint8(2)}.${le.getUint8(3)}`;
}

/** a port as a __be16 read as a host integer (htons on little-endian hosts) */
export function htons(port: number): number {
  return ((port & 0xff) << 8) | ((port >> 8) & 0xff);
}

export const ntohs = htons;

export const PROTOCOLS: Record<number, string> = { 0: 'hopopt', 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' };

export function protocolName(n: number): string {
  return PROTOCOLS[n] ?? `proto-${n}`;
}

/** "udp" / "tcp" / a number → the IP protocol number */
export function parseProtocol(text: string): number {
  const byName = Object.entries(PROTOCOLS).find(([, name]) => name === text.toLowerCase());
  if (byName) return Number(byName[0]);
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidArgumentError(`not a protocol: ${text}`);
  return n;
}

/** "addr:port" → parts (for --service VIP:PORT=BACKEND:PORT style options) */
export function parseAddrPort(text: string): { addr: string; port: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new InvalidArgumentError(`expected ADDR:PORT, got ${text}`);
  ipv4ToU32(m[1]);
  return { addr: m[1], port: Number(m[2]) };
}

/** sum of one field over a per-CPU value array (numbers or bigints) */
export function sumCpus<T>(values: readonly T[], field: (v: T) => bigint | number): bigint {
  let s = 0n;
  for (const v of values) s += BigInt(field(v));
  return s;
}

export interface ServiceSpec {
  proto: number;
  vip: { addr: string; port: number };
  backend: { addr: string; port: number };
}

/** "VIP:PORT=BACKEND:PORT" with an optional "/udp" (default) or "/tcp" */
export function parseService(text: string): ServiceSpec {
  const m = /^([^=]+)=([^/]+)(?:\/(udp|tcp))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected VIP:PORT=BACKEND:PORT[/udp|/tcp], got ${text}`);
  return { vip: parseAddrPort(m[1]), backend: parseAddrPort(m[2]), proto: m[3] === 'tcp' ? 6 : 17 };
}

/** commander helper for repeatable options */
export function collect<T>(parse: (v: string) => T): (v: string, prev: T[] | undefined) => T[] {
  return (v, prev) => [...(prev ?? []), parse(v)];
}

export function showService(s: ServiceSpec): string {
  return `${protocolName(s.proto)} ${s.vip.addr}:${s.vip.port} -> ${s.backend.addr}:${s.backend.port}`;
}

/** struct service of bpf/include/example_net.h, as the maps' BTF decodes it (network byte order) */
export interface Service { addr: number; port: number; proto: number; pad: number }
/** struct endpoint of bpf/include/example_net.h */
export interface Endpoint { addr: number; port: number; pad: number }

export function serviceKey(addr: string, port: number, proto: number): Service {
  return { addr: ipv4ToU32(addr), port: htons(port), proto, pad: 0 };
}

export function endpoint(addr: string, port: number): Endpoint {
  return { addr: ipv4ToU32(addr), port: htons(port), pad: 0 };
}
