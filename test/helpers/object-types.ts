// CodecTypeSource of an object file's .BTF read through lib/btf (btfCodecSource), with a lookup by
// bpftool-style kind name for the tests ('STRUCT', 'TYPEDEF', …).
import { readBtfFile } from '../../lib/cli/btf.js';
import { btfCodecSource } from '../../lib/codec/btf-source.js';
import type { Btf, BtfKindName } from '../../lib/btf/index.js';
import type { CodecTypeSource } from '../../lib/codec/index.js';

export function objectTypes(path: string): CodecTypeSource & { btf: Btf; byName(kind: string, name: string): number } {
  const btf = readBtfFile(path);
  const source = btfCodecSource(btf);
  return {
    btf,
    get: (id: number) => source.get(id),
    byName(kind: string, name: string): number {
      const t = btf.findByName(name, kind.toLowerCase() as BtfKindName);
      if (!t) throw new Error(`no ${kind} ${name} in ${path}`);
      return t.id;
    },
  };
}
