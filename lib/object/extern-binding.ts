// Externs at load time: the values from the running kernel, written into the .kconfig map's data
// and into each function's instructions (LD_IMM64 of a kconfig value, a typed ksym's BTF id, an
// untyped ksym's address; kfunc calls' BTF ids and fd_array slots of module BTFs). A __weak kfunc
// the kernel lacks is poisoned like libbpf does, and a verifier failure on it names it.
import { loadKernelBtf } from '../btf/kernel.js';
import type { Btf } from '../btf/btf.js';
import { allIds, btfInfo, getFdById } from '../syscall/obj.js';
import type { Fd } from '../syscall/fd.js';
import { KCONFIG_SEC } from '../externs/collect.js';
import { resolveExterns, type ExternSources, type ModuleBtf, type ResolvedExterns } from '../externs/resolve.js';
import { parseKernelConfig, type KernelConfig } from '../externs/kconfig.js';
import { ExternError } from '../externs/errors.js';
import { readKallsyms } from '../externs/kallsyms.js';
import { loadBtfFile, runningModuleBtfs } from './core.js';
import { hasExterns, objectExterns } from './externs.js';
import { Insns, OP, PSEUDO } from './insn.js';
import type { ObjectSpec } from './read.js';
import type { FunctionSpec } from './spec.js';

/** libbpf's POISON_CALL_KFUNC_BASE: an absent weak kfunc's call becomes helper #(base + extern index). */
export const POISON_KFUNC_BASE = 2002000000;

export interface ExternOptions {
  /** kernel BTF for typed ksyms and kfuncs (default: the running kernel's, with its modules) */
  kernelBtf?: Btf;
  /** the kernel config (default: /boot/config-$(uname -r), else /proc/config.gz) */
  kconfig?: KernelConfig;
}

/** Module BTF objects of the running kernel by name (BTF_GET_NEXT_ID, fds kept only for those used). */
function moduleBtfFd(name: string): Fd {
  for (const id of allIds('btf')) {
    let fd: Fd | undefined;
    try {
      fd = getFdById('btf', id);
      const info = btfInfo(fd.value);
      if (info.kernelBtf && info.name === name) return fd;
    } catch { /* gone meanwhile */ }
    fd?.close();
  }
  throw new ExternError(name, 'kfunc', `the BTF object of module ${name} is not loaded`);
}

/** What a load needs of the externs: patched code per function, fd_array, module BTF fds to close. */
export class ExternBinding {
  readonly resolved: ResolvedExterns;
  /** PROG_LOAD fd_array: slot 0 unused (vmlinux), then module BTF fds */
  readonly fdArray: number[] = [];
  private readonly moduleFds = new Map<string, { fd: Fd; slot: number }>();
  private readonly done = new Map<FunctionSpec, Uint8Array>();
  private readonly order: string[];

  constructor(private readonly spec: ObjectSpec, o: ExternOptions = {}) {
    const src = spec.source;
    const layout = objectExterns(src);
    this.order = [...layout.externs.keys()];
    let vmlinux: Btf | undefined = o.kernelBtf;
    let modules: ModuleBtf[] | undefined;
    const sources: ExternSources = {
      vmlinux: () => (vmlinux ??= loadKernelBtf()),
      modules: o.kernelBtf ? undefined : () => (modules ??= runningModuleBtfs()),
      config: o.kconfig,
    };
    // the LINUX_HAS_* virtual externs, looked up only when the object asks
    if (layout.externs.has('LINUX_HAS_SYSCALL_WRAPPER') || layout.externs.has('LINUX_HAS_BPF_COOKIE')) {
      sources.features = {
        syscallWrapper: layout.externs.has('LINUX_HAS_SYSCALL_WRAPPER') ? hasSyscallWrapper() : undefined,
        bpfCookie: layout.externs.has('LINUX_HAS_BPF_COOKIE') ? hasBpfCookie(sources.vmlinux!()) : undefined,
      };
    }
    this.resolved = resolveExterns(layout, src.btf!, sources, spec.littleEndian);
  }

