// BTF row (issue 3): open /sys/kernel/btf/vmlinux, index it, find struct sk_buff and read its
// members, ns per whole open; baseline bench/c/btf_parse.c (btf__parse + btf__find_by_name_kind +
// member walk). Every op parses afresh (cache: false), as btf__parse does.
import { loadKernelBtf } from '../../lib/index.js';
import { measure, type BenchCase } from '../lib/case.js';

let sink = 0;

function openAndWalk(): void {
  const btf = loadKernelBtf({ cache: false });
  const t = btf.findByName('sk_buff', 'struct');
  if (!t) throw new Error('struct sk_buff not found in /sys/kernel/btf/vmlinux');
  for (const m of t.members) sink += m.name.length + m.type + m.bitOffset;
}

/** every 40th named struct in id order, 200 of them (the C baseline picks the same) */
function structNames(): string[] {
  const btf = loadKernelBtf();
  const out: string[] = [];
  let seen = 0;
  for (let id = 1; id < btf.typeCount && out.length < 200; id++) {
    if (btf.kindOf(id) !== 'struct' || btf.nameOf(id) === '') continue;
    if (seen++ % 40 === 0) out.push(btf.nameOf(id));
  }
  return out;
}

function openAndFind(names: readonly string[]): void {
  const btf = loadKernelBtf({ cache: false });
  for (const n of names) {
    const t = btf.findByName(n, 'struct');
    if (!t) throw new Error(`struct ${n} not found`);
    sink += t.id;
  }
}

export const cases: BenchCase[] = [{
  id: 'btf_parse_vmlinux',
  title: 'open /sys/kernel/btf/vmlinux, index, find struct sk_buff, walk its members',
  targets: [{ max: 1.0, label: '≤ 1.0× btf__parse+find+walk' }],
  run: () => measure((ops) => { for (let i = 0; i < ops; i++) openAndWalk(); }, 10),
}, {
  id: 'btf_find_200_names',
  title: 'open vmlinux BTF, find 200 structs by name (2 scans, then the name index)',
  run() {
    const names = structNames();
    return measure((ops) => { for (let i = 0; i < ops; i++) openAndFind(names); }, 3);
  },
}];
