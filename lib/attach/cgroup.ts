// attachCgroup: a cgroup program (cgroup_skb, sockops, sock_addr, sock, sysctl, sockopt, device) on a
// cgroup v2 directory. The default is a BPF link (LINK_CREATE with the cgroup fd, kernel >= 5.7): it
// goes with the handle (or the process) unless pinned, and nobody can replace it by accident. When the
// kernel has no cgroup links (EINVAL/EOPNOTSUPP from LINK_CREATE), or the caller asks with
// mode: 'attach', it is PROG_ATTACH with BPF_F_ALLOW_MULTI (libbpf's and bpftool's choice for
// cgroups shared with other tools): such an attachment survives the process until detach().
//
//   const a = attachCgroup({ program, cgroup: '/sys/fs/cgroup/app', attachType: 'cgroup_inet_egress' });
//   a.detach();
import { openSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { constants } from 'node:fs';
import { Fd, dupCloexec } from '../syscall/fd.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO, errnoName } from '../syscall/errno.js';
import { linkCreate } from '../syscall/link.js';
import { statfsType } from '../syscall/obj.js';
import { progAttach, progQuery, type ProgQueryResult } from '../syscall/prog.js';
import { BPF_ATTACH_FLAG, BPF_ATTACH_TYPE as A, BPF_PROG_TYPE as P, attachTypeName } from '../syscall/types.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { LinkAttachment } from './bpf-link.js';
import { ProgAttachment, type ProgAttachmentInfo } from './prog-attach.js';
import { attachRefusal, programLabel } from './refusal.js';
import { resolveAttachType, type AttachTypeRef } from './attach-type.js';

/** include/uapi/linux/magic.h */
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;
/** Which program type each cgroup attach type takes. */
const CGROUP_HOOKS: ReadonlyMap<number, number> = new Map([
  [A.CGROUP_INET_INGRESS, P.CGROUP_SKB], [A.CGROUP_INET_EGRESS, P.CGROUP_SKB],
  [A.CGROUP_INET_SOCK_CREATE, P.CGROUP_SOCK], [A.CGROUP_INET_SOCK_RELEASE, P.CGROUP_SOCK],
  [A.CGROUP_INET4_POST_BIND, P.CGROUP_SOCK], [A.CGROUP_INET6_POST_BIND, P.CGROUP_SOCK],
  [A.CGROUP_SOCK_OPS, P.SOCK_OPS], [A.CGROUP_DEVICE, P.CGROUP_DEVICE], [A.CGROUP_SYSCTL, P.CGROUP_SYSCTL],
  [A.CGROUP_GETSOCKOPT, P.CGROUP_SOCKOPT], [A.CGROUP_SETSOCKOPT, P.CGROUP_SOCKOPT],
  ...[
    A.CGROUP_INET4_BIND, A.CGROUP_INET6_BIND, A.CGROUP_INET4_CONNECT, A.CGROUP_INET6_CONNECT,
    A.CGROUP_UDP4_SENDMSG, A.CGROUP_UDP6_SENDMSG, A.CGROUP_UDP4_RECVMSG, A.CGROUP_UDP6_RECVMSG,
    A.CGROUP_INET4_GETPEERNAME, A.CGROUP_INET6_GETPEERNAME, A.CGROUP_INET4_GETSOCKNAME, A.CGROUP_INET6_GETSOCKNAME,
    A.CGROUP_UNIX_CONNECT, A.CGROUP_UNIX_SENDMSG, A.CGROUP_UNIX_RECVMSG, A.CGROUP_UNIX_GETPEERNAME, A.CGROUP_UNIX_GETSOCKNAME,
  ].map((t) => [t, P.CGROUP_SOCK_ADDR] as const),
]);

/** The cgroup attach types, in the kernel's order (what `cgroup show` walks). */
export const CGROUP_ATTACH_TYPES: readonly number[] = [...CGROUP_HOOKS.keys()].sort((a, b) => a - b);

/** A cgroup that cannot be used: missing, not a directory, not on cgroup v2, a bad fd. */
export class CgroupError extends AttachArgumentError {
  /** the path (or 'fd N') as given */
  readonly cgroup: string;
  constructor(op: string, cgroup: string, why: string) {
    super(op, `cgroup ${cgroup}: ${why}`);
    this.cgroup = cgroup;
  }
}

/** PROG_ATTACH flags for mode 'attach': 'multi' (BPF_F_ALLOW_MULTI, the default), 'override', 'exclusive' (none). */
export type CgroupAttachFlags = 'multi' | 'override' | 'exclusive';

export interface AttachCgroupOptions {
  /** a BpfProgram (its attachType/section name the default hook), or { fd, name, type } */
  program: AttachableProgram & { readonly attachType?: number; readonly section?: string };
  /** a cgroup v2 directory, or an open fd of one (duplicated: the caller keeps theirs) */
  cgroup: string | number;
  /** the hook; default: the attach type the program was loaded for (its section, e.g. cgroup/connect4) */
  attachType?: AttachTypeRef;
  /** 'link' (LINK_CREATE only), 'attach' (PROG_ATTACH only); default: a link, PROG_ATTACH when links are not supported */
  mode?: 'link' | 'attach';
  /** flags of PROG_ATTACH (mode 'attach' or the fallback); default 'multi' */
  attachFlags?: CgroupAttachFlags;
}

export interface CgroupAttachmentInfo extends ProgAttachmentInfo {
  readonly kind: 'cgroup';
  /** the cgroup's path ('fd N' when it cannot be told) */
  readonly cgroup: string;
  /** the kernel's link id in mode 'link' */
  readonly linkId?: number;
  /** why a link was not used when PROG_ATTACH was the fallback */
  readonly fallback?: string;
}

export type CgroupLinkAttachment = LinkAttachment<CgroupAttachmentInfo & { readonly mode: 'link'; readonly linkId: number }>;
export type CgroupProgAttachment = ProgAttachment<CgroupAttachmentInfo & { readonly mode: 'attach' }>;
export type CgroupAttachment = CgroupLinkAttachment | CgroupProgAttachment;

/** The cgroup v2 mount point (e.g. /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems). */
export function cgroup2Mount(): string {
  let text = '';
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch { /* not Linux */ }
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[2] === 'cgroup2') return f[1].replace(/\\040/g, ' ');
  }
  throw new CgroupError('cgroup2Mount', '(none)', 'no cgroup v2 hierarchy is mounted; mount one with: mount -t cgroup2 none /sys/fs/cgroup');
}