  /** The .kconfig map's value. */
  get kconfigData(): Uint8Array {
    return this.resolved.kconfig;
  }

  /** `code` (a function's instructions, possibly CO-RE-relocated) with its extern references filled. */
  code(fn: FunctionSpec, code: Uint8Array, kconfigFd: () => number): Uint8Array {
    const refs = fn.relocations.filter((r) => (r.target as { kind: string }).kind === 'extern');
    if (refs.length === 0) return code;
    const have = this.done.get(fn);
    if (have) return have;
    const out = code.slice();
    const v = new Insns(out, this.spec.littleEndian);
    for (const r of refs) {
      const name = (r.target as unknown as { name: string }).name;
      const x = this.resolved.byName.get(name);
      if (!x) throw new ExternError(name, undefined, `function ${fn.name} refers to it but it was not resolved`);
      const i = r.insn;
      const isCall = v.code(i) === OP.CALL;
      if (isCall) {
        if (x.kind === 'kfunc') {
          v.setSrc(i, PSEUDO.KFUNC_CALL);
          v.setImm(i, x.btfId);
          v.view.setInt16(i * 8 + 2, x.module ? this.slotFor(x.module) : 0, this.spec.littleEndian);
        } else if (x.kind === 'kfunc_missing') {
          // an invalid helper the verifier names if the call is reachable (dead behind bpf_ksym_exists())
          out[i * 8] = OP.CALL;
          out[i * 8 + 1] = 0;
          v.view.setInt16(i * 8 + 2, 0, this.spec.littleEndian);
          v.setImm(i, POISON_KFUNC_BASE + this.order.indexOf(name));
        } else {
          throw new ExternError(name, undefined, `function ${fn.name} calls it at instruction ${i}, but it is not a kernel function`);
        }
        continue;
      }
      if (!v.isLdImm64(i)) throw new ExternError(name, undefined, `function ${fn.name}: instruction ${i} refers to it but is neither a 64-bit load nor a call`);
      switch (x.kind) {
        case 'kconfig':
          v.setSrc(i, PSEUDO.MAP_VALUE);
          v.setImm(i, kconfigFd());
          v.setImm(i + 1, x.offset);
          break;
        case 'btf_var':
          v.setSrc(i, PSEUDO.BTF_ID);
          v.setImm(i, x.btfId);
          v.setImm(i + 1, x.module ? this.moduleFd(x.module) : 0);
          break;
        case 'kfunc':
          // a kfunc's address (bpf_ksym_exists): its BTF id, as libbpf writes it
          v.setSrc(i, PSEUDO.BTF_ID);
          v.setImm(i, x.btfId);
          v.setImm(i + 1, x.module ? this.moduleFd(x.module) : 0);
          break;
        case 'address':
          v.setImm(i, Number(BigInt.asIntN(32, x.address & 0xffffffffn)));
          v.setImm(i + 1, Number(BigInt.asIntN(32, x.address >> 32n)));
          break;
        case 'kfunc_missing':
          v.setImm(i, 0);
          v.setImm(i + 1, 0);
          break;
      }
    }
    this.done.set(fn, out);
    return out;
  }

  private moduleFd(module: string): number {
    let m = this.moduleFds.get(module);
    if (!m) {
      m = { fd: moduleBtfFd(module), slot: 0 };
      this.moduleFds.set(module, m);
    }
    return m.fd.value;
  }

  private slotFor(module: string): number {
    const fd = this.moduleFd(module);
    const m = this.moduleFds.get(module)!;
    if (m.slot === 0) {
      if (this.fdArray.length === 0) this.fdArray.push(0); // slot 0 stands for vmlinux
      if (this.fdArray.length > 0x7fff) throw new ExternError(module, 'kfunc', 'too many module BTFs for an instruction\'s 16-bit fd_array index');
      m.slot = this.fdArray.length;
      this.fdArray.push(fd);
    }
    return m.slot;
  }

