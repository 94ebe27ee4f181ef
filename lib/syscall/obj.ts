// Object commands of bpf(): pin and get (with a bpffs check first), info by fd, walking ids.
import { dirname, resolve } from 'node:path';
import { bpfCall, bpfError, sysBpf } from './bpf.js';
import { GET_ID_ATTR, OBJ_ATTR, OBJ_INFO_ATTR } from './attr.js';
import { BPF_PERF_EVENT, BTF_INFO, LINK_INFO, LINK_INFO_DETAIL, MAP_INFO, PROG_INFO } from './info.js';
import { readStruct, writeStruct, type Layout } from './layout.js';
import { cText, scratch } from './memory.js';
import { Fd } from './fd.js';
import { BPF_CMD } from './types.js';
import { ERRNO, errnoName } from './errno.js';
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { BpfArgumentError, NotBpffsError } from './errors.js';
import { isU32 } from './int-range.js';

/** statfs f_type of a bpffs mount (include/uapi/linux/magic.h BPF_FS_MAGIC). */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** f_type of the filesystem holding `path`, or -errno. statfs(2): f_type is the first (long) field. */
export function statfsType(path: string): number {
  const s = scratch();
  const p = s.put(path);
  const buf = s.alloc(256);
  const r = ffi().syscall3(SYS.statfs, p, buf.address, 0);
  if (r < 0) return r;
  return buf.view.getUint32(0, true);
}

/**
 * Throws NotBpffsError unless `path` lies on bpffs: for pinning the parent directory is checked
 * (the pin does not exist yet), for getting the path itself.
 */
export function checkBpffs(op: string, path: string, forPin: boolean, named = path): void {
  checkPath(op, path);
  let where = forPin ? dirname(resolve(path)) : path;
  let t = statfsType(where);
  // a missing pin is the kernel's ENOENT to report, as long as its directory is on bpffs
  if (t === -ERRNO.ENOENT && !forPin) t = statfsType((where = dirname(resolve(path))));
  if (t === -ERRNO.ENOENT) {
    // a directory that does not exist: say so when the nearest one that does is on bpffs
    let up = dirname(where);
    while (up !== dirname(up) && statfsType(up) === -ERRNO.ENOENT) up = dirname(up);
    if (statfsType(up) >>> 0 === BPF_FS_MAGIC) throw new BpfArgumentError(op, `${named}: directory ${where} does not exist (create it on the bpffs at ${up} first)`);
  }
  if (t < 0) throw new NotBpffsError(op, named, `${where}: ${errnoName(-t)}`);
  const at = named === where ? '' : `${where}: `;
  if (t >>> 0 !== BPF_FS_MAGIC) throw new NotBpffsError(op, named, `${at}filesystem type 0x${(t >>> 0).toString(16)}`);
}

/** A path the kernel reads as a C string: a non-empty string without NUL (which would cut it short). */
function checkPath(op: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || path === '') throw new BpfArgumentError(op, `path must be a non-empty string, got ${typeof path === 'string' ? "''" : String(path)}`);
  if (path.includes('\0')) throw new BpfArgumentError(op, `path ${JSON.stringify(path)} contains a NUL byte (the kernel would stop reading there)`);
}

/** OBJ_PIN: pin the object behind `fd` at `path` (on bpffs; bpffs names cannot contain '.'). */
export function objPin(fd: number, path: string): void {
  checkBpffs('OBJ_PIN', path, true);
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.includes('.')) throw new BpfArgumentError('OBJ_PIN', `${path}: bpffs refuses names with a '.' (${JSON.stringify(name)})`);
  const s = scratch();
  const attr = s.alloc(OBJ_ATTR.size);
  writeStruct(attr.view, 0, OBJ_ATTR, { pathname: s.put(path), bpf_fd: fd });
  bpfCall(BPF_CMD.OBJ_PIN, attr.address, OBJ_ATTR.size, path);
}

/** OBJ_GET: open the pinned object at `path`. fileFlags: BPF_F_RDONLY / BPF_F_WRONLY. */
export function objGet(path: string, fileFlags = 0): Fd {
  checkBpffs('OBJ_GET', path, false);
  const s = scratch();
  const attr = s.alloc(OBJ_ATTR.size);
  writeStruct(attr.view, 0, OBJ_ATTR, { pathname: s.put(path), file_flags: fileFlags });
  return new Fd(bpfCall(BPF_CMD.OBJ_GET, attr.address, OBJ_ATTR.size, path), `pinned object ${path}`);
}

