// XDP over rtnetlink (RTM_SETLINK with a nested IFLA_XDP): attach in a mode, replace (optionally
// only if the expected program is still there), detach, query. Programs attached this way outlive
// the process; a program attached through a BPF link cannot be replaced or removed from here (EBUSY).
import { AF_UNSPEC, IFLA, IFLA_XDP, NLM_F, RTM, XDP_FLAGS } from './constants.js';
import { MessageBuilder } from './codec.js';
import type { NetlinkSocket } from './socket.js';
import { getInterface, withSocket, type XdpAttachMode, type XdpState } from './link.js';

export const XDP_MODE_FLAG: Readonly<Record<XdpAttachMode, number>> = {
  skb: XDP_FLAGS.SKB_MODE, drv: XDP_FLAGS.DRV_MODE, hw: XDP_FLAGS.HW_MODE,
};

export interface XdpSetSpec {
  ifindex: number;
  /** the program fd, or -1 to detach */
  fd: number;
  /** XDP_FLAGS_* (mode, UPDATE_IF_NOEXIST, REPLACE) */
  flags: number;
  /** with XDP_FLAGS_REPLACE: act only if this program (fd) is the one attached */
  expectedFd?: number;
}

export function setXdpRequest(x: XdpSetSpec): MessageBuilder {
  return new MessageBuilder(RTM.SETLINK, NLM_F.REQUEST | NLM_F.ACK)
    .ifinfomsg({ family: AF_UNSPEC, index: x.ifindex })
    .nested(IFLA.XDP, (b) => {
      b.s32(IFLA_XDP.FD, x.fd);
      if (x.flags) b.u32(IFLA_XDP.FLAGS, x.flags);
      if (x.flags & XDP_FLAGS.REPLACE) b.s32(IFLA_XDP.EXPECTED_FD, x.expectedFd ?? -1);
    });
}

export function setXdp(x: XdpSetSpec, sock?: NetlinkSocket): void {
  withSocket(sock, (s) => s.request(setXdpRequest(x), `RTM_SETLINK IFLA_XDP (${x.fd < 0 ? 'detach' : 'attach'})`));
}

/** XDP programs attached to an interface, per mode. */
export function queryXdp(ifindex: number, sock?: NetlinkSocket): XdpState {
  return getInterface(ifindex, sock).xdp;
}
