// The objects `make bpf` and `make bpf-variants` build: bpf/*.o and bpf/build/<variant>/*.o, sorted.
import { existsSync, readdirSync } from 'node:fs';

export function builtObjects(root = 'bpf'): string[] {
  const out: string[] = [];
  if (existsSync(root)) for (const f of readdirSync(root)) if (f.endsWith('.o')) out.push(`${root}/${f}`);
  const build = `${root}/build`;
  if (existsSync(build)) {
    for (const d of readdirSync(build)) {
      for (const f of readdirSync(`${build}/${d}`)) if (f.endsWith('.o')) out.push(`${build}/${d}/${f}`);
    }
  }
  return out.sort();
}