/** OBJ_GET_INFO_BY_FD into `layout`; `prepare` may set pointer fields (e.g. map_ids) in the zeroed info first. */
function infoByFd<F extends string>(fd: number, layout: Layout<F>, prepare?: (v: DataView, s: ReturnType<typeof scratch>) => void) {
  const s = scratch();
  const attr = s.alloc(OBJ_INFO_ATTR.size);
  const info = s.alloc(layout.size);
  prepare?.(info.view, s);
  writeStruct(attr.view, 0, OBJ_INFO_ATTR, { bpf_fd: fd, info_len: layout.size, info: info.address });
  bpfCall(BPF_CMD.OBJ_GET_INFO_BY_FD, attr.address, OBJ_INFO_ATTR.size);
  return { fields: readStruct(info.view, 0, layout), view: info.view, s };
}

export interface ProgInfo {
  type: number; id: number; tag: string; name: string; jitedProgLen: number; xlatedProgLen: number;
  loadTime: bigint; createdByUid: number; mapIds: number[]; ifindex: number; gplCompatible: boolean;
  btfId: number; runTimeNs: bigint; runCnt: bigint; recursionMisses: bigint; verifiedInsns: number;
  attachBtfObjId: number; attachBtfId: number; netnsDev: bigint; netnsIno: bigint;
}

export function progInfo(fd: number): ProgInfo {
  const MAX_MAPS = 64;
  let ids: { address: number; view: DataView } | undefined;
  const { fields: f, view } = infoByFd(fd, PROG_INFO, (v, s) => {
    ids = s.alloc(MAX_MAPS * 4);
    v.setUint32(PROG_INFO.off.nr_map_ids, MAX_MAPS, true);
    v.setBigUint64(PROG_INFO.off.map_ids, BigInt(ids.address), true);
  });
  const n = Math.min(f.nr_map_ids as number, MAX_MAPS);
  // the tag is 8 raw bytes (not text): shown as hex like bpftool
  let tag = '';
  for (let i = 0; i < 8; i++) tag += view.getUint8(PROG_INFO.off.tag + i).toString(16).padStart(2, '0');
  return {
    type: f.type as number, id: f.id as number, name: f.name as string,
    tag, jitedProgLen: f.jited_prog_len as number, xlatedProgLen: f.xlated_prog_len as number,
    loadTime: f.load_time as bigint, createdByUid: f.created_by_uid as number,
    mapIds: Array.from({ length: n }, (_, i) => ids!.view.getUint32(i * 4, true)),
    ifindex: f.ifindex as number, gplCompatible: ((f.gpl_compatible as number) & 1) === 1,
    btfId: f.btf_id as number, runTimeNs: f.run_time_ns as bigint, runCnt: f.run_cnt as bigint,
    recursionMisses: f.recursion_misses as bigint, verifiedInsns: f.verified_insns as number,
    attachBtfObjId: f.attach_btf_obj_id as number, attachBtfId: f.attach_btf_id as number,
    netnsDev: f.netns_dev as bigint, netnsIno: f.netns_ino as bigint,
  };
}

export interface MapInfo {
  type: number; id: number; keySize: number; valueSize: number; maxEntries: number; mapFlags: number;
  name: string; ifindex: number; btfId: number; btfKeyTypeId: number; btfValueTypeId: number;
  btfVmlinuxValueTypeId: number; mapExtra: bigint;
}

export function mapInfo(fd: number): MapInfo {
  const { fields: f } = infoByFd(fd, MAP_INFO);
  return {
    type: f.type as number, id: f.id as number, keySize: f.key_size as number, valueSize: f.value_size as number,
    maxEntries: f.max_entries as number, mapFlags: f.map_flags as number, name: f.name as string,
    ifindex: f.ifindex as number, btfId: f.btf_id as number, btfKeyTypeId: f.btf_key_type_id as number,
    btfValueTypeId: f.btf_value_type_id as number, btfVmlinuxValueTypeId: f.btf_vmlinux_value_type_id as number,
    mapExtra: f.map_extra as bigint,
  };
}

export interface BtfInfo { id: number; btfSize: number; name: string; kernelBtf: boolean }

