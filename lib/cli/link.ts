// `tsbpf link show [id N | pinned PATH] [-f] [-j|-p]`, `link pin LINK FILE`, `link detach LINK`:
// bpftool's `link` command. The text and JSON are bpftool's; for what bpftool 7.1 does not know
// (link types after struct_ops, ifindexes, perf event details, cookies, probe lists) they are what
// newer bpftool (src/link.c upstream) prints, since 7.1 prints only the header line there.
import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import type { Fd } from '../syscall/fd.js';
import { BpfError } from '../syscall/errors.js';
import { errnoMessage } from '../syscall/errno.js';
import { getFdById, linkDetails, objGet, progInfo, type LinkDetails } from '../syscall/obj.js';
import { linkDetach } from '../syscall/link.js';
import { BPF_PERF_EVENT } from '../syscall/info.js';
import { BPF_LINK_TYPE, attachTypeName, linkTypeName, progTypeName } from '../syscall/types.js';
import { listInterfaces } from '../netlink/link.js';
import { JsonWriter, jsonOptions } from './json-writer.js';
import { IdTable } from './libbpf-hashmap.js';
import { CliError, fdKind, keyword, liveObjects, pinnedPaths, pinOpened, refused, strtoul } from './bpf-objects.js';

interface Options { json?: boolean; pretty?: boolean; bpffs?: boolean }

const T = BPF_LINK_TYPE;

/** bpftool's link_parse_fd: `id N` or `pinned PATH` at the head of args → an owned fd and the rest. */
function openLink(args: readonly string[]): { fd: Fd; rest: string[] } {
  const [how, arg, ...rest] = args;
  if (!keyword(how, 'id') && !keyword(how, 'pinned')) throw new CliError(`expected 'id' or 'pinned', got: '${how ?? ''}'?`);
  if (arg === undefined) throw new CliError(`expected a value after '${how}'`);
  if (keyword(how, 'id')) {
    const id = strtoul(arg, 0);
    if (id === undefined || id > 0xffffffff) throw new CliError(`can't parse ${arg} as ID`);
    return { fd: refused(`failed to get link with ID ${id}`, () => getFdById('link', id)), rest };
  }
  let fd: Fd;
  try {
    fd = objGet(arg);
  } catch (e) {
    throw new CliError(`bpf obj get (${arg}): ${e instanceof BpfError ? errnoMessage(e.code) : (e as Error).message}`, { cause: e });
  }
  const got = fdKind(fd.value);
  if (got !== 'link') {
    fd.close();
    throw new CliError(`incorrect object type: ${got} (${arg} is a pinned ${got}, not a link)`);
  }
  return { fd, rest };
}

// ---- names, as bpftool prints them ----

/** libbpf's link type name, or undefined for one it does not know (bpftool prints the number). */
function linkType(t: number): string | undefined {
  const n = linkTypeName(t);
  // tracing_multi is newer than every libbpf release
  return n.startsWith('unknown(') || t === T.TRACING_MULTI ? undefined : n;
}

function attachType(t: number): string | number {
  const n = attachTypeName(t);
  return n.startsWith('unknown(') ? t : n;
}

function progType(t: number): string | number {
  const n = progTypeName(t);
  return n.startsWith('unknown(') ? t : n;
}

const PERF_TYPE = ['hardware', 'software', 'tracepoint', 'hw-cache', 'raw', 'breakpoint'];
const PERF_HW = ['cpu-cycles', 'instructions', 'cache-references', 'cache-misses', 'branch-instructions', 'branch-misses',
  'bus-cycles', 'stalled-cycles-frontend', 'stalled-cycles-backend', 'ref-cycles'];
const PERF_SW = ['cpu-clock', 'task-clock', 'page-faults', 'context-switches', 'cpu-migrations', 'minor-faults',
  'major-faults', 'alignment-faults', 'emulation-faults', 'dummy', 'bpf-output', 'cgroup-switches'];
