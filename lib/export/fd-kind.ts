// What kind of bpf object an fd refers to (a pin can hold a map, a program or a link).
import { readlinkSync } from 'node:fs';

/** The kind of bpf object behind an fd, from its /proc/self/fd link ("anon_inode:bpf-map"). */
export function fdKind(fd: number): string {
  try {
    const link = readlinkSync(`/proc/self/fd/${fd}`);
    const m = /^anon_inode:bpf-(\w+)$/.exec(link);
    return m ? m[1] : link;
  } catch {
    return 'unknown';
  }
}