export function btfInfo(fd: number): BtfInfo {
  const NAME_MAX = 256;
  let name: { address: number; bytes: Uint8Array } | undefined;
  const { fields: f } = infoByFd(fd, BTF_INFO, (v, s) => {
    name = s.alloc(NAME_MAX);
    v.setBigUint64(BTF_INFO.off.name, BigInt(name.address), true);
    v.setUint32(BTF_INFO.off.name_len, NAME_MAX, true);
  });
  return { id: f.id as number, btfSize: f.btf_size as number, kernelBtf: (f.kernel_btf as number) !== 0, name: cText(name!.bytes) };
}

/** The BTF blob of a loaded BTF object (for dumping a map's or program's types). */
export function btfData(fd: number): Uint8Array {
  const size = btfInfo(fd).btfSize;
  let data: { address: number; bytes: Uint8Array } | undefined;
  infoByFd(fd, BTF_INFO, (v, s) => {
    data = s.alloc(size);
    v.setBigUint64(BTF_INFO.off.btf, BigInt(data.address), true);
    v.setUint32(BTF_INFO.off.btf_size, size, true);
  });
  return data!.bytes.slice();
}

export interface LinkInfo {
  type: number; id: number; progId: number;
  /** the kind-specific fields present for this link type (ifindex, attachType, cgroupId, …) */
  ifindex?: number; attachType?: number; cgroupId?: bigint; netnsIno?: number; targetObjId?: number; targetBtfId?: number;
  /** struct_ops: the struct_ops map; sockmap: the sockmap; iter over a map: that map */
  mapId?: number;
  netfilter?: { pf: number; hooknum: number; priority: number; flags: number };
  /** perf event links: BPF_PERF_EVENT_* */
  perfEventType?: number;
}

function linkFromFields(f: Record<keyof typeof LINK_INFO.off, number | bigint | string>): LinkInfo {
  const base: LinkInfo = { type: f.type as number, id: f.id as number, progId: f.prog_id as number };
  switch (base.type) {
    case 3: return { ...base, cgroupId: f.cgroup_id as bigint, attachType: f.cgroup_attach_type as number }; // CGROUP
    case 5: return { ...base, netnsIno: f.netns_ino as number, attachType: f.netns_attach_type as number }; // NETNS
    case 6: return { ...base, ifindex: f.xdp_ifindex as number }; // XDP
    case 11: case 13: return { ...base, ifindex: f.tcx_ifindex as number, attachType: f.tcx_attach_type as number }; // TCX, NETKIT
    case 2: return { ...base, attachType: f.tracing_attach_type as number, targetObjId: f.tracing_target_obj_id as number, targetBtfId: f.tracing_target_btf_id as number };
    case 7: return { ...base, perfEventType: f.perf_event_type as number }; // PERF_EVENT
    case 9: return { ...base, mapId: f.struct_ops_map_id as number }; // STRUCT_OPS
    case 10: return { // NETFILTER
      ...base,
      netfilter: { pf: f.netfilter_pf as number, hooknum: f.netfilter_hooknum as number, priority: f.netfilter_priority as number, flags: f.netfilter_flags as number },
    };
    default: return base;
  }
}

export function linkInfo(fd: number): LinkInfo {
  return linkFromFields(infoByFd(fd, LINK_INFO).fields);
}

/** linkDetails: what the kernel tells of a link beyond linkInfo, by link type. */
export interface LinkDetails extends LinkInfo {
  /** raw tracepoint name; perf event tracepoint / kprobe function / uprobe file; iterator target */
  name?: string;
  cookie?: bigint;
  /** iterators: cgroup walk order, task tid/pid (cgroupId and mapId as in LinkInfo) */
  order?: number; tid?: number; pid?: number;
  /** kprobe.multi / uprobe.multi: flags (BPF_F_*_MULTI_RETURN), missed count, one entry per probe */
  flags?: number; missed?: bigint;
  probes?: { addr?: bigint; offset?: bigint; refCtrOffset?: bigint; cookie: bigint }[];
  /** perf event kprobe/uprobe: offset from the function/file, kprobe address, uprobe ref_ctr_offset */
  offset?: number; addr?: bigint; refCtrOffset?: bigint;
  /** perf event of PERF_TYPE_*: its type and config */
  eventType?: number; eventConfig?: bigint;
}

const NAME_BUF = 4096; // PATH_MAX, as bpftool's buffer

/**
 * OBJ_GET_INFO_BY_FD of a link, asked twice where the type needs buffers (names, probe arrays):
 * the first answer says the type and how many entries, the second fills them, as bpftool does.
 */