  /** The absent weak kfunc a poisoned call's helper number stands for, if any. */
  poisonedKfunc(helper: number): string | undefined {
    const name = this.order[helper - POISON_KFUNC_BASE];
    return name !== undefined && this.resolved.byName.get(name)?.kind === 'kfunc_missing' ? name : undefined;
  }

  /** Close the module BTF fds (after the programs are loaded, or on failure). */
  close(): void {
    for (const m of this.moduleFds.values()) m.fd.close();
    this.moduleFds.clear();
  }
}

/** Syscalls enter through __<arch>_sys_* wrappers (pt_regs) on this kernel: the wrapper of bpf() is in kallsyms. */
function hasSyscallWrapper(): boolean {
  const prefix = ({ x64: 'x64', arm64: 'arm64', s390x: 's390x', arm: 'arm', riscv64: 'riscv', ppc64: 'powerpc', loong64: 'loongarch' } as Record<string, string>)[process.arch];
  if (!prefix) return false;
  const name = `__${prefix}_sys_bpf`;
  return readKallsyms(new Set([name])).has(name);
}

/** The kernel has bpf_get_attach_cookie() (5.15): its helper id is in vmlinux's enum bpf_func_id. */
function hasBpfCookie(vmlinux: Btf): boolean {
  return vmlinux.findAllByName('bpf_func_id', 'enum').some((t) => t.values.some((v) => v.name === 'BPF_FUNC_get_attach_cookie'));
}



/** The binding of a spec being loaded (set by bindExterns). */
const bindings = new WeakMap<ObjectSpec, ExternBinding>();

/**
 * For loadObject: resolve the spec's externs against the running kernel (or `kernelBtf`), put the
 * .kconfig values into a copy of the spec's '.kconfig' map, and remember the binding for
 * externCode/externFdArray. The spec itself comes back when it has no externs.
 */
export function bindExterns(spec: ObjectSpec, o: { kernelBtf?: Btf | string; kconfig?: string | KernelConfig } = {}): { spec: ObjectSpec; close(): void } {
  if (!hasExterns(spec)) return { spec, close() {} };
  const kconfig = typeof o.kconfig === 'string' ? parseKernelConfig(o.kconfig, 'the kconfig option') : o.kconfig;
  const kernelBtf = typeof o.kernelBtf === 'string' ? loadBtfFile(o.kernelBtf) : o.kernelBtf;
  const out = spec.copy();
  const binding = new ExternBinding(out, { kernelBtf, kconfig });
  const m = out.maps.get(KCONFIG_SEC);
  if (m) m.data = binding.kconfigData;
  bindings.set(out, binding);
  return { spec: out, close: () => binding.close() };
}

/** A function's code with its extern references filled (unchanged without a binding or references). */
export function externCode(spec: ObjectSpec, fn: FunctionSpec, code: Uint8Array, kconfigFd: () => number): Uint8Array {
  const b = bindings.get(spec);
  return b ? b.code(fn, code, kconfigFd) : code;
}

/** PROG_LOAD's fd_array for a bound spec's programs (module BTFs of kfuncs), or undefined. */
export function externFdArray(spec: ObjectSpec): number[] | undefined {
  const a = bindings.get(spec)?.fdArray;
  return a && a.length > 0 ? a : undefined;
}

/**
 * For a verifier failure: which absent __weak kfunc a reachable poisoned call stands for
 * ("invalid func unknown#2002000003" → its name), or '' when the log shows none.
 */
export function externPoisonNote(spec: ObjectSpec, log: string): string {
  const b = bindings.get(spec);
  if (!b) return '';
  const names = new Set<string>();
  for (const m of log.matchAll(/unknown#(\d+)/g)) {
    const name = b.poisonedKfunc(Number(m[1]));
    if (name) names.add(name);
  }
  if (names.size === 0) return '';
  return `it reaches a call of ${[...names].join(', ')}, a __weak kfunc this kernel does not have (guard the call with bpf_ksym_exists())`;
}
