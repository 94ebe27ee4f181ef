// Other network namespaces as this one sees them: the nsids it has for its peers, and the interfaces
// in a peer. An interface moved out (`ip link set X netns Y`) leaves this namespace an nsid for Y
// (the kernel assigns one at the move, peernet2id_alloc), so what moved can be found from here.
import { MessageBuilder, Attrs } from './codec.js';
import { AF_UNSPEC, NETNSA, NLM_F, RTM, IFLA } from './constants.js';
import { parseLink, withSocket, type NetInterface } from './link.js';
import type { NetlinkSocket } from './socket.js';

/** RTM_GETNSID dump (`ip netns list-id`). */
export function dumpNsidsRequest(): MessageBuilder {
  return new MessageBuilder(RTM.GETNSID, NLM_F.REQUEST | NLM_F.DUMP).rtgenmsg(AF_UNSPEC);
}

/** RTM_GETLINK dump of the peer namespace with `nsid` (`ip -link-netnsid N link show`). */
export function dumpLinksInRequest(nsid: number): MessageBuilder {
  return new MessageBuilder(RTM.GETLINK, NLM_F.REQUEST | NLM_F.DUMP).ifinfomsg({ family: AF_UNSPEC }).s32(IFLA.TARGET_NETNSID, nsid);
}

/** The nsids this namespace has assigned to its peers (RTM_GETNSID dump). */
export function peerNsids(sock?: NetlinkSocket): number[] {
  return withSocket(sock, (s) => s.dump(dumpNsidsRequest(), 'RTM_GETNSID (dump)'))
    .filter((m) => m.type === RTM.NEWNSID && m.payload.length >= 4)
    .map((m) => new Attrs(m.payload.subarray(4), 'rtgenmsg').s32(NETNSA.NSID))
    .filter((id): id is number => id !== undefined && id >= 0)
    .sort((a, b) => a - b);
}

/** The interfaces of the peer namespace with `nsid` (RTM_GETLINK dump with IFLA_TARGET_NETNSID). */
export function listInterfacesIn(nsid: number, sock?: NetlinkSocket): NetInterface[] {
  return withSocket(sock, (s) => s.dump(dumpLinksInRequest(nsid), `RTM_GETLINK (dump, nsid ${nsid})`))
    .filter((m) => m.type === RTM.NEWLINK)
    .map(parseLink);
}