export function linkDetails(fd: number): LinkDetails {
  const first = infoByFd(fd, LINK_INFO);
  const base = linkFromFields(first.fields);
  const d0 = readStruct(first.view, 0, LINK_INFO_DETAIL);
  const D = LINK_INFO_DETAIL.off;
  const u64 = (v: DataView, n: number) => Array.from({ length: n }, (_, i) => v.getBigUint64(i * 8, true));
  const setPtr = (v: DataView, off: number, address: number) => v.setBigUint64(off, BigInt(address), true);
  switch (base.type) {
    case 1: case 4: { // RAW_TRACEPOINT, ITER: a name at 16, its length at 24
      let name: { address: number; bytes: Uint8Array } | undefined;
      const { view } = infoByFd(fd, LINK_INFO, (v, s) => {
        name = s.alloc(NAME_BUF);
        setPtr(v, 16, name.address);
        v.setUint32(24, NAME_BUF, true);
      });
      const d = readStruct(view, 0, LINK_INFO_DETAIL);
      if (base.type === 1) return { ...base, name: cText(name!.bytes), cookie: d.raw_tracepoint_cookie as bigint };
      return {
        ...base, name: cText(name!.bytes), mapId: d.iter_map_id as number, cgroupId: d.iter_cgroup_id as bigint,
        order: d.iter_cgroup_order as number, tid: d.iter_task_tid as number, pid: d.iter_task_pid as number,
      };
    }
    case 2: return { ...base, cookie: d0.tracing_cookie as bigint };
    case 14: return { ...base, mapId: d0.sockmap_map_id as number, attachType: d0.sockmap_attach_type as number }; // SOCKMAP
    case 8: { // KPROBE_MULTI
      const n = d0.kprobe_multi_count as number;
      const out: LinkDetails = { ...base, flags: d0.kprobe_multi_flags as number, missed: d0.kprobe_multi_missed as bigint, probes: [] };
      if (!n) return out;
      let addrs: { view: DataView; address: number } | undefined;
      let cookies: typeof addrs;
      const { view } = infoByFd(fd, LINK_INFO, (v, s) => {
        addrs = s.alloc(n * 8);
        cookies = s.alloc(n * 8);
        setPtr(v, D.kprobe_multi_addrs, addrs.address);
        setPtr(v, D.kprobe_multi_cookies, cookies.address);
        v.setUint32(D.kprobe_multi_count, n, true);
      });
      const a = u64(addrs!.view, n);
      const c = u64(cookies!.view, n);
      return { ...out, missed: view.getBigUint64(D.kprobe_multi_missed, true), probes: a.map((addr, i) => ({ addr, cookie: c[i] })) };
    }
    case 12: { // UPROBE_MULTI
      const n = d0.uprobe_multi_count as number;
      const out: LinkDetails = { ...base, flags: d0.uprobe_multi_flags as number, pid: d0.uprobe_multi_pid as number, probes: [] };
      if (!n) return out;
      const bufs: { view: DataView; address: number; bytes: Uint8Array }[] = [];
      infoByFd(fd, LINK_INFO, (v, s) => {
        for (const [off, size] of [[D.uprobe_multi_offsets, n * 8], [D.uprobe_multi_ref_ctr_offsets, n * 8], [D.uprobe_multi_cookies, n * 8], [D.uprobe_multi_path, NAME_BUF]]) {
          const b = s.alloc(size);
          bufs.push(b);
          setPtr(v, off, b.address);
        }
        v.setUint32(D.uprobe_multi_count, n, true);
        v.setUint32(D.uprobe_multi_path_size, NAME_BUF, true);
      });
      const [o, r, c] = bufs.slice(0, 3).map((b) => u64(b.view, n));
      return { ...out, name: cText(bufs[3].bytes), probes: o.map((offset, i) => ({ offset, refCtrOffset: r[i], cookie: c[i] })) };
    }
    case 7: { // PERF_EVENT
      const t = base.perfEventType!;
      if (t === BPF_PERF_EVENT.EVENT) {
        return { ...base, eventType: d0.perf_event_event_type as number, eventConfig: d0.perf_event_event_config as bigint, cookie: d0.perf_event_event_cookie as bigint };
      }
      if (t < BPF_PERF_EVENT.UPROBE || t > BPF_PERF_EVENT.TRACEPOINT) return base;
      let name: { address: number; bytes: Uint8Array } | undefined;
      const { view } = infoByFd(fd, LINK_INFO, (v, s) => {
        name = s.alloc(NAME_BUF);
        setPtr(v, D.perf_event_name, name.address);
        v.setUint32(D.perf_event_name_len, NAME_BUF, true);
      });
      const d = readStruct(view, 0, LINK_INFO_DETAIL);
      const out: LinkDetails = { ...base, name: cText(name!.bytes) };
      if (t === BPF_PERF_EVENT.TRACEPOINT) return { ...out, cookie: d.perf_event_tracepoint_cookie as bigint };
      if (t === BPF_PERF_EVENT.KPROBE || t === BPF_PERF_EVENT.KRETPROBE) {
        return {
          ...out, offset: d.perf_event_offset as number, addr: d.perf_event_kprobe_addr as bigint,
          missed: d.perf_event_kprobe_missed as bigint, cookie: d.perf_event_kprobe_cookie as bigint,
        };
      }
      return { ...out, offset: d.perf_event_offset as number, cookie: d.perf_event_uprobe_cookie as bigint, refCtrOffset: d.perf_event_uprobe_ref_ctr_offset as bigint };
    }
    default: return base;
  }
}

