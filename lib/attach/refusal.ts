// The kernel's refusal of an attach command (LINK_CREATE, PROG_ATTACH) said with where it was asked:
// bpf() has no extended ack, so a bare "LINK_CREATE: EBUSY" would not tell which interface, hook or
// program was meant. Every attach function passes its refusals through attachRefusal.
import { BpfError, BpfPermissionError } from '../syscall/errors.js';

/**
 * `e` with `where` (the hook, its target, the program) and, when `hint` has one for the errno, what
 * usually causes it. The error keeps its class (BpfError, BpfPermissionError), command and errno;
 * the original is its `cause`. Anything that is not a BpfError is returned as it is.
 */
export function attachRefusal(e: unknown, where: string, hint?: (e: BpfError) => string | undefined): unknown {
  if (!(e instanceof BpfError)) return e;
  const h = hint?.(e);
  const detail = h ? `${where}; ${h}` : where;
  if (e instanceof BpfPermissionError) {
    const p = new BpfPermissionError(e.cmd, e.code, e.missing, detail);
    Object.defineProperty(p, 'cause', { value: e, configurable: true, writable: true });
    return p;
  }
  if (e.constructor !== BpfError) return e;
  return new BpfError(e.cmd, e.code, detail, { cause: e });
}

/** "program NAME (id N)" */
export const programLabel = (p: { name: string; id: number }): string => `program ${p.name || '(no name)'} (id ${p.id})`;