const HW_CACHE = ['L1-dcache', 'L1-icache', 'LLC', 'dTLB', 'iTLB', 'branch', 'node'];
const HW_CACHE_OP = ['load', 'store', 'prefetch'];
const HW_CACHE_RESULT = ['refs', 'misses'];

const at = (names: readonly string[], i: bigint | number): string | undefined => (BigInt(i) < BigInt(names.length) ? names[Number(i)] : undefined);

/** perf_config_str: the event's config by name (hardware, software, hw-cache events), else undefined. */
function perfConfig(type: number, config: bigint): string | undefined {
  if (type === 0) return at(PERF_HW, config);
  if (type === 1) return at(PERF_SW, config);
  if (type !== 3) return undefined;
  const part = (names: readonly string[], v: bigint) => at(names, v) ?? String(v);
  return `${part(HW_CACHE, config & 0xffn)}-${part(HW_CACHE_OP, (config >> 8n) & 0xffn)}-${part(HW_CACHE_RESULT, config >> 16n)}`;
}

const PF_NAME: Record<number, string> = { 1: 'inet', 2: 'ip', 3: 'arp', 5: 'netdev', 7: 'bridge', 10: 'ip6' };
const INET_HOOK = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

/** A netfilter link's hook as bpftool prints it (`\n\tip input prio 10`), for link show and net show. */
export function netfilterPlain(n: NonNullable<LinkDetails['netfilter']>): string {
  const pf = PF_NAME[n.pf];
  // bridge shares its hook numbers with the inet ones; bpftool's arp case falls through to no name
  const hook = [1, 2, 7, 10].includes(n.pf) ? at(INET_HOOK, n.hooknum) : undefined;
  let s = pf ? `\n\t${pf}` : `\n\tpf: ${n.pf}`;
  s += hook ? ` ${hook}` : `, hook ${n.hooknum},`;
  s += ` prio ${n.priority}`;
  if (n.flags) s += ` flags 0x${n.flags.toString(16)}`;
  return s;
}

/** Interface names of this network namespace by index, read once per command (if_indextoname). */
let ifnames: Map<number, string> | undefined;
function ifname(index: number): string | undefined {
  if (!ifnames) {
    try {
      ifnames = new Map(listInterfaces().map((i) => [i.index, i.name]));
    } catch {
      ifnames = new Map();
    }
  }
  return ifnames.get(index);
}

/** Kernel symbols sorted by address (bpftool's kernel_syms_load), for kprobe.multi functions. */
interface KernelSym { address: bigint; name: string; module: string }
let ksyms: KernelSym[] | undefined;
function kernelSyms(): KernelSym[] {
  if (ksyms) return ksyms;
  ksyms = [];
  try {
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const m = /^([0-9a-f]+) \S+ (\S+)(?:\s+\[([^\]]*)\])?/.exec(line);
      if (!m) continue;
      const address = BigInt(`0x${m[1]}`);
      if (m[2] === '__bpf_call_base' && !address) return (ksyms = []); // kptr_restrict hides them all
      if (address) ksyms.push({ address, name: m[2], module: m[3] ?? '' });
    }
  } catch { /* no kallsyms: no functions listed, as bpftool */ }
  ksyms.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return ksyms;
}

/** CONFIG_X86_KERNEL_IBT: kprobes then sit 4 bytes after the function's symbol (past endbr). */
function x86Ibt(): boolean {
  if (arch() !== 'x64') return false;
  for (const read of [() => readFileSync(`/boot/config-${release()}`, 'utf8'), () => gunzipSync(readFileSync('/proc/config.gz')).toString('utf8')]) {
    try {
      return /^CONFIG_X86_KERNEL_IBT=/m.test(read());
    } catch { /* try the next place */ }
  }
  return false;
}

