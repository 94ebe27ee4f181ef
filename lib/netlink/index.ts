// lib/netlink: tsbpf's own rtnetlink client (no netlink library): socket, codec, interfaces,
// clsact qdisc, cls_bpf filters, XDP, routes with BPF programs.
export { NetlinkSocket } from './socket.js';
export { decodeError, decodeDone, answersTo, AckCollector, DumpCollector, type NetlinkReply, type DecodedError } from './reply.js';
export { MessageBuilder, Attrs, parseMessages, parseIfinfomsg, parseTcmsg, parseRtmsg, align4, type NlMessage } from './codec.js';
export { NetlinkError, NetlinkProtocolError, NetlinkEncodeError, InterfaceNotFoundError, InvalidInterfaceError } from './errors.js';
export {
  listInterfaces, getInterface, checkInterfaceRef, interfaceIndex, interfaceName, withSocket, dumpLinksRequest, getLinkRequest, parseLink, parseXdp,
  type NetInterface, type XdpState, type XdpAttachMode, type InterfaceRef,
} from './link.js';
export { ensureClsact, deleteClsact, listQdiscs, hookQdisc, addClsactRequest, deleteClsactRequest, dumpQdiscsRequest, getHookQdiscRequest, type Qdisc } from './qdisc.js';
export {
  attachFilter, detachFilter, listFilters, getFilter, attachFilterRequest, deleteFilterRequest, dumpFiltersRequest, getFilterRequest, parseFilter,
  type TcFilter, type TcDirection, type FilterSpec, type FilterAddress,
} from './filter.js';
export { setXdp, queryXdp, setXdpRequest, XDP_MODE_FLAG, type XdpSetSpec } from './xdp.js';
export {
  listRoutes, addBpfRoute, deleteBpfRoute, addBpfRouteRequest, deleteBpfRouteRequest, dumpRoutesRequest, parseRoute, LWT_HOOKS,
  type Route, type BpfRouteSpec, type LwtHook, type LwtBpfNames, type LwtProgramRef,
} from './route.js';
export { parseIp, parsePrefix, formatIp, formatPrefix, InvalidAddressError, type IpAddress, type IpPrefix, type IpFamily } from './address.js';
export { peerNsids, listInterfacesIn, dumpNsidsRequest, dumpLinksInRequest } from './netns.js';
export { Netns, NetnsError, NetnsReturnError, inNetns, usingNetns, NETNS_RUN_DIR, type NetnsRef } from './netns-enter.js';
export * as NL from './constants.js';
