// BPF link commands: create (XDP, TCX, netkit, cgroup, perf event, tracing…), update, detach.
import { bpfCall } from './bpf.js';
import { LINK_CREATE_ATTR, LINK_DETACH_ATTR, LINK_UPDATE_ATTR, RAW_TRACEPOINT_OPEN_ATTR } from './attr.js';
import { writeStruct } from './layout.js';
import { scratch } from './memory.js';
import { Fd } from './fd.js';
import { BPF_CMD } from './types.js';

export interface LinkCreateAttr {
  progFd: number;
  /** cgroup fd, netns fd, perf event fd, target prog fd… */
  targetFd?: number;
  /** XDP, TCX, netkit: the interface index */
  targetIfindex?: number;
  attachType: number;
  flags?: number;
  /** TCX / netkit / cgroup (mprog): position relative to this prog or link (fd, or id with BPF_F_ID) */
  relativeFd?: number;
  relativeId?: number;
  expectedRevision?: bigint | number;
  /** perf event link: the bpf_cookie */
  perfEventCookie?: bigint | number;
  /** fentry/fexit/freplace/LSM to a BTF id */
  targetBtfId?: number;
  tracingCookie?: bigint | number;
  /** iterators: bpf_iter_link_info bytes */
  iterInfo?: Uint8Array;
  netfilter?: { pf: number; hooknum: number; priority: number; flags?: number };
  /** uprobe.multi: one link of many uprobes in one file (kernel >= 6.6) */
  uprobeMulti?: UprobeMultiAttr;
}

export interface UprobeMultiAttr {
  /** the file, as the kernel opens it (absolute) */
  path: string;
  /** file offsets, one per probe */
  offsets: readonly number[];
  /** per probe: file offset of a USDT semaphore (0: none); all none when absent */
  refCtrOffsets?: readonly number[];
  /** per probe: bpf_get_attach_cookie() value; all 0 when absent */
  cookies?: readonly bigint[];
  /** BPF_F_UPROBE_MULTI_RETURN */
  flags?: number;
  /** only this process (a tgid); 0 every process */
  pid?: number;
}

/** The probes' u64 arrays placed in scratch memory (undefined for an absent optional one). */
function u64Array(s: ReturnType<typeof scratch>, values: readonly (number | bigint)[] | undefined): number | undefined {
  if (!values) return undefined;
  const b = s.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) b.view.setBigUint64(i * 8, BigInt(values[i]), true);
  return b.address;
}

/** LINK_CREATE; the link lives while the fd (or a pin) does. */
export function linkCreate(a: LinkCreateAttr): Fd {
  const s = scratch();
  const attr = s.alloc(LINK_CREATE_ATTR.size);
  const anchor = a.relativeFd ?? a.relativeId;
  const u = a.uprobeMulti;
  writeStruct(attr.view, 0, LINK_CREATE_ATTR, {
    prog_fd: a.progFd, target_fd: a.targetFd ?? a.targetIfindex, attach_type: a.attachType, flags: a.flags,
    relative_fd: anchor, expected_revision: anchor !== undefined || a.expectedRevision !== undefined ? a.expectedRevision : undefined,
    perf_event_bpf_cookie: a.perfEventCookie,
    tracing_target_btf_id: a.tracingCookie !== undefined ? a.targetBtfId : undefined,
    tracing_cookie: a.tracingCookie,
    iter_info: a.iterInfo ? s.put(a.iterInfo) : undefined, iter_info_len: a.iterInfo?.length,
    netfilter_pf: a.netfilter?.pf, netfilter_hooknum: a.netfilter?.hooknum,
    netfilter_priority: a.netfilter?.priority, netfilter_flags: a.netfilter?.flags,
    ...(u && {
      uprobe_multi_path: s.put(u.path), uprobe_multi_offsets: u64Array(s, u.offsets),
      uprobe_multi_ref_ctr_offsets: u64Array(s, u.refCtrOffsets), uprobe_multi_cookies: u64Array(s, u.cookies),
      uprobe_multi_cnt: u.offsets.length, uprobe_multi_flags: u.flags, uprobe_multi_pid: u.pid,
    }),
  });
  if (a.targetBtfId !== undefined && a.tracingCookie === undefined) {
    attr.view.setUint32(LINK_CREATE_ATTR.off.target_btf_id, a.targetBtfId, true);
  }
  const what = a.targetIfindex !== undefined ? `ifindex ${a.targetIfindex}` : undefined;
  return new Fd(bpfCall(BPF_CMD.LINK_CREATE, attr.address, LINK_CREATE_ATTR.size, what), 'link');
}

/** LINK_UPDATE: swap the program of a link; with oldProgFd (and BPF_F_REPLACE) only if it still runs that one. */
export function linkUpdate(linkFd: number, newProgFd: number, o: { oldProgFd?: number; flags?: number } = {}): void {
  const s = scratch();
  const attr = s.alloc(LINK_UPDATE_ATTR.size);
  writeStruct(attr.view, 0, LINK_UPDATE_ATTR, {
    link_fd: linkFd, new_prog_fd: newProgFd, old_prog_fd: o.oldProgFd,
    flags: o.flags ?? (o.oldProgFd !== undefined ? 1 << 2 /* BPF_F_REPLACE */ : 0),
  });
  bpfCall(BPF_CMD.LINK_UPDATE, attr.address, LINK_UPDATE_ATTR.size);
}

/** LINK_DETACH: detach now, even though the fd stays open (it becomes a defunct link). */
export function linkDetach(linkFd: number): void {
  const s = scratch();
  const attr = s.alloc(LINK_DETACH_ATTR.size);
  attr.view.setUint32(LINK_DETACH_ATTR.off.link_fd, linkFd, true);
  bpfCall(BPF_CMD.LINK_DETACH, attr.address, LINK_DETACH_ATTR.size);
}

/** RAW_TRACEPOINT_OPEN (raw tracepoints, and fentry/fexit/LSM on kernels without LINK_CREATE for them). */
export function rawTracepointOpen(progFd: number, name?: string, cookie?: bigint | number): Fd {
  const s = scratch();
  const attr = s.alloc(RAW_TRACEPOINT_OPEN_ATTR.size);
  writeStruct(attr.view, 0, RAW_TRACEPOINT_OPEN_ATTR, { name: name ? s.put(name) : undefined, prog_fd: progFd, cookie });
  return new Fd(bpfCall(BPF_CMD.RAW_TRACEPOINT_OPEN, attr.address, RAW_TRACEPOINT_OPEN_ATTR.size, name), 'raw tracepoint link');
}