/** The probes of a kprobe.multi link matched to kernel symbols, in address order (bpftool's walk). */
function kprobeFuncs(d: LinkDetails): { addr: bigint; cookie: bigint; sym: KernelSym }[] {
  const probes = [...(d.probes ?? [])].sort((a, b) => (a.addr! < b.addr! ? -1 : a.addr! > b.addr! ? 1 : 0));
  const out: ReturnType<typeof kprobeFuncs> = [];
  if (!probes.length) return out;
  const ibt = x86Ibt();
  for (const sym of kernelSyms()) {
    const p = probes[out.length];
    if (sym.address !== p.addr && !(ibt && sym.address === p.addr! - 4n)) continue;
    out.push({ addr: p.addr!, cookie: p.cookie, sym });
    if (out.length === probes.length) break;
  }
  return out;
}

const hex = (n: bigint | number) => n.toString(16);

// ---- plain ----

function ifindexPlain(index: number): string {
  const name = index ? ifname(index) : undefined;
  return `ifindex ${index === 0 ? '(detached)' : name !== undefined ? `${name}(${index})` : '(unknown)'}  `;
}

const attachTypePlain = (t: number) => `attach_type ${attachType(t)}  `;

function perfEventPlain(d: LinkDetails): string {
  const t = d.perfEventType;
  const name = d.name ?? '';
  if (t === BPF_PERF_EVENT.EVENT) {
    const type = d.eventType!;
    const config = perfConfig(type, d.eventConfig!);
    let s = `\n\tevent ${at(PERF_TYPE, type) !== undefined ? `${PERF_TYPE[type]}:` : `${type} :`}${config ?? String(d.eventConfig)}  `;
    if (d.cookie) s += `cookie ${d.cookie}  `;
    return s;
  }
  if (t === BPF_PERF_EVENT.TRACEPOINT) return name ? `\n\ttracepoint ${name}  ${d.cookie ? `cookie ${d.cookie}  ` : ''}` : '';
  if (t === BPF_PERF_EVENT.KPROBE || t === BPF_PERF_EVENT.KRETPROBE) {
    if (!name && !d.addr) return '';
    let s = `\n\t${t === BPF_PERF_EVENT.KRETPROBE ? 'kretprobe' : 'kprobe'} ${d.addr ? `${hex(d.addr)} ` : ''}${name}`;
    if (d.offset) s += `+0x${hex(d.offset)}`;
    if (d.missed) s += `  missed ${d.missed}`;
    if (d.cookie) s += `  cookie ${d.cookie}`;
    return `${s}  `;
  }
  if (t === BPF_PERF_EVENT.UPROBE || t === BPF_PERF_EVENT.URETPROBE) {
    if (!name) return '';
    // printf's %#x: 0 has no 0x
    let s = `\n\t${t === BPF_PERF_EVENT.URETPROBE ? 'uretprobe' : 'uprobe'} ${name}+${d.offset ? `0x${hex(d.offset)}` : '0'}  `;
    if (d.cookie) s += `cookie ${d.cookie}  `;
    if (d.refCtrOffset) s += `ref_ctr_offset 0x${hex(d.refCtrOffset)}  `;
    return s;
  }
  return '';
}

function kprobeMultiPlain(d: LinkDetails): string {
  const n = d.probes?.length ?? 0;
  if (!n) return '';
  let s = `\n\t${d.flags! & 1 ? 'kretprobe.multi' : 'kprobe.multi'}  func_cnt ${n}  `;
  if (d.missed) s += `missed ${d.missed}  `;
  if (!kernelSyms().length) return s;
  s += `\n\t${'addr'.padEnd(16)} ${'cookie'.padEnd(16)} func [module]`;
  for (const f of kprobeFuncs(d)) s += `\n\t${hex(f.addr).padStart(16, '0')} ${hex(f.cookie).padEnd(16)} ${f.sym.name}${f.sym.module ? ` [${f.sym.module}]  ` : '  '}`;
  return s;
}

