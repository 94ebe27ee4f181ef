// Typed errors of the bpf() syscall layer. Callers branch on the class (KeyNotFoundError,
// KeyExistsError, BpfPermissionError, VerifierError) or on `errno`; the message says what to do.
import { readFileSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { errnoMessage, errnoName } from './errno.js';

/** A failed bpf() command: the command name, the errno name and number, and a readable message. */
export class BpfError extends TsbpfError {
  /** 'MAP_UPDATE_ELEM', 'PROG_LOAD', … (the BPF_ command without its prefix) */
  readonly cmd: string;
  /** 'E2BIG', 'ENOENT', … */
  readonly errno: string;
  /** the positive errno number */
  readonly code: number;
  constructor(cmd: string, code: number, detail?: string, options?: { cause?: unknown }) {
    const c = Math.abs(code);
    super(`${cmd}: ${errnoName(c)} (${errnoMessage(c)})${detail ? `: ${detail}` : ''}`, options);
    this.cmd = cmd;
    this.errno = errnoName(c);
    this.code = c;
  }
}

/** ENOENT from a lookup, delete or lookup-and-delete: the key is not in the map. */
export class KeyNotFoundError extends BpfError {}

/** EEXIST from an update with 'noexist': the key is already in the map. */
export class KeyExistsError extends BpfError {}

/** EPERM/EACCES: the process lacks a privilege; `missing` names what (as far as we can tell). */
export class BpfPermissionError extends BpfError {
  readonly missing: readonly string[];
  constructor(cmd: string, code: number, missing: readonly string[], detail?: string) {
    const need = `missing ${missing.join(', ')}`;
    super(cmd, code, `${need}; run as root, or grant CAP_BPF (+ CAP_NET_ADMIN for networking programs and links, CAP_PERFMON for tracing; CAP_SYS_ADMIN before 5.8)${detail ? `; ${detail}` : ''}`);
    this.missing = missing;
  }
}

/** PROG_LOAD rejected by the verifier (or BTF_LOAD by the BTF checker): carries the kernel's log text. */
export class VerifierError extends BpfError {
  readonly log: string;
  /** true when the log buffer was too small and the log was cut (ENOSPC) */
  readonly truncated: boolean;
  constructor(cmd: string, code: number, log: string, truncated: boolean, what?: string) {
    const tail = lastLines(log, 6);
    super(cmd, code, `${what ? `${what}: ` : ''}${tail ? `verifier log (last lines):\n${tail}` : 'no verifier log (retry with a log level)'}`);
    this.log = log;
    this.truncated = truncated;
  }
}

/** Use of an fd, map, program or link after close(). Thrown before any syscall. */
export class ClosedError extends TsbpfError {
  constructor(what: string) {
    super(`${what} is closed`);
  }
}

/** An argument that cannot be right (wrong key length, unknown map type, bad pin path): thrown before the syscall. */
export class BpfArgumentError extends TsbpfError {
  /** the operation that was asked for: 'MAP_LOOKUP_ELEM', 'BpfMap.create', … */
  readonly op: string;
  /** what was wrong, without the operation (for callers that re-raise it under their own) */
  readonly detail: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.op = op;
    this.detail = message;
  }
}

/** A pin path that is not on a bpffs mount (checked before OBJ_PIN / OBJ_GET). */
export class NotBpffsError extends BpfArgumentError {
  readonly path: string;
  constructor(op: string, path: string, why: string) {
    super(op, `${path} is not on a bpffs mount (${why}); mount one with: mount -t bpf bpf /sys/fs/bpf`);
    this.path = path;
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n).join('\n');
}

/**
 * Which BPF-relevant capabilities this process lacks (CapEff in /proc/self/status; linux/capability.h:
 * CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39).
 */
export function missingCapabilities(): string[] {
  let eff: bigint;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!m) return [];
    eff = BigInt(`0x${m[1]}`);
  } catch {
    return [];
  }
  const has = (bit: number) => (eff & (1n << BigInt(bit))) !== 0n;
  const admin = has(21); // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON in bpf()
  const missing: string[] = [];
  if (!admin && !has(39)) missing.push('CAP_BPF (or root)');
  if (!has(12)) missing.push('CAP_NET_ADMIN');
  if (!admin && !has(38)) missing.push('CAP_PERFMON');
  return missing;
}
