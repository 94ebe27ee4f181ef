// IP addresses and prefixes as rtnetlink carries them: the address bytes in network order (4 for
// IPv4, 16 for IPv6) and a prefix length in the fixed header. Text is what `ip` reads and prints:
// dotted quads, RFC 5952 IPv6 (with "::" and an embedded dotted quad), "ADDR/LEN".
import { isIPv4, isIPv6 } from 'node:net';
import { TsbpfError } from '../errors.js';

export type IpFamily = 4 | 6;

/** An address or prefix that is not one: the text, and why. */
export class InvalidAddressError extends TsbpfError {
  readonly input: unknown;
  constructor(input: unknown, why: string) {
    super(`${typeof input === 'string' ? JSON.stringify(input) : String(input)} ${why}`);
    this.input = input;
  }
}

export interface IpAddress {
  readonly family: IpFamily;
  /** network order, 4 or 16 bytes */
  readonly bytes: Uint8Array;
}

export interface IpPrefix extends IpAddress {
  readonly length: number;
}

/** AF_INET / AF_INET6 */
export const ADDRESS_FAMILY: Readonly<Record<IpFamily, number>> = { 4: 2, 6: 10 };

function v4Bytes(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/** An IPv4 or IPv6 address in text; InvalidAddressError when it is neither (a zone "%eth0" included). */
export function parseIp(text: unknown, what = 'address'): IpAddress {
  if (typeof text !== 'string') throw new InvalidAddressError(text, `is not an IP ${what} (a ${typeof text})`);
  if (isIPv4(text)) return { family: 4, bytes: v4Bytes(text) };
  if (!isIPv6(text) || text.includes('%')) throw new InvalidAddressError(text, `is not an IPv4 or IPv6 ${what}`);
  // node has checked the form: at most one "::", groups of 1-4 hex digits, a dotted quad only last
  let tail: number[] = [];
  let body = text;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const b = v4Bytes(quad[1]);
    tail = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    body = text.slice(0, -quad[1].length);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const gap = body.indexOf('::');
  let words: number[];
  if (gap < 0) {
    words = [...groups(body), ...tail];
  } else {
    const head = groups(body.slice(0, gap));
    const rest = [...groups(body.slice(gap + 2)), ...tail];
    words = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => { bytes[2 * i] = w >> 8; bytes[2 * i + 1] = w & 0xff; });
  return { family: 6, bytes };
}

/**
 * "ADDR/LEN", or an address alone (a host route: /32, /128). The bits past the length must be zero,
 * as `ip route` wants them ("10.1.0.1/24" is refused here rather than silently taken as 10.1.0.0/24).
 */
export function parsePrefix(text: unknown, what = 'prefix'): IpPrefix {
  if (typeof text !== 'string') throw new InvalidAddressError(text, `is not an IP ${what} (a ${typeof text})`);
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash), what);
  const max = addr.family === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) throw new InvalidAddressError(text, `has prefix length ${JSON.stringify(len)}; IPv${addr.family} takes 0 to ${max}`);
    length = Number(len);
  }
  for (let bit = length; bit < max; bit++) {
    if (addr.bytes[bit >> 3] & (0x80 >> (bit & 7))) {
      throw new InvalidAddressError(text, `has host bits set past /${length} (the prefix is ${formatIp({ family: addr.family, bytes: masked(addr.bytes, length) })}/${length})`);
    }
  }
  return { ...addr, length };
}

function masked(bytes: Uint8Array, length: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = length; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** An address as text: a dotted quad, or RFC 5952 IPv6 (the longest run of two or more zero groups as "::"). */
export function formatIp(a: IpAddress): string {
  const b = a.bytes;
  if (a.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** "ADDR/LEN" */
export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p)}/${p.length}`;
}