type IdKind = 'prog' | 'map' | 'btf' | 'link';
const NEXT_ID = { prog: BPF_CMD.PROG_GET_NEXT_ID, map: BPF_CMD.MAP_GET_NEXT_ID, btf: BPF_CMD.BTF_GET_NEXT_ID, link: BPF_CMD.LINK_GET_NEXT_ID } as const;
const FD_BY_ID = { prog: BPF_CMD.PROG_GET_FD_BY_ID, map: BPF_CMD.MAP_GET_FD_BY_ID, btf: BPF_CMD.BTF_GET_FD_BY_ID, link: BPF_CMD.LINK_GET_FD_BY_ID } as const;

/** The next id of a `kind` object after `startId` (0: the first); undefined at the end. */
export function getNextId(kind: IdKind, startId: number): number | undefined {
  const s = scratch();
  const attr = s.alloc(GET_ID_ATTR.size);
  attr.view.setUint32(GET_ID_ATTR.off.start_id, startId, true);
  const r = sysBpf(NEXT_ID[kind], attr.address, GET_ID_ATTR.size);
  if (r === -ERRNO.ENOENT) return undefined;
  if (r < 0) throw bpfError(NEXT_ID[kind], -r);
  return attr.view.getUint32(GET_ID_ATTR.off.next_id, true);
}

/** Every id of a kind, in order. */
export function allIds(kind: IdKind): number[] {
  const out: number[] = [];
  for (let id = getNextId(kind, 0); id !== undefined; id = getNextId(kind, id)) out.push(id);
  return out;
}

/** An fd for the object with this id; a BpfError with ENOENT if it is gone. openFlags for maps: BPF_F_RDONLY… */
export function getFdById(kind: IdKind, id: number, openFlags = 0): Fd {
  if (!isU32(id)) {
    throw new BpfArgumentError(`${kind.toUpperCase()}_GET_FD_BY_ID`, `${kind} id must be an integer 0 … 2^32 − 1, got ${typeof id === 'string' ? JSON.stringify(id) : String(id)}`);
  }
  const s = scratch();
  const attr = s.alloc(GET_ID_ATTR.size);
  writeStruct(attr.view, 0, GET_ID_ATTR, { id, open_flags: openFlags });
  return new Fd(bpfCall(FD_BY_ID[kind], attr.address, GET_ID_ATTR.size, `${kind} id ${id}`), `${kind} ${id}`);
}

/**
 * The BTF type id (a FUNC in the program's BTF, prog info btf_id) of a program's main function,
 * from its first func_info record; undefined without BTF. Names the program in full where the
 * kernel's name field stops at 15 characters.
 */
export function progMainFuncTypeId(fd: number): number | undefined {
  const { fields: f } = infoByFd(fd, PROG_INFO);
  const count = f.nr_func_info as number;
  const recSize = f.func_info_rec_size as number;
  if (!(f.btf_id as number) || !count || recSize < 8) return undefined;
  let rec: { address: number; view: DataView } | undefined;
  infoByFd(fd, PROG_INFO, (v, s) => {
    rec = s.alloc(recSize);
    v.setUint32(PROG_INFO.off.nr_func_info, 1, true);
    v.setUint32(PROG_INFO.off.func_info_rec_size, recSize, true);
    v.setBigUint64(PROG_INFO.off.func_info, BigInt(rec.address), true);
  });
  // struct bpf_func_info { __u32 insn_off; __u32 type_id; }
  return rec!.view.getUint32(4, true);
}

