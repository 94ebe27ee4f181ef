// attachIter: BPF iterators (iter/tcp, iter/task, iter/bpf_map_elem, …). An iterator program is not
// run by an event: an iterator link (LINK_CREATE, BPF_TRACE_ITER) names what it walks, and every
// read of a fresh iterator fd (ITER_CREATE) runs the program once per object, in the reading thread,
// collecting what it writes with bpf_seq_printf()/bpf_seq_write() — a /proc file written in BPF.
//
//   const it = attachIter({ program: obj.programs.get('dump_tcp') });
//   it.text();                          // one walk's output, e.g. the TCP sockets of this netns
//   attachIter({ program, map: obj.maps.get('conns') }).read();    // bpf_map_elem: bytes
//   it.pin('/sys/fs/bpf/tcp');          // now `cat /sys/fs/bpf/tcp` runs it
//
// Socket iterators (tcp, udp, unix, netlink, ipv6_route) walk the network namespace of the thread
// that creates the iterator fd (ITER_CREATE), not the one that made the link: read({ netns }) makes
// the fd there, and the walk happens in ours.
import type { Fd } from '../syscall/fd.js';
import { ERRNO } from '../syscall/errno.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { BpfArgumentError, BpfError } from '../syscall/errors.js';
import { ITER_LINK_INFO } from '../syscall/attr.js';
import { linkCreate } from '../syscall/link.js';
import { mapInfo } from '../syscall/obj.js';
import { iterCreate, readIterFd } from '../syscall/iter.js';
import { writeStruct } from '../syscall/layout.js';
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../syscall/types.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { TracingLinkAttachment } from './perf-event.js';
import { freshLinkId, type LinkAttachmentInfo } from './bpf-link.js';
import { openCgroup } from './cgroup.js';
import { inNetns, inNetnsText, usingNetns, type NetnsRef } from '../netlink/netns-enter.js';

/** The order of a cgroup iterator's walk (enum bpf_cgroup_iter_order). */
export type CgroupIterOrder = 'self_only' | 'descendants_pre' | 'descendants_post' | 'ancestors_up';
const CGROUP_ORDER: Record<CgroupIterOrder, number> = { self_only: 1, descendants_pre: 2, descendants_post: 3, ancestors_up: 4 };

export interface AttachIterOptions {
  /** a program from an `iter/<target>` section */
  program: AttachableProgram;
  /** bpf_map_elem, bpf_sk_storage_map, sockmap iterators: the map whose elements are walked */
  map?: { readonly fd: Fd; readonly name?: string };
  /** task, task_file, task_vma iterators: only this process's threads (`pid`) or this one thread (`tid`) */
  task?: { pid: number; tid?: never } | { tid: number; pid?: never };
  /** cgroup iterators: where the walk starts (a cgroup v2 directory or an fd of one) and its order (default descendants_pre) */
  cgroup?: { cgroup: string | number; order?: CgroupIterOrder };
  /** the most bytes read()/text() take from one walk (default 256 MiB); more is an error */
  maxBytes?: number;
}

export interface IterReadOptions {
  /** socket iterators: the network namespace to walk (a /run/netns name, a path, an fd, an Fd or a Netns); default the caller's */
  netns?: NetnsRef;
}

export interface IterAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'iter';
  /** what the iterator walks ('tcp', 'task', 'bpf_map_elem', …), from the program's section; '' when unknown */
  readonly target: string;
  /** the map walked (its kernel id), for map iterators */
  readonly mapId?: number;
  readonly task?: { readonly pid: number } | { readonly tid: number };
  readonly cgroup?: { readonly cgroup: string; readonly order: CgroupIterOrder };
}

// what each target takes besides the program (targets not listed take nothing)
const MAP_TARGETS = new Set(['bpf_map_elem', 'bpf_sk_storage_map', 'sockmap']);
const TASK_TARGETS = new Set(['task', 'task_file', 'task_vma']);
const CGROUP_TARGETS = new Set(['cgroup']);
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** An iterator link: each read()/text()/open() is a new walk over what it names. */
export class IterAttachment extends TracingLinkAttachment<IterAttachmentInfo> {
  readonly #maxBytes: number;

