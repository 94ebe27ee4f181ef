// attachSockMap: sk_msg and sk_skb programs on a sockmap or sockhash. They run for the sockets in
// the map: sk_msg (BPF_SK_MSG_VERDICT) on what those sockets send, sk_skb on what they receive
// (stream parser, stream verdict, or the skb verdict without a parser). A socket takes the map's
// programs when it is inserted, so attach before filling the map.
//
// The default is a BPF link (LINK_CREATE with the map fd, BPF_LINK_TYPE_SOCKMAP, kernel >= 6.10): a
// second link at the same map and hook is refused (EBUSY), and the attachment goes with the handle.
// The kernel lets a link replace a program attached there with PROG_ATTACH; attachSockMap looks
// first (PROG_QUERY) and refuses that too. Older kernels answer EINVAL and get PROG_ATTACH, which
// REPLACES whatever program the map had at that hook and lasts until detach() or the map's end.
//
//   const a = attachSockMap({ program: obj.programs.get('sk_msg_prog'), map: obj.maps.get('socks') });
import { BpfArgumentError, BpfError } from '../syscall/errors.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { ERRNO } from '../syscall/errno.js';
import type { Fd } from '../syscall/fd.js';
import { linkCreate } from '../syscall/link.js';
import { mapInfo } from '../syscall/obj.js';
import { progAttach, progQuery } from '../syscall/prog.js';
import { attachRefusal, programLabel } from './refusal.js';
import { BPF_ATTACH_TYPE as A, BPF_MAP_TYPE, BPF_PROG_TYPE as P, attachTypeName, mapTypeName } from '../syscall/types.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { LinkAttachment } from './bpf-link.js';
import { ProgAttachment, type ProgAttachmentInfo } from './prog-attach.js';
import { resolveAttachType, type AttachTypeRef } from './attach-type.js';

/** Which program type each sockmap hook takes. */
const SOCKMAP_HOOKS: ReadonlyMap<number, number> = new Map([
  [A.SK_MSG_VERDICT, P.SK_MSG],
  [A.SK_SKB_STREAM_PARSER, P.SK_SKB], [A.SK_SKB_STREAM_VERDICT, P.SK_SKB], [A.SK_SKB_VERDICT, P.SK_SKB],
]);

/** A map given as a BpfMap or anything with its fd (and name). */
export interface AttachableMap {
  readonly fd: Fd;
  readonly name?: string;
}

export interface AttachSockMapOptions {
  /** an sk_msg or sk_skb program (a BpfProgram's attachType, from its section, is the default hook) */
  program: AttachableProgram & { readonly attachType?: number };
  /** a BPF_MAP_TYPE_SOCKMAP or SOCKHASH map */
  map: AttachableMap;
  /** 'sk_msg_verdict' ('msg_verdict'), 'sk_skb_stream_parser', 'sk_skb_stream_verdict', 'sk_skb_verdict' */
  attachType?: AttachTypeRef;
  /** 'link' (LINK_CREATE only), 'attach' (PROG_ATTACH only); default a link, PROG_ATTACH where links are missing */
  mode?: 'link' | 'attach';
}

export interface SockMapAttachmentInfo extends ProgAttachmentInfo {
  readonly kind: 'sockmap';
  readonly mapId: number;
  readonly mapName: string;
  /** 'sockmap' or 'sockhash' */
  readonly mapType: string;
  /** the kernel's link id in mode 'link' */
  readonly linkId?: number;
  /** why a link was not used when PROG_ATTACH was the fallback */
  readonly fallback?: string;
}

export type SockMapAttachment =
  | LinkAttachment<SockMapAttachmentInfo & { readonly mode: 'link'; readonly linkId: number }>
  | ProgAttachment<SockMapAttachmentInfo & { readonly mode: 'attach' }>;

/** The id of the program at a sockmap hook, if any (undefined also when it cannot be told). */
function attachedProgram(mapFd: number, attachType: number): number | undefined {
  try {
    return progQuery({ targetFd: mapFd, attachType, max: 4 }).progIds[0];
  } catch {
    return undefined;
  }
}