/** struct bpf_line_info: an instruction's source line (strings in the program's BTF). */
export interface ProgLineInfo { insnOff: number; fileNameOff: number; lineOff: number; lineCol: number }

/** What `prog dump xlated` reads of a program: its translated instructions and the records that annotate them. */
export interface ProgDumpInfo {
  info: ProgInfo;
  /** the instructions after the verifier's rewrites (map ids in place of map pointers) */
  xlated: Uint8Array;
  /** addresses of the JITed functions (main program first, then the subprograms); none when not JITed */
  jitedKsyms: bigint[];
  /** struct bpf_func_info: the BTF FUNC at each function's first instruction */
  funcInfo: { insnOff: number; typeId: number }[];
  lineInfo: ProgLineInfo[];
}

/**
 * OBJ_GET_INFO_BY_FD twice, as bpftool's prep_prog_info: the counts first, then the arrays into
 * buffers of those sizes (a record size the kernel gives may grow; records are read by their size).
 */
export function progDumpInfo(fd: number): ProgDumpInfo {
  const info = progInfo(fd);
  const { fields: n } = infoByFd(fd, PROG_INFO);
  const count = { ksyms: n.nr_jited_ksyms as number, func: n.nr_func_info as number, line: n.nr_line_info as number };
  const recSize = { func: n.func_info_rec_size as number, line: n.line_info_rec_size as number };
  const xlatedLen = n.xlated_prog_len as number;
  let bufs: Record<'xlated' | 'ksyms' | 'func' | 'line', { address: number; view: DataView; bytes: Uint8Array }> | undefined;
  const { fields: f } = infoByFd(fd, PROG_INFO, (v, s) => {
    bufs = { xlated: s.alloc(xlatedLen), ksyms: s.alloc(count.ksyms * 8), func: s.alloc(count.func * recSize.func), line: s.alloc(count.line * recSize.line) };
    const put = (field: 'xlated_prog_insns' | 'jited_ksyms' | 'func_info' | 'line_info', b: { address: number }) => v.setBigUint64(PROG_INFO.off[field], BigInt(b.address), true);
    v.setUint32(PROG_INFO.off.xlated_prog_len, xlatedLen, true);
    put('xlated_prog_insns', bufs.xlated);
    v.setUint32(PROG_INFO.off.nr_jited_ksyms, count.ksyms, true);
    put('jited_ksyms', bufs.ksyms);
    v.setUint32(PROG_INFO.off.nr_func_info, count.func, true);
    v.setUint32(PROG_INFO.off.func_info_rec_size, recSize.func, true);
    put('func_info', bufs.func);
    v.setUint32(PROG_INFO.off.nr_line_info, count.line, true);
    v.setUint32(PROG_INFO.off.line_info_rec_size, recSize.line, true);
    put('line_info', bufs.line);
  });
  const b = bufs!;
  // never more than the buffers hold (the kernel reports its own counts back)
  const got = (k: keyof typeof count, field: 'nr_jited_ksyms' | 'nr_func_info' | 'nr_line_info') => Math.min(count[k], f[field] as number);
  const xlated = b.xlated.bytes.slice(0, Math.min(xlatedLen, f.xlated_prog_len as number));
  const le = true; // host order, as every layout of lib/syscall reads it
  return {
    info,
    xlated,
    jitedKsyms: Array.from({ length: got('ksyms', 'nr_jited_ksyms') }, (_, i) => b.ksyms.view.getBigUint64(i * 8, le)),
    funcInfo: Array.from({ length: got('func', 'nr_func_info') }, (_, i) => ({
      insnOff: b.func.view.getUint32(i * recSize.func, le), typeId: b.func.view.getUint32(i * recSize.func + 4, le),
    })),
    lineInfo: Array.from({ length: got('line', 'nr_line_info') }, (_, i) => {
      const at = i * recSize.line;
      return { insnOff: b.line.view.getUint32(at, le), fileNameOff: b.line.view.getUint32(at + 4, le), lineOff: b.line.view.getUint32(at + 8, le), lineCol: b.line.view.getUint32(at + 12, le) };
    }),
  };
}