  constructor(info: IterAttachmentInfo, link: Fd, maxBytes: number) {
    super(info, link, [BPF_PROG_TYPE.TRACING]);
    this.#maxBytes = maxBytes;
  }

  /** A fresh iterator fd (one walk from the start) to read yourself, e.g. in pieces; close it after. */
  open(o: IterReadOptions = {}): Fd {
    const op = 'IterAttachment.open';
    if (this.closed) throw new AttachArgumentError(op, `the iterator link of ${this.info.programName} is ${this.detached ? 'detached' : 'closed'}`);
    if (o.netns === undefined) return iterCreate(this.fd.value, this.#what());
    return usingNetns(o.netns, op, (ns) => inNetns(ns, op, () => iterCreate(this.fd.value, `${this.#what()}${inNetnsText(ns)}`), (fd) => fd.close()));
  }

  /** Run one walk and return everything the program wrote. */
  read(o: IterReadOptions = {}): Buffer {
    const fd = this.open(o);
    try {
      return readIterFd(fd, this.#maxBytes, this.#what());
    } finally {
      fd.close();
    }
  }

  /** read() as UTF-8 text (bpf_seq_printf output). */
  text(o: IterReadOptions = {}): string {
    return this.read(o).toString('utf8');
  }

  #what(): string {
    return `iterator ${this.info.target || this.info.programName}`;
  }
}

export function attachIter(o: AttachIterOptions): IterAttachment {
  const op = 'attachIter';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program } are required');
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new AttachArgumentError(op, `maxBytes must be a positive integer, got ${String(o.maxBytes)}`);
  const allowed = [BPF_PROG_TYPE.TRACING];
  const prog = checkProgram(op, o.program, allowed, 'an iterator');
  // the target from the section, when the program came from an object ('' from a pin or an id)
  const from = o.program as AttachableProgram & { attachTo?: unknown; section?: unknown };
  const target = typeof from.attachTo === 'string' ? from.attachTo : '';
  const section = typeof from.section === 'string' ? from.section : '';
  if (section && !/^iter(\.s)?\//.test(section)) throw new AttachArgumentError(op, `program ${prog.name} is from section ${section}, not an iterator (iter/<target>)`);
  checkParams(op, o, target);

  const info = new Uint8Array(ITER_LINK_INFO.size);
  const view = new DataView(info.buffer);
  const extra: { mapId?: number; task?: IterAttachmentInfo['task']; cgroup?: IterAttachmentInfo['cgroup'] } = {};
  let cgroupFd: Fd | undefined;
  try {
    if (o.map !== undefined) {
      const map = iterMap(op, o.map);
      writeStruct(view, 0, ITER_LINK_INFO, { map_fd: map.fd });
      extra.mapId = map.id;
    } else if (o.task !== undefined) {
      if ('pid' in o.task && o.task.pid !== undefined) {
        writeStruct(view, 0, ITER_LINK_INFO, { task_pid: o.task.pid });
        extra.task = { pid: o.task.pid };
      } else {
        writeStruct(view, 0, ITER_LINK_INFO, { task_tid: o.task.tid! });
        extra.task = { tid: o.task.tid! };
      }
    } else if (o.cgroup !== undefined) {
      const order = o.cgroup.order ?? 'descendants_pre';
      const cg = openCgroup(op, o.cgroup.cgroup);
      cgroupFd = cg.fd;
      writeStruct(view, 0, ITER_LINK_INFO, { cgroup_order: CGROUP_ORDER[order], cgroup_fd: cg.fd.value });
      extra.cgroup = { cgroup: cg.name, order };
    }
    const withInfo = o.map !== undefined || o.task !== undefined || o.cgroup !== undefined;
    let link: Fd;
    try {
      link = linkCreate({ progFd: prog.fd, attachType: BPF_ATTACH_TYPE.TRACE_ITER, iterInfo: withInfo ? info : undefined });
    } catch (e) {
      throw explain(e, target, prog.name, o);
    }
    const linkId = freshLinkId(link);
    return new IterAttachment({ kind: 'iter', target, linkId, programId: prog.id, programName: prog.name, ...extra }, link, maxBytes);
  } finally {
    cgroupFd?.close();
  }
}

/** The options must fit the target (when the section names it) and each other. */
function checkParams(op: string, o: AttachIterOptions, target: string): void {
  const given = (['map', 'task', 'cgroup'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) throw new AttachArgumentError(op, `give one of map, task and cgroup, not ${given.join(' and ')}`);
  if (o.task !== undefined) {
    const t = o.task as { pid?: unknown; tid?: unknown };
    if (!t || typeof t !== 'object' || (t.pid === undefined) === (t.tid === undefined)) throw new AttachArgumentError(op, 'task must be { pid } or { tid }');
    const [k, v] = t.pid !== undefined ? ['pid', t.pid] : ['tid', t.tid];
    if (!Number.isInteger(v) || (v as number) <= 0 || (v as number) > 0x3fffffff) throw new AttachArgumentError(op, `task.${k} must be a positive process or thread id, got ${String(v)}`);
  }
  if (o.cgroup !== undefined) {
    if (!o.cgroup || typeof o.cgroup !== 'object') throw new AttachArgumentError(op, 'cgroup must be { cgroup, order? }');
    if (o.cgroup.order !== undefined && !(o.cgroup.order in CGROUP_ORDER)) {
      throw new AttachArgumentError(op, `cgroup.order must be one of ${Object.keys(CGROUP_ORDER).join(', ')}, got ${String(o.cgroup.order)}`);
    }
  }
  if (!target) return;
  const takes = MAP_TARGETS.has(target) ? 'map' : TASK_TARGETS.has(target) ? 'task' : CGROUP_TARGETS.has(target) ? 'cgroup' : undefined;
  if (takes === 'map' && o.map === undefined) throw new AttachArgumentError(op, `a ${target} iterator walks one map: give { map }`);
  if (takes === 'cgroup' && o.cgroup === undefined) throw new AttachArgumentError(op, `a ${target} iterator starts from a cgroup: give { cgroup: { cgroup, order } }`);
  const wrong = given.find((k) => k !== takes);
  if (wrong) throw new AttachArgumentError(op, `a ${target} iterator takes no ${wrong}${takes ? ` (it takes ${takes})` : ''}`);
}

/** The map an iterator walks: its fd (checked to be a map's) and its id for info. */
function iterMap(op: string, map: AttachIterOptions['map']): { fd: number; id: number } {
  const fd = map && typeof map === 'object' ? map.fd : undefined;
  if (!fd || typeof fd !== 'object' || typeof fd.closed !== 'boolean') throw new AttachArgumentError(op, 'map must be a BpfMap (or { fd })');
  const label = `map${map!.name ? ` ${map!.name}` : ''}`;
  if (fd.closed) throw new AttachArgumentError(op, `${label} is closed`);
  try {
    expectFdKind(fd.value, 'map', label);
  } catch (e) {
    if (e instanceof BpfArgumentError) throw new AttachArgumentError(op, e.detail, { cause: e });
    throw e;
  }
  return { fd: fd.value, id: mapInfo(fd.value).id };
}

/** The kernel's refusal, said in the iterator's words. */
function explain(e: unknown, target: string, program: string, o: AttachIterOptions): unknown {
  if (!(e instanceof BpfError)) return e;
  const what = `iterator ${target || program}`;
  if (e.code === ERRNO.EACCES && o.map !== undefined) {
    // the verifier allowed reads up to a size the map's keys or values do not have
    return new BpfError(e.cmd, e.code, `${what}: the program reads more of a key or value than map ${o.map.name ?? ''} has (its key/value sizes are smaller than the program's types)`, { cause: e });
  }
  return new BpfError(e.cmd, e.code, what, { cause: e });
}
