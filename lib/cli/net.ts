// `tsbpf net show|attach|detach`, in bpftool's shape:
//   tsbpf net show [dev IF] [-j]                         XDP programs, tc (clsact) filters, flow dissector, netfilter links, tcx programs,
//                                                        and (tsbpf's own section, only when there are some) routes with BPF programs
//   tsbpf net attach xdp PROG dev IF [mode drv|skb|hw|auto] [replace]
//   tsbpf net attach tc PROG dev IF ingress|egress [prio N] [handle N] [replace]
//   tsbpf net attach tcx PROG dev IF ingress|egress      (PROG_ATTACH: stays after the command exits)
//   tsbpf net detach xdp dev IF [mode drv|skb|hw]   (every mode with a program; a mode without one is an error)
//   tsbpf net detach tc dev IF ingress|egress [prio N handle N]   (all bpf filters of the direction without)
//   tsbpf net detach tcx PROG dev IF ingress|egress
// Each takes --netns NAME|PATH: the interfaces of that network namespace (NAME is /run/netns/NAME, as
// `ip -n NAME`), reached from this one (netns-enter.ts): the command itself stays where it runs.
// PROG is `id N` or `pinned PATH`. Attachments made here outlive the command (netlink, PROG_ATTACH);
// a clsact qdisc the command adds stays (remove it with `tc qdisc del dev IF clsact`). A keyword the
// command does not take, or one without its value, is a CliError: nothing is silently ignored.
import type { Command } from 'commander';
import { BpfProgram } from '../program/program.js';
import { progAttach, progDetach, progQuery } from '../syscall/prog.js';
import { BPF_ATTACH_TYPE, BPF_LINK_TYPE } from '../syscall/types.js';
import { listInterfaces, getInterface, type NetInterface, type XdpAttachMode } from '../netlink/link.js';
import { listFilters, detachFilter, type TcDirection } from '../netlink/filter.js';
import { listRoutes } from '../netlink/route.js';
import { setXdp, XDP_MODE_FLAG } from '../netlink/xdp.js';
import { NetlinkSocket } from '../netlink/socket.js';
import { inNetns, inNetnsText, usingNetns, type Netns, type NetnsRef } from '../netlink/netns-enter.js';
import { interfaceIn } from '../attach/netns.js';
import { queryNetns } from '../attach/netns-link.js';
import { attachTc } from '../attach/tc.js';
import { attachXdp, type XdpMode } from '../attach/xdp.js';
import { checkProgram } from '../attach/handle.js';
import { attachRefusal, programLabel } from '../attach/refusal.js';
import { ERRNO } from '../syscall/errno.js';
import { CliError, numberArg, progName } from './bpf-objects.js';
import { netfilterPlain } from './link.js';
import { allIds, getFdById, linkDetails } from '../syscall/obj.js';
import { jsonOptions, jsonOrText, quietUnderJson, type JsonOpts } from './json-writer.js';

const XDP_MODE_NAME = { drv: 'driver', skb: 'generic', hw: 'offload' } as const;

export interface NetShow {
  xdp: { devname: string; ifindex: number; mode: string; id: number }[];
  tc: { devname: string; ifindex: number; kind: string; name: string; id?: number; prio: number; handle: number }[];
  /** the network namespace's flow dissector program (bpftool's section; one at most) */
  flow_dissector: { id: number }[];
  /**
   * netfilter links, as newer bpftool lists them: every one of the machine, whatever `dev` or
   * namespace (the kernel does not say a netfilter link's namespace), sorted by family, hook, priority
   */
  netfilter: { pf: number; hook: number; prio: number; flags: number; id: number }[];
  tcx: { devname: string; ifindex: number; kind: string; name: string; prog_id: number; link_id?: number }[];
  /**
   * routes whose encapsulation is BPF programs (attachLwt, `ip route … encap bpf`), by the names the
   * route keeps (the kernel keeps no program id for them). bpftool has no such section: present only
   * when there is a route to show, so the rest stays byte for byte bpftool's.
   */
  lwt?: { devname?: string; ifindex?: number; route: string; table: number; in?: string; out?: string; xmit?: string }[];
}

/** Where the net commands look: another network namespace (a NAME under /run/netns, a path, an fd). */
export interface NetOptions {
  netns?: NetnsRef;
}

/** What is attached to the interfaces of this network namespace, or of `netns` (one, with `dev`). */
export function netShow(dev?: string, o: NetOptions = {}): NetShow {
  return usingNetns(o.netns, 'net show', (ns) => netShowIn(dev, ns));
}

