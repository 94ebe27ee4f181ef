// Programs loaded bound to one network device (libbpf's bpf_program__set_ifindex with the flag
// BPF_F_XDP_DEV_BOUND_ONLY, Linux 6.3): PROG_LOAD with prog_ifindex. Such an XDP program may call
// the XDP RX metadata kfuncs (bpf_xdp_metadata_rx_hash, …), which the kernel resolves to that
// device's driver; in exchange it attaches only to that device, in native mode, and the kernel
// takes it nowhere else (no generic mode, test run, prog array or devmap).
//
// The kernel looks prog_ifindex up in the loading thread's network namespace: with `netns` the
// interface is looked up there, and the PROG_LOAD runs there too (netns-enter.ts).
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE, progTypeName } from '../syscall/types.js';
import { checkInterfaceRef, type InterfaceRef } from '../netlink/link.js';
import { InterfaceNotFoundError } from '../netlink/errors.js';
import { Netns, type NetnsRef } from '../netlink/netns-enter.js';
import { interfaceIn } from '../attach/netns.js';
import { boundDeviceText } from '../attach/xdp.js';
import { ERRNO } from '../syscall/errno.js';
import { ObjectError } from './errors.js';
import type { ObjectSpec } from './read.js';
import type { FunctionSpec, ProgramSpec } from './spec.js';
import type { BoundDevice } from '../program/program.js';

/** How one program of an object is loaded (LoadObjectOptions.programs). */
export interface ProgramLoadOptions {
  /**
   * Bind the program to this network device (name or index): it may then call the XDP RX metadata
   * kfuncs, and attaches only to this device, in native ('drv') mode. XDP programs only.
   */
  interface?: InterfaceRef;
  /** the network namespace `interface` is in (default: the calling thread's); as attachXdp's */
  netns?: NetnsRef;
}

/** A program's device, with its namespace held open until the program is loaded. */
export interface DeviceBinding extends BoundDevice {
  readonly ns?: Netns;
}

/** The kernel's dev-bound kfuncs (enum xdp_rx_metadata, include/net/xdp.h): its verifier refuses them in unbound programs. */
const METADATA_KFUNC = /^bpf_xdp_metadata_\w+$/;

/** The verifier's words when an unbound program calls one of them (kernel/bpf/offload.c). */
const UNBOUND_REFUSAL = 'metadata kfuncs require device-bound program';

/**
 * Check `programs` against the spec and look each interface up, before anything is made: an
 * unknown program name, a program that is not XDP (or runs from a devmap/cpumap entry, where the
 * kernel takes no dev-bound program) and a missing interface are thrown here
 * (InterfaceNotFoundError for the last). The result's close() releases the namespaces opened.
 */
export function deviceBindings(spec: ObjectSpec, given: Readonly<Record<string, ProgramLoadOptions>> | undefined): { bindings: Map<string, DeviceBinding>; close(): void } {
  const bindings = new Map<string, DeviceBinding>();
  const close = () => { for (const b of bindings.values()) b.ns?.close(); };
  try {
    for (const [name, po] of Object.entries(given ?? {})) {
      const p = spec.programs.get(name);
      const where = { program: name };
      if (!p) throw new ObjectError(`programs: object ${spec.name} has no program ${JSON.stringify(name)} (its programs: ${[...spec.programs.keys()].join(', ')})`, where);
      if (po === null || typeof po !== 'object') throw new ObjectError(`programs.${name}: expected an object such as { interface: 'eth0' }, got ${po === null ? 'null' : typeof po}`, where);
      if (po.interface === undefined) {
        if (po.netns !== undefined) throw new ObjectError(`programs.${name}: netns says where the interface is, but no interface is given`, where);
        continue;
      }
      const ref = checkInterfaceRef(po.interface);
      checkBindable(p);
      if (!p.autoload) throw new ObjectError(`programs.${name}: program ${name} is not loaded (autoload is off), so it cannot be bound to ${ref}`, where);
      const ns = po.netns === undefined ? undefined : Netns.open(po.netns, `loadObject programs.${name}.netns`);
      try {
        let iface;
        try {
          iface = interfaceIn(ref, ns);
        } catch (e) {
          if (!(e instanceof InterfaceNotFoundError)) throw e;
          throw new InterfaceNotFoundError(ref, { op: `loadObject programs.${name}.interface`, netns: e.netns });
        }
        bindings.set(name, { ifindex: iface.index, interface: iface.name, ...(ns ? { netns: ns.label, ns } : {}) });
      } catch (e) {
        ns?.close();
        throw e;
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { bindings, close };
}

function checkBindable(p: ProgramSpec): void {
  const where = { program: p.name, section: p.section };
  if (p.type !== BPF_PROG_TYPE.XDP) {
    throw new ObjectError(`programs.${p.name}: program ${p.name} (section ${p.section}) is a ${progTypeName(p.type)} program; only XDP programs are loaded bound to a device (interface)`, where);
  }
  if (p.attachType === BPF_ATTACH_TYPE.XDP_DEVMAP || p.attachType === BPF_ATTACH_TYPE.XDP_CPUMAP) {
    const map = p.attachType === BPF_ATTACH_TYPE.XDP_DEVMAP ? 'devmap' : 'cpumap';
    throw new ObjectError(`programs.${p.name}: program ${p.name} (section ${p.section}) runs from ${map} entries, which the kernel refuses for a device-bound program; bind a program of section xdp`, where);
  }
}

/**
 * What a PROG_LOAD refusal before verification means for a bound program ('' for other errnos): the
 * kernel gives no log for it. EINVAL: no such ifindex in the namespace, or the flag is unknown;
 * EOPNOTSUPP: the device's driver has no ndo_bpf (no native XDP), which binding needs.
 */
export function bindRefusal(b: BoundDevice, code: number): string {
  const to = `binding to ${boundDeviceText(b)} was asked`;
  if (code === ERRNO.EOPNOTSUPP) return `${to}: the kernel refuses it (EOPNOTSUPP) because the interface's driver has no native XDP support, which a device-bound program needs`;
  if (code === ERRNO.EINVAL) return `${to}: the kernel refuses it (EINVAL) when the interface is gone (deleted or moved since it was looked up) or the kernel predates device-bound XDP programs (Linux 6.3)`;
  return '';
}

/**
 * For a verifier refusal of an unbound program: the metadata kfuncs it calls, when the log says
 * that is why ('' otherwise).
 */
export function unboundKfuncNote(spec: ObjectSpec, p: ProgramSpec, layout: readonly string[], log: string): string {
  if (!log.includes(UNBOUND_REFUSAL)) return '';
  const names = new Set<string>();
  for (const fname of layout) {
    const fn: FunctionSpec | undefined = fname === p.name ? p : spec.functions.get(fname);
    for (const r of fn?.relocations ?? []) {
      const t = r.target as { kind: string; name?: string };
      if (t.kind === 'extern' && t.name && METADATA_KFUNC.test(t.name)) names.add(t.name);
    }
  }
  const which = names.size > 0 ? [...names].join(', ') : 'an XDP RX metadata kfunc';
  return `it calls ${which}, which only a program loaded bound to its network device may call: load it with { programs: { ${p.name}: { interface: 'IFNAME' } } }`;
}
