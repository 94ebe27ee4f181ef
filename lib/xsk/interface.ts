// The interface an AF_XDP socket binds to: its index and name, and how many queues it has
// (IFLA_NUM_RX_QUEUES / IFLA_NUM_TX_QUEUES of RTM_GETLINK), so a queue it does not have is refused
// before the socket is made. The kernel's own check at bind() is against the *real* queue counts
// (ethtool -L), which can be lower: bind() still reports that one.
import { NetlinkSocket } from '../netlink/socket.js';
import { checkInterfaceRef, getLinkRequest, parseLink, type InterfaceRef } from '../netlink/link.js';
import { parseIfinfomsg } from '../netlink/codec.js';
import { RTM } from '../netlink/constants.js';
import { InvalidInterfaceError, NetlinkError } from '../netlink/errors.js';
import { XskArgumentError, XskError } from './errors.js';

/** linux/if_link.h */
const IFLA_NUM_TX_QUEUES = 31;
const IFLA_NUM_RX_QUEUES = 32;
const ENODEV = 19;

export interface XskInterface {
  readonly index: number;
  readonly name: string;
  readonly rxQueues: number;
  readonly txQueues: number;
}

export function lookupXskInterface(ref: InterfaceRef, queue: number): XskInterface {
  try {
    checkInterfaceRef(ref);
  } catch (e) {
    if (e instanceof InvalidInterfaceError) throw new XskArgumentError('XdpSocket.create', 'interface', e.message.replace(/^interface lookup: /, ''));
    throw e;
  }
  const s = NetlinkSocket.open();
  let found: XskInterface | undefined;
  try {
    const reply = s.request(getLinkRequest(ref), 'RTM_GETLINK');
    const m = reply.messages.find((x) => x.type === RTM.NEWLINK);
    if (m) {
      const link = parseLink(m);
      const { attrs } = parseIfinfomsg(m.payload);
      found = { index: link.index, name: link.name, rxQueues: attrs.u32(IFLA_NUM_RX_QUEUES) ?? 1, txQueues: attrs.u32(IFLA_NUM_TX_QUEUES) ?? 1 };
    }
  } catch (e) {
    if (!(e instanceof NetlinkError && e.code === ENODEV)) throw e;
  } finally {
    s.close();
  }
  if (!found) {
    throw new XskError('interface lookup', ENODEV, { interface: ref, queue }, `no interface ${typeof ref === 'number' ? `with index ${ref}` : JSON.stringify(ref)} in this network namespace`);
  }
  const queues = Math.max(found.rxQueues, found.txQueues);
  if (queue >= queues) {
    throw new XskArgumentError('XdpSocket.create', 'queue', `${queue} does not exist: ${found.name} has ${found.rxQueues} RX and ${found.txQueues} TX queue${queues === 1 ? '' : 's'} (0 … ${queues - 1})`, { interface: ref, queue });
  }
  return found;
}