function uprobeMultiPlain(d: LinkDetails): string {
  const probes = d.probes ?? [];
  if (!probes.length) return '';
  let s = `\n\t${d.flags! & 1 ? 'uretprobe.multi' : 'uprobe.multi'}  path ${d.name}  func_cnt ${probes.length}  `;
  if (d.pid) s += `pid ${d.pid}  `;
  s += `\n\t${'offset'.padEnd(16)}   ${'ref_ctr_offset'.padEnd(16)}   ${'cookies'.padEnd(16)}`;
  for (const p of probes) s += `\n\t0x${hex(p.offset!).padEnd(16)} 0x${hex(p.refCtrOffset!).padEnd(16)} 0x${hex(p.cookie).padEnd(16)}`;
  return s;
}

/** The program type of a tracing link's program (bpftool asks the program); undefined when it is gone. */
function linkProgType(progId: number): string | number | undefined {
  try {
    const fd = getFdById('prog', progId);
    try {
      return progType(progInfo(fd.value).type);
    } finally {
      fd.close();
    }
  } catch {
    return undefined;
  }
}

function showPlain(d: LinkDetails, pins: IdTable<string> | undefined): string {
  const type = linkType(d.type);
  let s = `${d.id}: ${type ?? `type ${d.type}`}  ${d.type === T.STRUCT_OPS ? `map ${d.mapId}` : `prog ${d.progId}`}  `;
  switch (d.type) {
    case T.RAW_TRACEPOINT:
      s += `\n\ttp '${d.name}'  ${d.cookie ? `cookie ${d.cookie}  ` : ''}`;
      break;
    case T.TRACING: {
      const pt = linkProgType(d.progId);
      if (pt !== undefined) s += `\n\tprog_type ${pt}  `;
      s += attachTypePlain(d.attachType!);
      if (d.targetObjId || d.targetBtfId) s += `\n\ttarget_obj_id ${d.targetObjId}  target_btf_id ${d.targetBtfId}  `;
      if (d.cookie) s += `\n\tcookie ${d.cookie}  `;
      break;
    }
    case T.CGROUP:
      s += `\n\tcgroup_id ${d.cgroupId}  ${attachTypePlain(d.attachType!)}`;
      break;
    case T.ITER:
      s += `target_name ${d.name}  `;
      if (d.name === 'bpf_map_elem' || d.name === 'bpf_sk_storage_map') s += `map_id ${d.mapId}  `;
      else if (['task', 'task_file', 'task_vma'].includes(d.name!)) s += d.tid ? `tid ${d.tid} ` : d.pid ? `pid ${d.pid} ` : '';
      if (d.name === 'cgroup') s += `cgroup_id ${d.cgroupId}  order ${cgroupOrder(d.order!)}  `;
      break;
    case T.NETNS:
      s += `\n\tnetns_ino ${d.netnsIno}  ${attachTypePlain(d.attachType!)}`;
      break;
    case T.NETFILTER:
      s += netfilterPlain(d.netfilter!);
      break;
    case T.TCX: case T.NETKIT:
      s += `\n\t${ifindexPlain(d.ifindex!)}${attachTypePlain(d.attachType!)}`;
      break;
    case T.SOCKMAP:
      s += `\n\tmap_id ${d.mapId}  ${attachTypePlain(d.attachType!)}`;
      break;
    case T.XDP:
      s += `\n\t${ifindexPlain(d.ifindex!)}`;
      break;
    case T.KPROBE_MULTI:
      s += kprobeMultiPlain(d);
      break;
    case T.UPROBE_MULTI:
      s += uprobeMultiPlain(d);
      break;
    case T.PERF_EVENT:
      s += perfEventPlain(d);
      break;
  }
  if (pins && pins.size) for (const p of pins.get(d.id)) s += `\n\tpinned ${p}`;
  return `${s}\n`;
}

const CGROUP_ORDER = ['order_unspec', 'self_only', 'descendants_pre', 'descendants_post', 'ancestors_up'];
const cgroupOrder = (o: number) => at(CGROUP_ORDER, o) ?? 'unknown';