function netShowIn(dev: string | undefined, ns: Netns | undefined): NetShow {
  const sock = NetlinkSocket.open({ netns: ns });
  try {
    const ifaces: NetInterface[] = dev ? [getInterface(dev, sock)] : listInterfaces(sock);
    const out: NetShow = { xdp: [], tc: [], flow_dissector: flowDissector(ns), netfilter: netfilterLinks(), tcx: [] };
    // PROG_QUERY names the interface by ifindex, which the kernel looks up in the calling thread's namespace
    const tcx = inNetns(ns, 'net show', () => ifaces.map((i) => (['ingress', 'egress'] as const).map((dir) => tcxQuery(i.index, dir))));
    ifaces.forEach((i, n) => {
      for (const mode of ['drv', 'skb', 'hw'] as const) {
        const id = i.xdp[mode];
        if (id) out.xdp.push({ devname: i.name, ifindex: i.index, mode: XDP_MODE_NAME[mode], id });
      }
      (['ingress', 'egress'] as const).forEach((dir, d) => {
        for (const f of listFilters(i.index, dir, sock)) {
          out.tc.push({ devname: i.name, ifindex: i.index, kind: `clsact/${dir}`, name: f.name ?? f.kind, ...(f.progId !== undefined ? { id: f.progId } : {}), prio: f.priority, handle: f.handle });
        }
        const q = tcx[n][d];
        q?.progIds.forEach((id, k) => {
          const link = q.linkIds[k];
          out.tcx.push({ devname: i.name, ifindex: i.index, kind: `tcx/${dir}`, name: progName(id), prog_id: id, ...(link ? { link_id: link } : {}) });
        });
      });
    });
    const names = new Map(ifaces.map((i) => [i.index, i.name]));
    const lwt = listRoutes({}, sock).filter((r) => r.bpf && (!dev || names.has(r.ifindex ?? 0))).map((r) => ({
      ...(r.ifindex !== undefined ? { devname: names.get(r.ifindex) ?? interfaceNameOr(r.ifindex, sock), ifindex: r.ifindex } : {}),
      route: r.dst, table: r.table, ...r.bpf,
    }));
    if (lwt.length) out.lwt = lwt;
    return out;
  } finally {
    sock.close();
  }
}

/** An interface's name, or "if N" when it went away since the route was listed */
function interfaceNameOr(index: number, sock: NetlinkSocket): string {
  try {
    return getInterface(index, sock).name;
  } catch {
    return `if ${index}`;
  }
}

/** The tcx programs of one hook, or undefined on a kernel without TCX. */
function tcxQuery(ifindex: number, dir: TcDirection): ReturnType<typeof progQuery> | undefined {
  try {
    return progQuery({ targetIfindex: ifindex, attachType: dir === 'ingress' ? BPF_ATTACH_TYPE.TCX_INGRESS : BPF_ATTACH_TYPE.TCX_EGRESS });
  } catch {
    return undefined;
  }
}

/** The flow dissector program attached to this network namespace or `ns`. */
function flowDissector(ns: Netns | undefined): { id: number }[] {
  try {
    return queryNetns('flow_dissector', ns).map((id) => ({ id }));
  } catch {
    return []; // a kernel without flow dissector programs
  }
}

/** Every netfilter link: its hook and program (links gone since listed, or unreadable, are skipped as bpftool does). */
function netfilterLinks(): NetShow['netfilter'] {
  const out: NetShow['netfilter'] = [];
  for (const id of allIds('link')) {
    let fd;
    try {
      fd = getFdById('link', id);
    } catch {
      continue;
    }
    try {
      const d = linkDetails(fd.value);
      if (d.type === BPF_LINK_TYPE.NETFILTER && d.netfilter) out.push({ pf: d.netfilter.pf, hook: d.netfilter.hooknum, prio: d.netfilter.priority, flags: d.netfilter.flags, id: d.progId });
    } catch { /* info refused */ } finally {
      fd.close();
    }
  }
  return out.sort((a, b) => a.pf - b.pf || a.hook - b.hook || a.prio - b.prio || a.flags - b.flags);
}

