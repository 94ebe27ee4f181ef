// Untyped __ksym externs take their address from /proc/kallsyms (libbpf's kallsyms_cb): the first
// line naming the symbol (a data symbol with a .llvm.<hash> suffix counts for its plain name); two
// different addresses for one name are an ambiguity, not a guess.
import { readFileSync } from 'node:fs';
import { ExternError } from './errors.js';

/** Addresses of the `wanted` names found in kallsyms text. */
export function parseKallsyms(text: string, wanted: ReadonlySet<string>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (wanted.size === 0) return out;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    // "ffffffff81524350 T bpf_task_from_pid\t[module]"
    const s1 = text.indexOf(' ', at);
    if (s1 > at && s1 + 3 < end) {
      const type = text[s1 + 1];
      let nameEnd = text.indexOf('\t', s1 + 3);
      if (nameEnd < 0 || nameEnd > end) nameEnd = end;
      let name = text.slice(s1 + 3, nameEnd);
      const llvm = name.indexOf('.llvm.');
      if (type === 'd' && llvm >= 0) name = name.slice(0, llvm);
      if (wanted.has(name)) {
        const addr = BigInt(`0x${text.slice(at, s1)}`);
        const have = out.get(name);
        if (have !== undefined && have !== addr) {
          throw new ExternError(name, 'ksym', `ambiguous in kallsyms: 0x${have.toString(16)} or 0x${addr.toString(16)}`);
        }
        out.set(name, addr);
      }
    }
    at = end + 1;
  }
  return out;
}

export function readKallsyms(wanted: ReadonlySet<string>, path = '/proc/kallsyms'): Map<string, bigint> {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new ExternError([...wanted][0] ?? '?', 'ksym', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return parseKallsyms(text, wanted);
}