export function attachSockMap(o: AttachSockMapOptions): SockMapAttachment {
  const op = 'attachSockMap';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, map, attachType? } are required');
  if (o.mode !== undefined && o.mode !== 'link' && o.mode !== 'attach') throw new AttachArgumentError(op, `mode must be 'link' or 'attach', got ${String(o.mode)}`);
  const attachType = o.attachType !== undefined ? resolveAttachType(op, o.attachType) : o.program?.attachType || undefined;
  if (attachType === undefined) {
    throw new AttachArgumentError(op, `program ${o.program?.name ?? ''} was not loaded for a particular hook: give attachType ('sk_msg_verdict', 'sk_skb_stream_verdict', 'sk_skb_stream_parser' or 'sk_skb_verdict')`);
  }
  const progType = SOCKMAP_HOOKS.get(attachType);
  if (progType === undefined) {
    throw new AttachArgumentError(op, `${attachTypeName(attachType)} is not a sockmap hook (${[...SOCKMAP_HOOKS.keys()].map(attachTypeName).join(', ')})`);
  }
  const prog = checkProgram(op, o.program, [progType], `the ${attachTypeName(attachType)} hook`);
  if (!o.map || typeof o.map !== 'object' || !o.map.fd) throw new AttachArgumentError(op, 'map must be a BpfMap (or { fd, name }) of type sockmap or sockhash');
  const mapFd = o.map.fd.value;
  try {
    expectFdKind(mapFd, 'map', `map argument (fd ${mapFd})`);
  } catch (e) {
    throw new AttachArgumentError(op, e instanceof BpfArgumentError && e.detail ? e.detail : String(e));
  }
  const mi = mapInfo(mapFd);
  const mapName = o.map.name || mi.name;
  if (mi.type !== BPF_MAP_TYPE.SOCKMAP && mi.type !== BPF_MAP_TYPE.SOCKHASH) {
    throw new AttachArgumentError(op, `map ${mapName} is of type ${mapTypeName(mi.type)}; sk_msg and sk_skb programs attach to a sockmap or sockhash`);
  }
  const base = {
    kind: 'sockmap' as const, mapId: mi.id, mapName, mapType: mapTypeName(mi.type),
    programId: prog.id, programName: prog.name, attachType, attachTypeName: attachTypeName(attachType),
  };
  const where = `map ${mapName}, ${attachTypeName(attachType)}, ${programLabel(prog)}`;
  let fallback: string | undefined;
  if (o.mode !== 'attach') {
    const there = attachedProgram(mapFd, attachType);
    if (there !== undefined) {
      // a link there the kernel refuses (EBUSY); a PROG_ATTACH program it would let the link replace
      throw new AttachArgumentError(op, `${where}: the map has program id ${there} at this hook already: detach it first (mode 'attach' replaces one attached with PROG_ATTACH)`);
    }
    try {
      const link = linkCreate({ progFd: prog.fd, targetFd: mapFd, attachType });
      return LinkAttachment.own(link, [progType], (linkId) => ({ ...base, mode: 'link' as const, linkId }));
    } catch (e) {
      const unsupported = e instanceof BpfError && (e.code === ERRNO.EINVAL || e.code === ERRNO.EOPNOTSUPP);
      if (o.mode === 'link' || !unsupported) throw rename(e, where);
      fallback = `LINK_CREATE failed with ${(e as BpfError).errno}: no sockmap links before Linux 6.10`;
    }
  }
  // the handle's own fds first: nothing can fail after the attach
  const target = o.map.fd.dup();
  let progFd: Fd;
  try {
    progFd = o.program.fd.dup();
  } catch (e) {
    target.close();
    throw e;
  }
  try {
    progAttach({ targetFd: target.value, progFd: prog.fd, attachType });
  } catch (e) {
    target.close();
    progFd.close();
    throw rename(e, where);
  }
  return new ProgAttachment({ ...base, mode: 'attach' as const, ...(fallback ? { fallback } : {}) }, target, progFd);
}

function rename(e: unknown, where: string): unknown {
  return attachRefusal(e, where, (x) => (x.code === ERRNO.EBUSY ? 'the map already has a program at this hook (through a link): detach it first' : undefined));
}
