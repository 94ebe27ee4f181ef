// Kernel symbols by address (/proc/kallsyms), looked up the way bpftool's xlated dumper looks them
// up, so a call prints the same name: in a translated program a helper or kfunc call's imm is the
// function's address minus __bpf_call_base, and a bpf-to-bpf call's target is a JITed subprogram's
// address. bpftool sorts with a comparator on the low 32 bits of the difference and binary-searches
// that order; where several symbols share an address, which one it finds depends on both, so the
// same order and the same search are used here.
import { readFileSync } from 'node:fs';

export interface KernelSymbols {
  /** __bpf_call_base's address (0 when kallsyms hides addresses) */
  readonly callBase: bigint;
  /** The symbol at exactly `address`, undefined when none (or kallsyms is unreadable or hides addresses). */
  find(address: bigint): string | undefined;
}

interface Sym { low: number; name: string }

const LINE = /^([0-9a-fA-F]+) \S (\S+)/;

/** (int)(a - b) of two unsigned longs: the sign of the difference of their low 32 bits. */
const compare = (a: number, b: number): number => (a - b) | 0;

/** Reads /proc/kallsyms (or `text`, for tests) once. */
export function kernelSymbols(text?: string): KernelSymbols {
  let src = text;
  if (src === undefined) {
    try {
      src = readFileSync('/proc/kallsyms', 'utf8');
    } catch {
      src = '';
    }
  }
  let syms: Sym[] = [];
  let callBase = 0n;
  for (const line of src.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const address = BigInt(`0x${m[1]}`);
    if (m[2] === '__bpf_call_base') {
      callBase = address;
      // kernel.kptr_restrict: every address reads 0, none is usable
      if (address === 0n) {
        syms = [];
        break;
      }
    }
    if (address !== 0n) syms.push({ low: Number(address & 0xffffffffn), name: m[2] });
  }
  syms.sort((a, b) => compare(a.low, b.low)); // stable, as glibc's merge sort
  return {
    callBase,
    find(address: bigint): string | undefined {
      const key = Number(address & 0xffffffffn);
      // glibc's bsearch: the first probe that compares equal wins
      let lo = 0;
      let hi = syms.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const c = compare(key, syms[mid].low);
        if (c < 0) hi = mid;
        else if (c > 0) lo = mid + 1;
        else return syms[mid].name;
      }
      return undefined;
    },
  };
}
