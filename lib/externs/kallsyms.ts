// Untyped __ksym externs take their address from /proc/kallsyms (libbpf's kallsyms_cb): the first
// line naming the symbol (a data symbol with a .llvm.<hash> suffix counts for its plain name); two
// different addresses for one name are an ambiguity, not a guess.
import { closeSync, openSync, readSync } from 'node:fs';
import { ExternError } from './errors.js';

/** Addresses of the `wanted` names found in kallsyms text ("ffffffff81524350 T name[\t[module]]" lines). */
export function parseKallsyms(text: string, wanted: ReadonlySet<string>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  // a native substring search per wanted name, then a look at its line: far faster than splitting 120k lines
  for (const name of wanted) {
    for (let p = text.indexOf(name); p >= 0; p = text.indexOf(name, p + 1)) {
      // " T " before the name, at a line's third field
      if (p < 3 || text[p - 1] !== ' ' || text[p - 3] !== ' ') continue;
      const after = text[p + name.length];
      const type = text[p - 2];
      const whole = after === undefined || after === '\n' || after === '\t';
      // a data symbol with a .llvm.<hash> suffix stands for its plain name
      if (!whole && !(type === 'd' && text.startsWith('.llvm.', p + name.length))) continue;
      const lineStart = text.lastIndexOf('\n', p) + 1;
      const hex = text.slice(lineStart, p - 3);
      if (!/^[0-9a-fA-F]+$/.test(hex)) continue;
      const addr = BigInt(`0x${hex}`);
      const have = out.get(name);
      if (have !== undefined && have !== addr) {
        throw new ExternError(name, 'ksym', `ambiguous in kallsyms: 0x${have.toString(16)} or 0x${addr.toString(16)}`);
      }
      out.set(name, addr);
    }
  }
  return out;
}

export function readKallsyms(wanted: ReadonlySet<string>, path = '/proc/kallsyms'): Map<string, bigint> {
  return parseKallsyms(readProcFile(path, [...wanted][0] ?? '?'), wanted);
}

/**
 * A /proc file read sequentially in large chunks: kallsyms reports size 0, and readFileSync's
 * positioned reads make the kernel walk the symbol table again for each one (5 s instead of 80 ms).
 */
function readProcFile(path: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ExternError(what, 'ksym', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('latin1');
  } finally {
    closeSync(fd);
  }
}
