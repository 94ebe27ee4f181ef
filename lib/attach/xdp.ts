// attachXdp: an XDP program on an interface over rtnetlink (IFLA_XDP), or with `link: true` through
// an XDP BPF link (attachXdpLink). Netlink attachments outlive the process; links go with their last
// fd unless pinned, and a link-owned XDP program cannot be replaced or removed over netlink (EBUSY).
//
// Modes: 'drv' (native, the default — what users expect to measure), 'skb' (generic), 'hw'
// (offload), 'auto' (native, then generic if the driver refuses; info.mode says which, info.note why).
//
// A program loaded bound to a device (loadObject's programs.<name>.interface) attaches only to that
// device and only in native mode: 'skb' is refused before the kernel is asked when the program says
// where it is bound (BpfProgram.boundTo), 'auto' does not fall back to generic mode for it, and the
// kernel's refusal elsewhere names the device it is bound to.
//
// `netns`: the interface is in that network namespace. attachXdp opens its netlink socket there (the
// handle keeps it for detach); attachXdpLink enters it for the LINK_CREATE, whose ifindex the kernel
// looks up in the calling thread's namespace. The thread is back in its own before either returns.
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../syscall/types.js';
import type { Fd } from '../syscall/fd.js';
import { NetlinkSocket } from '../netlink/socket.js';
import { InterfaceNotFoundError, NetlinkError } from '../netlink/errors.js';
import { XDP_FLAGS } from '../netlink/constants.js';
import { getInterface, type InterfaceRef, type XdpAttachMode } from '../netlink/link.js';
import { setXdp, XDP_MODE_FLAG } from '../netlink/xdp.js';
import { listInterfacesIn, peerNsids } from '../netlink/netns.js';
import { inNetnsText, usingNetns, type NetnsRef } from '../netlink/netns-enter.js';
import { Attachment, AttachArgumentError, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
import { LinkAttachment, type LinkAttachmentInfo } from './bpf-link.js';
import { attachRefusal, programLabel } from './refusal.js';
import { interfaceIn, linkCreateIn } from './netns.js';
import type { BpfError } from '../syscall/errors.js';

export type XdpMode = XdpAttachMode | 'auto';

export interface AttachXdpOptions {
  program: AttachableProgram;
  interface: InterfaceRef;
  /** default 'drv' (native) */
  mode?: XdpMode;
  /**
   * false (default): fail if a program is already attached in this mode (XDP_FLAGS_UPDATE_IF_NOEXIST);
   * true: replace whatever is there; a program: replace only if that one is still attached
   * (XDP_FLAGS_REPLACE with IFLA_XDP_EXPECTED_FD).
   */
  replace?: boolean | AttachableProgram;
  /** the interface's network namespace (default: the calling thread's); as AttachTcOptions.netns */
  netns?: NetnsRef;
}

export interface XdpAttachmentInfo extends AttachmentInfo {
  readonly kind: 'xdp';
  readonly interface: string;
  readonly ifindex: number;
  /** the mode actually used */
  readonly mode: XdpAttachMode;
  readonly requestedMode: XdpMode;
  readonly programId: number;
  readonly programName: string;
  /** with mode 'auto': why native was not used */
  readonly note?: string;
  /** the network namespace given as `netns` (its path, or "fd N"); absent: the caller's */
  readonly netns?: string;
}

export class XdpAttachment extends Attachment<XdpAttachmentInfo> {
  readonly #sock: NetlinkSocket;
  readonly #prog: Fd;

  /** @internal use attachXdp() */
  constructor(info: XdpAttachmentInfo, sock: NetlinkSocket, prog: Fd) {
    super(info);
    this.#sock = sock;
    this.#prog = prog;
  }

  protected doDetach(): void {
    // only if our program is still the one attached: never remove a program someone put there since
    const i = this.info;
    try {
      setXdp({ ifindex: i.ifindex, fd: -1, flags: XDP_MODE_FLAG[i.mode] | XDP_FLAGS.REPLACE, expectedFd: this.#prog.value }, this.#sock);
    } catch (e) {
      // ENODEV: the interface left this namespace: deleted (the program went with it) or moved to
      // another namespace, where the program runs on (movedWith says so); EEXIST: another program
      // replaced ours over netlink; EBUSY: a BPF link holds the hook in this mode ("Can't replace
      // active BPF XDP link"), which it can only do once ours is gone. In each case nothing of this
      // handle is attached here any more, and whatever is there now is someone else's.
      if (e instanceof NetlinkError && e.code === 19) {
        const there = this.#movedWith();
        if (!there) return;
        const off = i.mode === 'skb' ? 'xdpgeneric' : i.mode === 'hw' ? 'xdpoffload' : 'xdpdrv';
        throw new NetlinkError(`detach xdp ${i.mode} mode on ${i.interface}${inNetnsText(i.netns)}`, e.code, {
          detail: `the interface moved to the network namespace with nsid ${there.nsid} (as ${there.name}, ifindex ${there.index}), where program ${i.programName} (id ${i.programId}) stays attached: nothing was detached (there: ip link set dev ${there.name} ${off} off; close() lets go of this handle)`,
        });
      }
      if (e instanceof NetlinkError && (e.code === 17 || e.code === 16)) return;
      throw e;
    }
  }

  /**
   * The interface this handle's program is still attached to in a peer namespace, found by program
   * id in the same mode and by the interface's index or name (a move keeps them where it can);
   * undefined when there is none or the peers cannot be looked at (then it was deleted, as before).
   */
  #movedWith(): { nsid: number; name: string; index: number } | undefined {
    const i = this.info;
    try {
      for (const nsid of peerNsids(this.#sock)) {
        const found = listInterfacesIn(nsid, this.#sock).find((x) => x.xdp[i.mode] === i.programId && (x.index === i.ifindex || x.name === i.interface));
        if (found) return { nsid, name: found.name, index: found.index };
      }
    } catch {
      // peers we may not look at: nothing to tell
    }
    return undefined;
  }

  protected override release(): void {
    this.#sock.close();
    this.#prog.close();
  }
}

type Bound = NonNullable<AttachableProgram['boundTo']>;

/** "veth0 (ifindex 7) in network namespace /run/netns/pod1": where a program is bound, for messages. */
export function boundDeviceText(b: Bound): string {
  return `${b.interface} (ifindex ${b.ifindex})${inNetnsText(b.netns)}`;
}

/** The kernel's extack when a device-bound program is attached to another device (net/core/dev.c). */
const OTHER_DEVICE = /bound to different device/;

/** A program bound to a device asked for in generic mode, which the kernel refuses it. */
function checkNotBound(op: string, p: AttachableProgram, name: string): void {
  if (p.boundTo) throw new AttachArgumentError(op, `program ${name} is bound to ${boundDeviceText(p.boundTo)}: a device-bound program attaches in native (drv) mode only, never in generic (skb) mode`);
}

/** Why a device-bound program was refused on `iface`: where it is bound, when the caller's program says. */
function otherDeviceDetail(p: AttachableProgram, name: string): string {
  return p.boundTo
    ? `program ${name} is bound to ${boundDeviceText(p.boundTo)} and attaches only there`
    : `program ${name} was loaded bound to another device (the kernel does not say which) and attaches only there`;
}

function checkMode(op: string, mode: unknown): XdpMode {
  if (mode === 'drv' || mode === 'skb' || mode === 'hw' || mode === 'auto') return mode;
  throw new AttachArgumentError(op, `mode must be 'drv', 'skb', 'hw' or 'auto', got ${String(mode)}`);
}

// refusals that mean "not in this mode" (the driver lacks native XDP, the MTU is too large for it…),
// as opposed to refusals that generic mode would repeat (already attached, no permission)
const NATIVE_REFUSALS = new Set([95 /* EOPNOTSUPP */, 22 /* EINVAL */, 34 /* ERANGE */, 524 /* ENOTSUPP */, 7 /* E2BIG */]);

export function attachXdp(o: AttachXdpOptions): XdpAttachment {
  const op = 'attachXdp';
  const requested = checkMode(op, o.mode ?? 'drv');
  // the socket keeps the namespace: the Netns is needed only to open it
  const sock = usingNetns(o.netns, op, (ns) => NetlinkSocket.open({ netns: ns }));
  const where = inNetnsText(sock.netns);
  let dup: Fd | undefined;
  try {
    const prog = checkProgram(op, o.program, [BPF_PROG_TYPE.XDP], 'an XDP hook');
    const bound = o.program.boundTo;
    if (requested === 'skb') checkNotBound(op, o.program, prog.name);
    let expectedFd: number | undefined;
    if (o.replace !== undefined && typeof o.replace === 'object') expectedFd = checkProgram(op, o.replace, [BPF_PROG_TYPE.XDP], 'an XDP hook').fd;
    const replaceFlags = o.replace === undefined || o.replace === false ? XDP_FLAGS.UPDATE_IF_NOEXIST : expectedFd !== undefined ? XDP_FLAGS.REPLACE : 0;
    const iface = getInterface(o.interface, sock);
    dup = o.program.fd.dup();
    const attach = (mode: XdpAttachMode) => {
      try {
        setXdp({ ifindex: iface.index, fd: prog.fd, flags: XDP_MODE_FLAG[mode] | replaceFlags, expectedFd }, sock);
      } catch (e) {
        if (!(e instanceof NetlinkError)) throw e;
        if (e.code === 19 /* ENODEV */) {
          throw new InterfaceNotFoundError(o.interface, {
            op: `${op} ${mode} mode on ${iface.name} (ifindex ${iface.index})${where}`, netns: sock.netns,
            detail: 'the interface went away (deleted, or moved to another network namespace) after it was looked up; nothing was attached',
          });
        }
        // the kernel's errno and text, plus where and how we tried. hw mode refused by a driver
        // without XDP gets the kernel's text for native mode ("does not support XDP in native
        // mode"), and from a veth none: either way, say what hw mode needs
        const hint = mode === 'hw' && (!e.extack || /native mode/.test(e.extack)) ? 'hw mode needs a NIC that offloads XDP and a program loaded for that device'
          : e.extack && OTHER_DEVICE.test(e.extack) ? otherDeviceDetail(o.program, prog.name) : undefined;
        throw new NetlinkError(`${op} ${mode} mode on ${iface.name}${where}`, e.code, { extack: e.extack, extackOffset: e.extackOffset, detail: hint });
      }
    };
    let mode: XdpAttachMode = requested === 'auto' ? 'drv' : requested;
    let note: string | undefined;
    try {
      attach(mode);
    } catch (e) {
      // a device-bound program has no generic mode: falling back would only hide why native failed
      if (requested !== 'auto' || bound || !(e instanceof NetlinkError && NATIVE_REFUSALS.has(e.code)) || OTHER_DEVICE.test(e.extack ?? '')) throw e;
      note = `native XDP refused on ${iface.name} (${e.errno}${e.extack ? `: ${e.extack}` : ''}); attached in generic (skb) mode`;
      mode = 'skb';
      attach(mode);
    }
    const info: XdpAttachmentInfo = {
      kind: 'xdp', interface: iface.name, ifindex: iface.index, mode, requestedMode: requested,
      programId: prog.id, programName: prog.name, ...(note ? { note } : {}), ...(sock.netns !== undefined ? { netns: sock.netns } : {}),
    };
    return new XdpAttachment(info, sock, dup);
  } catch (e) {
    dup?.close();
    sock.close();
    throw e;
  }
}

export interface AttachXdpLinkOptions {
  program: AttachableProgram;
  interface: InterfaceRef;
  /** default 'drv'; 'auto' is not offered for links (the caller chooses) */
  mode?: XdpAttachMode;
  /** the interface's network namespace (default: the calling thread's); as AttachTcOptions.netns */
  netns?: NetnsRef;
}

export interface XdpLinkAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'xdp-link';
  readonly interface: string;
  readonly ifindex: number;
  readonly mode: XdpAttachMode;
  /** the network namespace given as `netns` (its path, or "fd N"); absent: the caller's */
  readonly netns?: string;
}

/** What the usual LINK_CREATE refusals of an XDP link mean (the kernel's own text stays in the kernel: bpf() has no extack). */
function xdpLinkHint(e: BpfError, mode: XdpAttachMode, p: AttachableProgram, name: string): string | undefined {
  // a device-bound program on any other device (generic mode was refused before the kernel was asked)
  if (e.code === 22 && p.boundTo) return otherDeviceDetail(p, name);
  switch (e.code) {
    case 16 /* EBUSY */: return 'a program is already attached in this mode (an XDP link, or over netlink: `ip link set dev <if> xdp off`)';
    case 17 /* EEXIST */: return 'a program is attached in the other of native and generic mode, and they cannot be active at the same time';
    case 34 /* ERANGE */: return 'the MTU is too large for native XDP on this driver (generic mode takes it)';
    case 22 /* EINVAL */: case 95 /* EOPNOTSUPP */: case 524 /* ENOTSUPP */:
      return mode === 'hw' ? 'hw mode needs a NIC that offloads XDP and a program loaded for that device'
        : mode === 'drv' ? 'the driver may lack native XDP (generic mode works everywhere), or the program is bound to another device'
        : e.code === 22 ? 'a program bound to a device attaches in native (drv) mode only' : undefined;
    default: return undefined;
  }
}

/** XDP through a BPF link (kernel >= 5.9): detaches when the handle is closed unless pinned. */
export function attachXdpLink(o: AttachXdpLinkOptions): LinkAttachment<XdpLinkAttachmentInfo> {
  const op = 'attachXdpLink';
  const mode = o.mode ?? 'drv';
  if (mode !== 'drv' && mode !== 'skb' && mode !== 'hw') throw new AttachArgumentError(op, `mode must be 'drv', 'skb' or 'hw', got ${String(mode)}`);
  const allowed = [BPF_PROG_TYPE.XDP];
  return usingNetns(o.netns, op, (ns) => {
    const prog = checkProgram(op, o.program, allowed, 'an XDP hook');
    if (mode === 'skb') checkNotBound(op, o.program, prog.name);
    const iface = interfaceIn(o.interface, ns);
    let fd;
    try {
      fd = linkCreateIn(ns, op, { progFd: prog.fd, targetIfindex: iface.index, attachType: BPF_ATTACH_TYPE.XDP, flags: XDP_MODE_FLAG[mode] });
    } catch (e) {
      throw attachRefusal(e, `xdp ${mode} mode on ${iface.name} (ifindex ${iface.index})${inNetnsText(ns)}, ${programLabel(prog)}`, (x) => xdpLinkHint(x, mode, o.program, prog.name));
    }
    return LinkAttachment.own<XdpLinkAttachmentInfo>(fd, allowed, (linkId) => ({
      kind: 'xdp-link', interface: iface.name, ifindex: iface.index, mode, linkId, programId: prog.id, programName: prog.name, ...(ns ? { netns: ns.label } : {}),
    }));
  });
}
