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

export const cases: BenchCase[] = [{
  id: 'btf_parse_vmlinux',
  title: 'open /sys/kernel/btf/vmlinux, index, find struct sk_buff, walk its members',
  targets: [{ max: 1.0, label: '≤ 1.0× btf__parse+find+walk' }],
  run: () => measure((ops) => { for (let i = 0; i < ops; i++) openAndWalk(); }, 10),
}];