export function formatNetShow(s: NetShow): string {
  const lines = ['xdp:'];
  for (const x of s.xdp) lines.push(`${x.devname}(${x.ifindex}) ${x.mode} id ${x.id}`);
  lines.push('', 'tc:');
  for (const t of s.tc) lines.push(`${t.devname}(${t.ifindex}) ${t.kind} ${t.name}${t.id !== undefined ? ` id ${t.id}` : ''} prio ${t.prio} handle 0x${t.handle.toString(16)}`);
  lines.push('', 'flow_dissector:');
  for (const f of s.flow_dissector) lines.push(`id ${f.id}`);
  lines.push('', 'netfilter:');
  for (const n of s.netfilter) lines.push(`${netfilterPlain({ pf: n.pf, hooknum: n.hook, priority: n.prio, flags: n.flags })} prog_id ${n.id}`);
  lines.push('', 'tcx:');
  for (const t of s.tcx) lines.push(`${t.devname}(${t.ifindex}) ${t.kind} ${t.name} prog_id ${t.prog_id}${t.link_id ? ` link_id ${t.link_id}` : ''}`);
  if (s.lwt) {
    lines.push('', 'lwt:');
    for (const r of s.lwt) {
      const hooks = (['in', 'out', 'xmit'] as const).filter((h) => r[h] !== undefined).map((h) => `${h} ${r[h]}`).join(' ');
      lines.push(`${r.devname !== undefined ? `${r.devname}(${r.ifindex}) ` : ''}route ${r.route}${r.table !== 254 ? ` table ${r.table}` : ''} ${hooks}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

type Hook = 'xdp' | 'tc' | 'tcx';
type Keyword = 'prog' | 'dev' | 'direction' | 'prio' | 'handle' | 'mode' | 'replace';

/** What each command takes after its hook (anything else is an error, not silently ignored). */
const KEYWORDS: Readonly<Record<'attach' | 'detach', Readonly<Record<Hook, readonly Keyword[]>>>> = {
  attach: { xdp: ['prog', 'dev', 'mode', 'replace'], tc: ['prog', 'dev', 'direction', 'prio', 'handle', 'replace'], tcx: ['prog', 'dev', 'direction'] },
  detach: { xdp: ['dev', 'mode'], tc: ['dev', 'direction', 'prio', 'handle'], tcx: ['prog', 'dev', 'direction'] },
};
const MODES = { attach: ['drv', 'skb', 'hw', 'auto'], detach: ['drv', 'skb', 'hw'] } as const;

function keywordOf(w: string): Keyword | undefined {
  if (w === 'id' || w === 'pinned') return 'prog';
  if (w === 'dev') return 'dev';
  if (w === 'ingress' || w === 'egress') return 'direction';
  if (w === 'prio' || w === 'pref') return 'prio';
  if (w === 'handle') return 'handle';
  if (w === 'mode') return 'mode';
  if (w === 'replace' || w === 'overwrite') return 'replace';
  return undefined;
}

function checkHook(hook: string): Hook {
  if (hook === 'xdp' || hook === 'tc' || hook === 'tcx') return hook;
  throw new CliError(`unknown hook ${hook} (xdp, tc or tcx)`);
}

/** Keyword arguments after the hook: `dev IF ingress prio 3 handle 1 mode skb replace id 7 pinned P`. */
interface NetArgs {
  prog?: { how: 'id' | 'pinned'; what: string }; dev: string; direction?: TcDirection; prio?: number; handle?: number; mode?: string; replace: boolean;
}

function parseArgs(verb: 'attach' | 'detach', hook: Hook, words: string[]): NetArgs {
  const allowed = KEYWORDS[verb][hook];
  const a: Partial<NetArgs> & { replace: boolean } = { replace: false };
  // each keyword once: `ingress egress` or `prio 5 prio 6` is a mistake to say, not a last-wins
  const given = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const kw = keywordOf(w);
    if (kw === undefined) throw new CliError(`unexpected argument "${w}"`);
    if (!allowed.includes(kw)) throw new CliError(`net ${verb} ${hook} takes no ${w}`);
    const before = given.get(kw);
    if (before !== undefined) throw new CliError(before === w ? `${w} is given twice` : `${before} and ${w} are given together (one of them)`);
    given.set(kw, w);
    const value = () => {
      const v = words[++i];
      if (v === undefined || v === '') throw new CliError(`${w} needs a value`);
      return v;
    };
    if (kw === 'prog') a.prog = { how: w as 'id' | 'pinned', what: value() };
    else if (kw === 'dev') a.dev = value();
    else if (kw === 'direction') a.direction = w as TcDirection;
    else if (kw === 'prio') a.prio = numberArg(words[++i], w, 0xffff);
    else if (kw === 'handle') a.handle = numberArg(words[++i], 'handle');
    else if (kw === 'mode') {
      const m = value();
      if (!(MODES[verb] as readonly string[]).includes(m)) throw new CliError(`mode must be ${MODES[verb].join(', ')}, got "${m}"`);
      a.mode = m;
    } else a.replace = true;
  }
  if (!a.dev) throw new CliError('dev IF is required');
  if (allowed.includes('direction') && !a.direction) throw new CliError('ingress or egress is required');
  if (allowed.includes('prog') && !a.prog) throw new CliError('a program is required: id N or pinned PATH');
  return a as NetArgs;
}

/** The program named by `id N` / `pinned PATH` (opened once every argument has been read). */
function openProg(p: NonNullable<NetArgs['prog']>): BpfProgram {
  return p.how === 'id' ? BpfProgram.fromId(numberArg(p.what, 'id')) : BpfProgram.fromPin(p.what);
}

export function netAttach(hookWord: string, words: string[], o: NetOptions = {}): string {
  const hook = checkHook(hookWord);
  const a = parseArgs('attach', hook, words);
  return usingNetns(o.netns, 'net attach', (ns) => {
    const where = inNetnsText(ns);
    const prog = openProg(a.prog!);
    try {
      if (hook === 'xdp') {
        const x = attachXdp({ program: prog, interface: a.dev, mode: (a.mode ?? 'drv') as XdpMode, replace: a.replace, netns: ns });
        x.close(); // netlink attachments stay after the handle goes
        return `attached ${prog.name} (id ${x.info.programId}) to ${x.info.interface} xdp ${XDP_MODE_NAME[x.info.mode]}${where}${x.info.note ? ` (${x.info.note})` : ''}\n`;
      }
      if (hook === 'tc') {
        const t = attachTc({ program: prog, interface: a.dev, direction: a.direction!, priority: a.prio, handle: a.handle, replace: a.replace, keepQdisc: true, netns: ns });
        t.close();
        return `attached ${prog.name} (id ${t.info.programId}) to ${t.info.interface} clsact/${t.info.direction} prio ${t.info.priority} handle 0x${t.info.handle.toString(16)}${where}\n`;
      }
      const dir = a.direction!;
      const p = checkProgram('net attach tcx', prog, [3], 'a tcx hook');
      const iface = interfaceIn(a.dev, ns);
      try {
        // PROG_ATTACH finds the ifindex in the calling thread's namespace
        inNetns(ns, 'net attach tcx', () => progAttach({ targetIfindex: iface.index, progFd: p.fd, attachType: dir === 'ingress' ? BPF_ATTACH_TYPE.TCX_INGRESS : BPF_ATTACH_TYPE.TCX_EGRESS }));
      } catch (e) {
        throw attachRefusal(e, `tcx ${dir} on ${iface.name} (ifindex ${iface.index})${where}, ${programLabel(p)}`, (x) => (x.code === ERRNO.EEXIST ? 'the program is already attached there' : undefined));
      }
      return `attached ${p.name} (id ${p.id}) to ${iface.name} tcx/${dir}${where}\n`;
    } finally {
      prog.close();
    }
  });
}

export function netDetach(hookWord: string, words: string[], o: NetOptions = {}): string {
  const hook = checkHook(hookWord);
  const a = parseArgs('detach', hook, words);
  return usingNetns(o.netns, 'net detach', (ns) => {
    const where = inNetnsText(ns);
    const prog = a.prog ? openProg(a.prog) : undefined;
    let sock: NetlinkSocket | undefined;
    try {
      sock = NetlinkSocket.open({ netns: ns });
      const iface = getInterface(a.dev, sock);
      if (hook === 'xdp') {
        const attached = (['drv', 'skb', 'hw'] as const).filter((m) => iface.xdp[m]);
        let modes: XdpAttachMode[] = attached;
        if (a.mode) {
          const m = a.mode as XdpAttachMode;
          // the kernel detaches nothing (and says 0) when the mode named has no program: saying
          // "detached" then would hide a program still running in another mode
          if (!iface.xdp[m]) {
            const there = attached.map((x) => `${XDP_MODE_NAME[x]} id ${iface.xdp[x]}`).join(', ');
            throw new CliError(`nothing attached to ${iface.name} xdp in ${XDP_MODE_NAME[m]} mode${where}${there ? ` (attached: ${there})` : ''}`);
          }
          modes = [m];
        }
        if (modes.length === 0) return `nothing attached to ${iface.name} xdp${where}\n`;
        for (const m of modes) setXdp({ ifindex: iface.index, fd: -1, flags: XDP_MODE_FLAG[m] }, sock);
        return `detached xdp (${modes.map((m) => XDP_MODE_NAME[m]).join(', ')}) from ${iface.name}${where}\n`;
      }
      if (hook === 'tc') {
        const dir = a.direction!;
        const all = listFilters(iface.index, dir, sock).filter((f) => f.kind === 'bpf');
        const which = a.prio !== undefined || a.handle !== undefined
          ? all.filter((f) => (a.prio === undefined || f.priority === a.prio) && (a.handle === undefined || f.handle === a.handle))
          : all;
        if (which.length === 0) throw new CliError(`no bpf filter on ${iface.name} clsact/${dir}${a.prio !== undefined ? ` prio ${a.prio}` : ''}${a.handle !== undefined ? ` handle ${a.handle}` : ''}${where}`);
        for (const f of which) detachFilter({ ifindex: iface.index, direction: dir, chain: f.chain, priority: f.priority, handle: f.handle }, sock);
        return which.map((f) => `detached ${f.name ?? 'bpf'} (prio ${f.priority} handle 0x${f.handle.toString(16)}) from ${iface.name} clsact/${dir}${where}\n`).join('');
      }
      const dir = a.direction!;
      try {
        inNetns(ns, 'net detach tcx', () => progDetach({ targetIfindex: iface.index, progFd: prog!.fd.value, attachType: dir === 'ingress' ? BPF_ATTACH_TYPE.TCX_INGRESS : BPF_ATTACH_TYPE.TCX_EGRESS }));
      } catch (e) {
        throw attachRefusal(e, `tcx ${dir} on ${iface.name} (ifindex ${iface.index})${where}, ${programLabel(prog!)}`, (x) => (x.code === ERRNO.ENOENT ? 'the program is not attached there' : undefined));
      }
      return `detached ${prog!.name} from ${iface.name} tcx/${dir}${where}\n`;
    } finally {
      prog?.close();
      sock?.close();
    }
  });
}

type NetnsOpt = { netns?: string };
const NETNS_OPTION = ['--netns <name|path>', 'the interfaces of this network namespace: NAME is /run/netns/NAME (as ip -n NAME), or a PATH such as /proc/PID/ns/net'] as const;

function netCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'net') ?? program.command('net').description('network attachments: XDP, tc (clsact/cls_bpf), tcx');
}

export function registerNet(program: Command): void {
  const net = netCommand(program);
  jsonOptions(net.command('show'))
    .alias('list')
    .argument('[dev]', 'the word "dev"')
    .argument('[ifname]', 'only this interface')
    .option(...NETNS_OPTION)
    .description('list XDP programs, tc filters and tcx programs of this network namespace, or of --netns (bpftool net show)')
    .action((kw: string | undefined, ifname: string | undefined, opts: JsonOpts & NetnsOpt) => {
      if (kw !== undefined && (kw !== 'dev' || ifname === undefined)) throw new CliError('expected "dev IF"');
      const s = netShow(ifname, { netns: opts.netns });
      process.stdout.write(jsonOrText(opts, [s], () => formatNetShow(s)));
    });
  jsonOptions(net.command('attach'), 'print JSON (null, as bpftool)')
    .argument('<hook>', 'xdp, tc or tcx')
    .argument('<args...>', 'id N | pinned PATH, dev IF, ingress|egress, [mode drv|skb|hw|auto] [prio N] [handle N] [replace]')
    .option(...NETNS_OPTION)
    .description('attach a program: XDP (netlink), tc clsact/cls_bpf direct-action (netlink), tcx (PROG_ATTACH)')
    .action((hook: string, words: string[], opts: JsonOpts & NetnsOpt) => { quietUnderJson(netAttach(hook, words, { netns: opts.netns }), opts); });
  jsonOptions(net.command('detach'), 'print JSON (null, as bpftool)')
    .argument('<hook>', 'xdp, tc or tcx')
    .argument('<args...>', 'dev IF, [ingress|egress] [prio N handle N] [mode M] [id N | pinned PATH for tcx]')
    .option(...NETNS_OPTION)
    .description('detach what is attached at a hook')
    .action((hook: string, words: string[], opts: JsonOpts & NetnsOpt) => { quietUnderJson(netDetach(hook, words, { netns: opts.netns }), opts); });
}
