// The steps of an attach that the kernel resolves in the calling thread's network namespace, done
// in the namespace given as `netns` (netns-enter.ts enters it and comes back): the interface lookup
// (a netlink socket opened there) and a BPF command that names an interface by ifindex
// (LINK_CREATE, PROG_ATTACH/DETACH/QUERY read it from current->nsproxy->net_ns). A netlink attach
// (attachTc, attachXdp) needs only its socket made there; a BPF link needs nothing of the
// namespace afterwards (LINK_DETACH and close() act on the link fd).
import { NetlinkSocket } from '../netlink/socket.js';
import { getInterface, type InterfaceRef, type NetInterface } from '../netlink/link.js';
import { inNetns, type Netns } from '../netlink/netns-enter.js';
import { linkCreate, type LinkCreateAttr } from '../syscall/link.js';
import type { Fd } from '../syscall/fd.js';

/** The interface `ref` in `ns` (the caller's namespace when undefined); InterfaceNotFoundError names `ns`. */
export function interfaceIn(ref: InterfaceRef, ns: Netns | undefined): NetInterface {
  const sock = NetlinkSocket.open({ netns: ns });
  try {
    return getInterface(ref, sock);
  } finally {
    sock.close();
  }
}

/** LINK_CREATE with the calling thread in `ns`; a link made there but never handed back (the thread could not return) is closed. */
export function linkCreateIn(ns: Netns | undefined, op: string, attr: LinkCreateAttr): Fd {
  return inNetns(ns, op, () => linkCreate(attr), (fd) => fd.close());
}
