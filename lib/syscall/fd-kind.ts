// What kind of bpf object an fd refers to (a pin can hold a map, a program or a link).
import { readlinkSync } from 'node:fs';
import { BpfArgumentError } from './errors.js';

/**
 * The kind of bpf object behind an fd ('map', 'prog', 'link', 'btf', 'token'), from its /proc/self/fd
 * link: the kernel names the anon inodes "bpf-map", "bpf-prog", "bpf-token", but "bpf_link" and "btf".
 */
export function fdKind(fd: number): string {
  try {
    const link = readlinkSync(`/proc/self/fd/${fd}`);
    const m = /^anon_inode:(?:bpf[-_](\w+)|(btf))$/.exec(link);
    return m ? (m[1] ?? m[2]) : link;
  } catch {
    return 'unknown';
  }
}

/**
 * Throws unless `fd` is a bpf object of `kind` ('map', 'prog', 'link', 'btf'): OBJ_GET_INFO_BY_FD
 * answers any kind, so a map opened from a program's pin would read a prog_info as a map_info.
 */
export function expectFdKind(fd: number, kind: string, what: string): void {
  const got = fdKind(fd);
  if (got === kind) return;
  // fdKind gives the bare kind for bpf objects only; anything else is its /proc link (a path,
  // 'pipe:[…]', 'socket:[…]', 'anon_inode:[eventfd]') or 'unknown'
  const bpf = /^(map|prog|link|btf|token)$/.test(got);
  throw new BpfArgumentError('OBJ_GET', `${what} is ${bpf ? `a bpf ${got}` : `not a bpf object (${got})`}, not a ${kind}`);
}