// ---- JSON ----

/** A name, or bpftool's number for one libbpf does not know. */
function nameField(w: JsonWriter, field: string, v: string | number | undefined, n: number): void {
  w.field(field, v ?? n);
}

function ifindexJson(w: JsonWriter, index: number): void {
  w.field('devname', index ? ifname(index) ?? '(unknown)' : '(detached)').field('ifindex', index);
}

function perfEventJson(w: JsonWriter, d: LinkDetails): void {
  const t = d.perfEventType;
  if (t === BPF_PERF_EVENT.EVENT) {
    const type = d.eventType!;
    w.field('event_type', at(PERF_TYPE, type) ?? type);
    w.field('event_config', perfConfig(type, d.eventConfig!) ?? d.eventConfig!);
    w.field('cookie', d.cookie!);
  } else if (t === BPF_PERF_EVENT.TRACEPOINT) {
    w.field('tracepoint', d.name!).field('cookie', d.cookie!);
  } else if (t === BPF_PERF_EVENT.KPROBE || t === BPF_PERF_EVENT.KRETPROBE) {
    w.field('retprobe', t === BPF_PERF_EVENT.KRETPROBE).field('addr', d.addr!).field('func', d.name!)
      .field('offset', d.offset!).field('missed', d.missed!).field('cookie', d.cookie!);
  } else if (t === BPF_PERF_EVENT.UPROBE || t === BPF_PERF_EVENT.URETPROBE) {
    w.field('retprobe', t === BPF_PERF_EVENT.URETPROBE).field('file', d.name!).field('offset', d.offset!)
      .field('cookie', d.cookie!).field('ref_ctr_offset', d.refCtrOffset!);
  }
}

function showJson(w: JsonWriter, d: LinkDetails, pins: IdTable<string> | undefined): void {
  w.startObject();
  w.field('id', d.id);
  nameField(w, 'type', linkType(d.type), d.type);
  w.field('prog_id', d.progId);
  const attach = () => w.field('attach_type', attachType(d.attachType!));
  switch (d.type) {
    case T.RAW_TRACEPOINT:
      w.field('tp_name', d.name!).field('cookie', d.cookie!);
      break;
    case T.TRACING: {
      const pt = linkProgType(d.progId);
      if (pt !== undefined) w.field('prog_type', pt);
      attach();
      w.field('target_obj_id', d.targetObjId!).field('target_btf_id', d.targetBtfId!).field('cookie', d.cookie!);
      break;
    }
    case T.CGROUP:
      w.field('cgroup_id', d.cgroupId!);
      attach();
      break;
    case T.ITER:
      w.field('target_name', d.name!);
      if (d.name === 'bpf_map_elem' || d.name === 'bpf_sk_storage_map') w.field('map_id', d.mapId!);
      else if (['task', 'task_file', 'task_vma'].includes(d.name!)) {
        if (d.tid) w.field('tid', d.tid);
        else if (d.pid) w.field('pid', d.pid);
      }
      if (d.name === 'cgroup') w.field('cgroup_id', d.cgroupId!).field('order', cgroupOrder(d.order!));
      break;
    case T.NETNS:
      w.field('netns_ino', d.netnsIno!);
      attach();
      break;
    case T.NETFILTER:
      w.field('pf', d.netfilter!.pf).field('hook', d.netfilter!.hooknum).field('prio', d.netfilter!.priority).field('flags', d.netfilter!.flags);
      break;
    case T.TCX: case T.NETKIT:
      ifindexJson(w, d.ifindex!);
      attach();
      break;
    case T.SOCKMAP:
      w.field('map_id', d.mapId!);
      attach();
      break;
    case T.XDP:
      ifindexJson(w, d.ifindex!);
      break;
    case T.STRUCT_OPS:
      w.field('map_id', d.mapId!);
      break;
    case T.KPROBE_MULTI:
      w.field('retprobe', (d.flags! & 1) !== 0).field('func_cnt', d.probes!.length).field('missed', d.missed!);
      w.name('funcs').startArray();
      for (const f of kprobeFuncs(d)) {
        w.startObject().field('addr', f.addr).field('func', f.sym.name).field('module', f.sym.module || null).field('cookie', f.cookie).endObject();
      }
      w.endArray();
      break;
    case T.UPROBE_MULTI:
      w.field('retprobe', (d.flags! & 1) !== 0).field('path', d.name ?? '').field('func_cnt', d.probes!.length).field('pid', d.pid! | 0);
      w.name('funcs').startArray();
      for (const p of d.probes!) w.startObject().field('offset', p.offset!).field('ref_ctr_offset', p.refCtrOffset!).field('cookie', p.cookie).endObject();
      w.endArray();
      break;
    case T.PERF_EVENT:
      perfEventJson(w, d);
      break;
  }
  if (pins && pins.size) {
    w.name('pinned').startArray();
    for (const p of pins.get(d.id)) w.string(p);
    w.endArray();
  }
  w.endObject();
}

