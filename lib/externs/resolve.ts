// Giving every extern of an object its value from the running kernel (libbpf's
// bpf_object__resolve_externs): .kconfig bytes from the kernel config and LINUX_* virtual values,
// untyped __ksym addresses from kallsyms, typed __ksym variables and kfuncs as BTF ids in vmlinux
// (or a module's BTF when vmlinux lacks them) with their types checked by CO-RE's compatibility rule.
// A __weak extern the kernel lacks stays zero (a weak kfunc's calls are poisoned instead); a strong
// one is an ExternError naming it. No syscall: module BTF fds are the loader's business.
import type { Btf } from '../btf/btf.js';
import { typesAreCompat } from '../core/compat.js';
import { typeLabel } from '../core/spec.js';
import type { ExternLayout, ExternSpec } from './collect.js';
import { ExternError } from './errors.js';
import { readKallsyms } from './kallsyms.js';
import { linuxKernelVersion, readKernelConfig, setKconfigNumber, setKconfigValue, type KernelConfig } from './kconfig.js';

/** What one extern became. */
export type ResolvedExtern =
  /** a .kconfig value at this offset of the .kconfig map */
  | { readonly kind: 'kconfig'; readonly offset: number; readonly set: boolean }
  /** an address (untyped __ksym; 0 for an absent weak one) */
  | { readonly kind: 'address'; readonly address: bigint }
  /** a typed __ksym variable: its VAR id in vmlinux or in `module`'s BTF */
  | { readonly kind: 'btf_var'; readonly btfId: number; readonly module?: string }
  /** a kfunc: its FUNC id in vmlinux or in `module`'s BTF */
  | { readonly kind: 'kfunc'; readonly btfId: number; readonly module?: string }
  /** an absent weak kfunc: calls to it are poisoned (the verifier refuses them if reachable) */
  | { readonly kind: 'kfunc_missing' };

export interface ModuleBtf {
  readonly name: string;
  readonly btf: Btf;
}

export interface ExternSources {
  /** kernel BTF for typed ksyms and kfuncs */
  vmlinux?(): Btf;
  /** module BTFs, searched when vmlinux lacks a name */
  modules?(): readonly ModuleBtf[];
  /** the kernel config (default: read from /boot or /proc/config.gz on first need) */
  config?: KernelConfig | (() => KernelConfig);
  /** kallsyms addresses of the given names (default: /proc/kallsyms) */
  kallsyms?(names: ReadonlySet<string>): ReadonlyMap<string, bigint>;
  /** LINUX_KERNEL_VERSION (default: as libbpf computes it from uname) */
  kernelVersion?: number;
  /** LINUX_HAS_SYSCALL_WRAPPER / LINUX_HAS_BPF_COOKIE, when the caller probed them */
  features?: { readonly syscallWrapper?: boolean; readonly bpfCookie?: boolean };
}

export interface ResolvedExterns {
  readonly byName: ReadonlyMap<string, ResolvedExtern>;
  /** the .kconfig map's value (empty when the object has no .kconfig externs) */
  readonly kconfig: Uint8Array;
}

/** The id of the kind-`kind` type named `name`: vmlinux first, then each module's own types. */
function findKernelType(name: string, kind: 'var' | 'func', src: ExternSources, extern = name): { btf: Btf; id: number; module?: string } | undefined {
  let vml: Btf | undefined;
  try {
    vml = src.vmlinux?.();
  } catch (e) {
    throw new ExternError(extern, kind === 'func' ? 'kfunc' : 'ksym', `needs the kernel's BTF, which is unavailable: ${(e as Error).message}`, { cause: e });
  }
  if (vml) {
    const ids = vml.idsByName(name, kind);
    if (ids.length > 0) return { btf: vml, id: ids[0] };
  }
  for (const m of src.modules?.() ?? []) {
    const id = m.btf.idsByName(name, kind).find((x) => x >= m.btf.firstId);
    if (id !== undefined) return { btf: m.btf, id, module: m.name };
  }
  return undefined;
}

export function resolveExterns(layout: ExternLayout, local: Btf, src: ExternSources, littleEndian: boolean): ResolvedExterns {
  const kconfig = new Uint8Array(layout.kconfigSize);
  const byName = new Map<string, ResolvedExtern>();
  let config: KernelConfig | undefined;
  const configOf = (): KernelConfig => {
    if (!config) config = typeof src.config === 'function' ? src.config() : src.config ?? readKernelConfig();
    return config;
  };
  const untyped: ExternSpec[] = [];
  for (const e of layout.externs.values()) {
    if (e.kconfig) {
      byName.set(e.name, { kind: 'kconfig', offset: e.kconfig.offset, set: resolveKconfig(e, kconfig, configOf, src, littleEndian) });
    } else if (e.func) {
      byName.set(e.name, resolveKfunc(e, local, src));
    } else if (e.typeId === 0) {
      untyped.push(e);
    } else {
      byName.set(e.name, resolveTypedKsym(e, local, src));
    }
  }
  if (untyped.length > 0) {
    const names = new Set(untyped.map((e) => e.name));
    const found = src.kallsyms ? src.kallsyms(names) : readKallsyms(names);
    for (const e of untyped) {
      const address = found.get(e.name);
      if (address === undefined && !e.weak) throw new ExternError(e.name, 'ksym', 'not in /proc/kallsyms (and not __weak)');
      byName.set(e.name, { kind: 'address', address: address ?? 0n });
    }
  }
  return { byName, kconfig };
}

