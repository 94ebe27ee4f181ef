// Attach targets from kernel BTF: fentry/fexit/fmod_ret name a kernel function, lsm a bpf_lsm_
// hook, iter a bpf_iter_ target, tp_btf a btf_trace_ typedef. PROG_LOAD needs the target's type
// id in vmlinux BTF (attach_btf_id). Module BTF is not searched (a clear error says so).
import { loadKernelBtf } from '../btf/kernel.js';
import type { Btf } from '../btf/btf.js';
import { ObjectError } from './errors.js';
import type { ProgramSpec } from './spec.js';

export function attachBtfId(p: ProgramSpec, kernelBtf: Btf | undefined): { id: number; btf: Btf } {
  const def = p.sectionDef?.attachBtf;
  if (!def) throw new ObjectError(`program ${p.name}: section ${p.section} takes no BTF attach target`, { program: p.name, section: p.section });
  if (!p.attachTo) {
    throw new ObjectError(`program ${p.name}: section ${p.section} names no attach target (write ${p.section}/<target>)`, { program: p.name, section: p.section });
  }
  const btf = kernelBtf ?? loadKernelBtf();
  const name = def.prefix + p.attachTo;
  const t = btf.findByName(name, def.kind);
  if (!t) {
    throw new ObjectError(`program ${p.name}: attach target ${name} (${def.kind}) is not in the kernel's BTF (vmlinux; module targets are not searched)`, { program: p.name, section: p.section, symbol: name });
  }
  return { id: t.id, btf };
}