// ---- commands ----

export function linkShow(args: readonly string[], o: Options): string {
  const pins = o.bpffs ? pinnedPaths('link') : undefined;
  const w = new JsonWriter(o.pretty);
  const out: string[] = [];
  const one = (fd: Fd) => {
    try {
      const d = refused("can't get link info", () => linkDetails(fd.value));
      if (o.json) showJson(w, d, pins);
      else out.push(showPlain(d, pins));
    } finally {
      fd.close();
    }
  };
  if (args.length) {
    // bpftool takes exactly `id N` or `pinned PATH`; anything else is "what is '…'?"
    if (args.length !== 2) throw new CliError(`what is '${args[0]}'?`);
    one(openLink(args).fd);
  } else {
    if (o.json) w.startArray();
    for (const fd of liveObjects('link')) one(fd);
    if (o.json) w.endArray();
  }
  return o.json ? w.finish() : out.join('');
}

/** `link pin (id N | pinned P) FILE`: one more pin of the link. */
export function linkPin(args: readonly string[], o: Options): string {
  return pinOpened(openLink(args), o);
}

/** `link detach (id N | pinned P)`: LINK_DETACH; the program leaves its hook, the link (and its pins) stay, defunct. */
export function linkDetachCommand(args: readonly string[], o: Options): string {
  // bpftool's words (without the stray newline it puts after them)
  if (args.length !== 2) throw new CliError('link specifier is invalid or missing');
  const { fd } = openLink(args);
  try {
    refused('failed link detach', () => linkDetach(fd.value));
    return o.json ? 'null\n' : '';
  } finally {
    fd.close();
  }
}

export function registerLink(program: Command): void {
  const link = program.command('link').description('list, pin and detach BPF links (bpftool link)');
  const json = (o: Options) => ({ ...o, json: o.json || o.pretty });
  jsonOptions(link.command('show').alias('list'))
    .argument('[target...]', '"id N" or "pinned PATH" (default: every link)')
    .description('show links: type, program, and where each is attached (and pins with -f)')
    .option('-f, --bpffs', 'show the pins of each link (walks every mounted bpffs)')
    .action((target: string[], o: Options) => { process.stdout.write(linkShow(target, json(o))); });
  jsonOptions(link.command('pin'))
    .argument('<args...>', '(id N | pinned PATH) FILE')
    .description('pin the link at FILE on a bpffs')
    .action((args: string[], o: Options) => { process.stdout.write(linkPin(args, json(o))); });
  jsonOptions(link.command('detach'))
    .argument('[target...]', 'id N | pinned PATH')
    .description('detach the link from its hook (LINK_DETACH); the link stays, defunct, while fds or pins hold it')
    .action((target: string[], o: Options) => { process.stdout.write(linkDetachCommand(target, json(o))); });
}
