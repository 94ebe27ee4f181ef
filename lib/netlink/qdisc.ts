// The clsact qdisc (RTM_NEWQDISC / RTM_DELQDISC / RTM_GETQDISC): the hook cls_bpf filters hang on.
// It shares the ingress pseudo-parent with the older `ingress` qdisc; only one of them can be there.
import { AF_UNSPEC, CLSACT_HANDLE, NLM_F, RTM, TCA, TC_H_CLSACT } from './constants.js';
import { MessageBuilder, parseTcmsg } from './codec.js';
import { NetlinkError } from './errors.js';
import type { NetlinkSocket } from './socket.js';
import { withSocket } from './link.js';

export interface Qdisc {
  readonly ifindex: number;
  readonly kind: string;
  readonly handle: number;
  readonly parent: number;
}

export function addClsactRequest(ifindex: number): MessageBuilder {
  return new MessageBuilder(RTM.NEWQDISC, NLM_F.REQUEST | NLM_F.ACK | NLM_F.EXCL | NLM_F.CREATE)
    .tcmsg({ family: AF_UNSPEC, ifindex, handle: CLSACT_HANDLE, parent: TC_H_CLSACT })
    .string(TCA.KIND, 'clsact');
}

export function deleteClsactRequest(ifindex: number): MessageBuilder {
  return new MessageBuilder(RTM.DELQDISC, NLM_F.REQUEST | NLM_F.ACK)
    .tcmsg({ family: AF_UNSPEC, ifindex, handle: CLSACT_HANDLE, parent: TC_H_CLSACT })
    .string(TCA.KIND, 'clsact');
}

export function dumpQdiscsRequest(ifindex = 0): MessageBuilder {
  return new MessageBuilder(RTM.GETQDISC, NLM_F.REQUEST | NLM_F.DUMP).tcmsg({ family: AF_UNSPEC, ifindex });
}

/** Qdiscs of one interface (0: of all). */
export function listQdiscs(ifindex = 0, sock?: NetlinkSocket): Qdisc[] {
  return withSocket(sock, (s) => s.dump(dumpQdiscsRequest(ifindex), 'RTM_GETQDISC (dump)')
    .filter((m) => m.type === RTM.NEWQDISC)
    .map((m) => {
      const t = parseTcmsg(m.payload);
      return { ifindex: t.ifindex, kind: t.attrs.string(TCA.KIND) ?? '', handle: t.handle, parent: t.parent };
    })
    .filter((q) => ifindex === 0 || q.ifindex === ifindex));
}

/**
 * RTM_GETQDISC (not a dump) for the qdisc on the ingress/clsact hook of one interface. NLM_F_ECHO:
 * the kernel sends the qdisc of a get back only to a request that asks for the echo (without it
 * the answer is a bare acknowledgement).
 */
export function getHookQdiscRequest(ifindex: number): MessageBuilder {
  return new MessageBuilder(RTM.GETQDISC, NLM_F.REQUEST | NLM_F.ACK | NLM_F.ECHO)
    .tcmsg({ family: AF_UNSPEC, ifindex, parent: TC_H_CLSACT });
}

/**
 * The qdisc on the ingress/clsact hook of an interface, if any (none too when the interface is
 * gone). First from a dump of the namespace's qdiscs; when that shows none, asked for directly: the
 * kernel resumes a qdisc dump by position among the interfaces and does not mark it interrupted, so
 * a dump that runs while other interfaces are removed can leave this one's qdisc out. Not the get
 * alone: the kernel answers a get of a qdisc that is there by also sending it to every `tc monitor`
 * listener, as if it had just been added.
 */
export function hookQdisc(ifindex: number, sock?: NetlinkSocket): Qdisc | undefined {
  return withSocket(sock, (s) => {
    const seen = listQdiscs(ifindex, s).find((q) => q.parent === TC_H_CLSACT);
    if (seen) return seen;
    let reply;
    try {
      reply = s.request(getHookQdiscRequest(ifindex), 'RTM_GETQDISC ingress hook');
    } catch (e) {
      // ENOENT: the hook never had a qdisc; ENODEV: no such interface
      if (e instanceof NetlinkError && (e.code === 2 || e.code === 19)) return undefined;
      throw e;
    }
    // no message: the hook holds the built-in noop qdisc a removal leaves, which is no qdisc
    const m = reply.messages.find((x) => x.type === RTM.NEWQDISC);
    if (!m) return undefined;
    const t = parseTcmsg(m.payload);
    return { ifindex: t.ifindex, kind: t.attrs.string(TCA.KIND) ?? '', handle: t.handle, parent: t.parent };
  });
}

/** how often ensureClsact tries again when the clsact it was refused for (EEXIST) is gone when looked at */
const ENSURE_ATTEMPTS = 5;

/**
 * Make sure clsact is on the interface. `created` says whether this call added it (so the caller
 * knows whether it may remove it). An existing clsact is success; an `ingress` qdisc holding the
 * hook is a NetlinkError (EEXIST) saying so. A hook qdisc that refuses the add (EEXIST) and is gone
 * by the time it is listed (another process removed it in between) is not an error: it tries again.
 */
export function ensureClsact(ifindex: number, sock?: NetlinkSocket): { created: boolean } {
  return withSocket(sock, (s) => {
    for (let attempt = 1; ; attempt++) {
      let refusal: NetlinkError;
      try {
        s.request(addClsactRequest(ifindex), 'RTM_NEWQDISC clsact');
        return { created: true };
      } catch (e) {
        if (!(e instanceof NetlinkError) || e.code !== 17 /* EEXIST */) throw e;
        refusal = e;
      }
      const q = hookQdisc(ifindex, s);
      if (q?.kind === 'clsact') return { created: false };
      if (q || attempt >= ENSURE_ATTEMPTS) {
        throw new NetlinkError('RTM_NEWQDISC clsact', refusal.code, {
          extack: refusal.extack,
          detail: q
            ? `interface ${ifindex} already has an '${q.kind}' qdisc on the ingress hook; clsact cannot be added next to it (remove it with \`tc qdisc del dev <if> ${q.kind}\`, or attach with TCX)`
            : `the ingress hook of interface ${ifindex} was taken and freed again ${attempt} times in a row while adding clsact`,
        });
      }
    }
  });
}

/** Remove the clsact qdisc (and with it every filter on it). */
export function deleteClsact(ifindex: number, sock?: NetlinkSocket): void {
  withSocket(sock, (s) => s.request(deleteClsactRequest(ifindex), 'RTM_DELQDISC clsact'));
}