/** Fill one .kconfig extern; false when a weak one is left zero. */
function resolveKconfig(e: ExternSpec, out: Uint8Array, configOf: () => KernelConfig, src: ExternSources, le: boolean): boolean {
  if (e.name.startsWith('CONFIG_')) {
    const raw = configOf().get(e.name);
    if (raw === undefined) {
      if (e.weak) return false;
      throw new ExternError(e.name, 'kconfig', 'the kernel config has no value for it (not set, or unknown to this kernel); declare it __weak to default to zero');
    }
    setKconfigValue(e, out, raw, le);
    return true;
  }
  let value: bigint | undefined;
  if (e.name === 'LINUX_KERNEL_VERSION') {
    const v = src.kernelVersion ?? linuxKernelVersion();
    if (!v) throw new ExternError(e.name, 'kconfig', 'cannot tell the kernel version from uname');
    value = BigInt(v);
  } else if (e.name === 'LINUX_HAS_SYSCALL_WRAPPER' && src.features?.syscallWrapper !== undefined) {
    value = src.features.syscallWrapper ? 1n : 0n;
  } else if (e.name === 'LINUX_HAS_BPF_COOKIE' && src.features?.bpfCookie !== undefined) {
    value = src.features.bpfCookie ? 1n : 0n;
  } else if (e.name.startsWith('LINUX_') && e.weak) {
    return false;
  } else {
    throw new ExternError(e.name, 'kconfig', 'unknown virtual extern (only CONFIG_* and LINUX_KERNEL_VERSION, LINUX_HAS_* are known)');
  }
  setKconfigNumber(e, out, value, le);
  return true;
}

function resolveTypedKsym(e: ExternSpec, local: Btf, src: ExternSources): ResolvedExtern {
  const found = findKernelType(e.name, 'var', src);
  if (!found) {
    if (e.weak) return { kind: 'address', address: 0n };
    throw new ExternError(e.name, 'ksym', 'no such variable in the kernel\'s BTF (vmlinux or modules); declare it __weak to default to zero');
  }
  const targ = found.btf.type(found.id);
  const targType = found.btf.skipTypedefs((targ as { type: number }).type);
  if (!typesAreCompat(local, e.typeId, found.btf, targType)) {
    throw new ExternError(e.name, 'ksym', `incompatible types: the object says ${typeLabel(local, e.typeId)} [${e.typeId}], the kernel has ${typeLabel(found.btf, targType)} [${targType}]`);
  }
  return { kind: 'btf_var', btfId: found.id, module: found.module };
}

/** Kernels that brought kfuncs users meet missing on older ones: " (it came with Linux N)" or ''. */
function kfuncSince(name: string): string {
  // the XDP RX metadata kfuncs (device-bound programs): rx_timestamp and rx_hash 6.3, rx_vlan_tag 6.8
  const since = name === 'bpf_xdp_metadata_rx_vlan_tag' ? '6.8' : /^bpf_xdp_metadata_rx_(timestamp|hash)$/.test(name) ? '6.3' : undefined;
  return since ? ` (it came with Linux ${since})` : '';
}

function resolveKfunc(e: ExternSpec, local: Btf, src: ExternSources): ResolvedExtern {
  const found = findKernelType(e.essentialName, 'func', src, e.name);
  if (!found) {
    if (e.weak) return { kind: 'kfunc_missing' };
    throw new ExternError(e.name, 'kfunc', `no such function in the kernel's BTF (vmlinux or modules)${kfuncSince(e.essentialName)}; declare it __weak and guard its calls with bpf_ksym_exists()`);
  }
  const proto = (found.btf.type(found.id) as { type: number }).type;
  if (!typesAreCompat(local, e.typeId, found.btf, proto)) {
    if (e.weak) return { kind: 'kfunc_missing' };
    throw new ExternError(e.name, 'kfunc', `its prototype [${e.typeId}] is incompatible with the kernel's [${proto}] in ${found.module ?? 'vmlinux'}`);
  }
  return { kind: 'kfunc', btfId: found.id, module: found.module };
}