/** An owned fd of the cgroup directory, and a name for messages. */
export function openCgroup(op: string, cgroup: string | number): { fd: Fd; name: string } {
  if (typeof cgroup === 'number') {
    if (!Number.isInteger(cgroup) || cgroup < 0) throw new CgroupError(op, `fd ${cgroup}`, 'not a valid file descriptor');
    const r = dupCloexec(cgroup);
    if (r < 0) throw new CgroupError(op, `fd ${cgroup}`, `${errnoName(-r)}: not an open file descriptor`);
    let name = `fd ${cgroup}`;
    try {
      name = readlinkSync(`/proc/self/fd/${cgroup}`);
    } catch { /* keep 'fd N' */ }
    return { fd: new Fd(r, `cgroup ${name}`), name };
  }
  if (typeof cgroup !== 'string' || cgroup === '') throw new CgroupError(op, String(cgroup), 'give a cgroup v2 directory path or an fd');
  let isDir: boolean;
  try {
    isDir = statSync(cgroup).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CgroupError(op, cgroup, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`);
  }
  if (!isDir) throw new CgroupError(op, cgroup, 'is not a directory (a cgroup is a directory of a cgroup v2 mount)');
  const magic = statfsType(cgroup) >>> 0;
  if (magic === CGROUP_SUPER_MAGIC) throw new CgroupError(op, cgroup, `is a cgroup v1 hierarchy; BPF programs attach to cgroup v2 (${v2Hint()})`);
  if (magic !== CGROUP2_SUPER_MAGIC) throw new CgroupError(op, cgroup, `is not a cgroup (filesystem type 0x${magic.toString(16)}; ${v2Hint()})`);
  let fd: number;
  try {
    fd = openSync(cgroup, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw new CgroupError(op, cgroup, `cannot be opened (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return { fd: new Fd(fd, `cgroup ${cgroup}`), name: cgroup };
}

function v2Hint(): string {
  try {
    return `cgroup v2 is mounted at ${cgroup2Mount()}`;
  } catch {
    return 'no cgroup v2 hierarchy is mounted';
  }
}

/**
 * The hook: the option, else the attach type the program was loaded for. BPF_CGROUP_INET_INGRESS is 0,
 * the same as "none", so for cgroup_skb programs the section name tells ingress apart.
 */
function cgroupHook(op: string, o: AttachCgroupOptions): { type: number; own?: number } {
  const given = o.attachType !== undefined ? resolveAttachType(op, o.attachType) : undefined;
  const p = o.program as { attachType?: number; section?: string } | undefined;
  let own = p?.attachType || undefined;
  if (own === undefined && p?.section?.startsWith('cgroup_skb/ingress')) own = A.CGROUP_INET_INGRESS;
  const type = given ?? own;
  if (type === undefined) {
    throw new AttachArgumentError(op, `program ${o.program?.name ?? ''} was not loaded for a particular hook: give attachType (e.g. 'cgroup_inet_ingress')`);
  }
  if (!CGROUP_HOOKS.has(type)) {
    throw new AttachArgumentError(op, `${attachTypeName(type)} is not a cgroup hook (cgroup hooks: ${[...CGROUP_HOOKS.keys()].map(attachTypeName).join(', ')})`);
  }
  return { type, own };
}

const FLAGS: Record<CgroupAttachFlags, number> = { multi: BPF_ATTACH_FLAG.ALLOW_MULTI, override: BPF_ATTACH_FLAG.ALLOW_OVERRIDE, exclusive: 0 };

export function attachCgroup(o: AttachCgroupOptions): CgroupAttachment {
  const op = 'attachCgroup';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, cgroup, attachType? } are required');
  if (o.mode !== undefined && o.mode !== 'link' && o.mode !== 'attach') throw new AttachArgumentError(op, `mode must be 'link' or 'attach', got ${String(o.mode)}`);
  const flagsName = o.attachFlags ?? 'multi';
  if (typeof flagsName !== 'string' || !Object.hasOwn(FLAGS, flagsName)) throw new AttachArgumentError(op, `attachFlags must be 'multi', 'override' or 'exclusive', got ${String(o.attachFlags)}`);
  const { type: attachType, own } = cgroupHook(op, o);
  const progType = CGROUP_HOOKS.get(attachType)!;
  const prog = checkProgram(op, o.program, [progType], `the ${attachTypeName(attachType)} hook`);
  // sock, sock_addr and sockopt programs are verified for one hook (cgroup_skb ones when loaded for one)
  if (own !== undefined && own !== attachType) {
    throw new AttachArgumentError(op, `program ${prog.name} was loaded for ${attachTypeName(own)}, not ${attachTypeName(attachType)}`);
  }
  const cg = openCgroup(op, o.cgroup);
  const base = { kind: 'cgroup' as const, cgroup: cg.name, programId: prog.id, programName: prog.name, attachType, attachTypeName: attachTypeName(attachType) };
  let fallback: string | undefined;
  try {
    if (o.mode !== 'attach') {
      try {
        const link = linkCreate({ progFd: prog.fd, targetFd: cg.fd.value, attachType });
        const a = LinkAttachment.own(link, [progType], (linkId) => ({ ...base, mode: 'link' as const, linkId }));
        cg.fd.close(); // the link holds the cgroup
        return a;
      } catch (e) {
        if (o.mode === 'link' || !linkUnsupported(e)) throw explain(e, cg.name, attachType, prog);
        fallback = `LINK_CREATE failed with ${(e as BpfError).errno}: no cgroup links on this kernel`;
      }
    }
    const progFd = o.program.fd.dup(); // before the attach: nothing can fail after it
    try {
      progAttach({ targetFd: cg.fd.value, progFd: prog.fd, attachType, attachFlags: FLAGS[flagsName] });
    } catch (e) {
      progFd.close();
      throw explain(e, cg.name, attachType, prog, flagsName);
    }
    return new ProgAttachment({ ...base, mode: 'attach' as const, ...(fallback ? { fallback } : {}) }, cg.fd, progFd);
  } catch (e) {
    cg.fd.close();
    throw e;
  }
}

/** EINVAL/EOPNOTSUPP from LINK_CREATE: a kernel before 5.7, or one without links for this hook. */
function linkUnsupported(e: unknown): boolean {
  return e instanceof BpfError && (e.code === ERRNO.EINVAL || e.code === ERRNO.EOPNOTSUPP || e.code === ERRNO.ENOTSUPP);
}

/** The kernel's error with the cgroup, hook and program named, and a hint for the usual causes. */
function explain(e: unknown, cgroup: string, attachType: number, prog: { name: string; id: number }, flags?: CgroupAttachFlags): unknown {
  return attachRefusal(e, `cgroup ${cgroup}, ${attachTypeName(attachType)}, ${programLabel(prog)}`, (x) => {
    if (x.code === ERRNO.EPERM && flags) {
      return `attachFlags '${flags}': the programs at one cgroup hook share one mode, and an ancestor's exclusive or override program forbids more (see bpftool cgroup tree)`;
    }
    // a link joins the hook's multi list: an exclusive or override program there or above forbids it
    if (x.code === ERRNO.EPERM) return 'an exclusive or override program at this hook (or an ancestor\'s) forbids more (see bpftool cgroup tree)';
    if (x.code === ERRNO.EEXIST) return 'the program is already attached at this hook of this cgroup';
    // the kernel's EINVAL for a program already in a multi hook's list (and for one verified for another hook)
    if (x.code === ERRNO.EINVAL) return flags ? 'the program is attached at this hook already, or was loaded for another hook' : 'the program may have been loaded for another hook';
    if (x.code === ERRNO.EBADF) return 'the fd is not a cgroup v2 directory';
    return undefined;
  });
}

/** Programs and links at a cgroup hook (PROG_QUERY; effective: those inherited from ancestors too). */
export function queryCgroup(cgroup: string | number, attachType: AttachTypeRef, o: { effective?: boolean } = {}): ProgQueryResult {
  const op = 'queryCgroup';
  const type = resolveAttachType(op, attachType);
  const cg = openCgroup(op, cgroup);
  try {
    return progQuery({ targetFd: cg.fd.value, attachType: type, queryFlags: o.effective ? 1 /* BPF_F_QUERY_EFFECTIVE */ : 0 });
  } finally {
    cg.fd.close();
  }
}
