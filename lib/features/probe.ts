// What the running kernel supports, asked the way libbpf and bpftool ask: create the smallest map of
// each type, load "r0 = 0; exit" as each program type, load one tiny BTF blob per kind, and try
// links on an interface index that does not exist (ENODEV = the kernel knows the attach type, EINVAL
// = it does not). Nothing is attached and everything made is closed. Results are cached per process.
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { BPF_ATTACH_TYPE, BPF_MAP_FLAG, BPF_MAP_TYPE, BPF_PROG_FLAG, BPF_PROG_TYPE } from '../syscall/types.js';
import { mapCreate, mapLookupBatch, type MapCreateAttr } from '../syscall/map.js';
import { progLoad, type ProgLoadAttr } from '../syscall/prog.js';
import { btfLoad } from '../syscall/btf.js';
import { linkCreate } from '../syscall/link.js';
import { BpfError, BpfPermissionError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import type { Fd } from '../syscall/fd.js';
import { pageSize } from '../syscall/mmap.js';
import { btfFeaturesFromKinds, type BtfKernelFeatures } from '../btf/sanitize.js';
import { BTF_KIND_NAMES, btfBlobFor, localStorageBtf, type BtfKindName } from './btf-blobs.js';

export interface Features {
  /** uname release of the probed kernel */
  kernel: string;
  mapTypes: Record<string, boolean>;
  progTypes: Record<string, boolean>;
  attachTypes: Record<string, boolean>;
  btfKinds: Record<BtfKindName, boolean>;
  misc: {
    /** BPF_F_MMAPABLE array maps (global data mmap, 5.5) */
    mmapableMaps: boolean;
    /** MAP_LOOKUP_BATCH and friends (5.6) */
    batchOps: boolean;
    /** PROG_LOAD reports log_true_size (6.4) */
    logTrueSize: boolean;
    /** bpf_get_attach_cookie() helper (5.15) */
    bpfCookie: boolean;
    /** program and map names (4.15) */
    objectNames: boolean;
  };
}

const RET0 = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
const lower = (k: string) => k.toLowerCase();

/** Run fn, close what it returns; true if it returned, false on a BpfError (rethrows a missing privilege). */
function attempt(fn: () => Fd | undefined): boolean {
  try {
    fn()?.close();
    return true;
  } catch (e) {
    if (e instanceof BpfPermissionError) throw e;
    if (e instanceof BpfError) return false;
    throw e;
  }
}

/** The errno code a call fails with (0 when it succeeds; what it made is closed). */
function errnoOf(fn: () => Fd | undefined): number {
  try {
    fn()?.close();
    return 0;
  } catch (e) {
    if (e instanceof BpfPermissionError) throw e;
    if (e instanceof BpfError) return e.code;
    throw e;
  }
}

function withFd<T>(make: () => Fd, use: (fd: Fd) => T): T {
  const fd = make();
  try {
    return use(fd);
  } finally {
    fd.close();
  }
}

const cache = new Map<string, boolean>();
// bumped when probe({ refresh: true }) empties the cache
let generation = 0;
function cached(key: string, fn: () => boolean): boolean {
  let v = cache.get(key);
  if (v === undefined) cache.set(key, (v = fn()));
  return v;
}

/** Can a map of this type (number) be created here? */
export function probeMapType(type: number): boolean {
  return cached(`map:${type}`, () => {
    const T = BPF_MAP_TYPE;
    const a: MapCreateAttr = { mapType: type, keySize: 4, valueSize: 4, maxEntries: 1 };
    let expectErr = 0;
    switch (type) {
      case T.STACK_TRACE: a.valueSize = 8; break;
      case T.LPM_TRIE: Object.assign(a, { keySize: 8, valueSize: 8, mapFlags: BPF_MAP_FLAG.NO_PREALLOC }); break;
      case T.RHASH: a.mapFlags = BPF_MAP_FLAG.NO_PREALLOC; break;
      case T.CGROUP_STORAGE: case T.PERCPU_CGROUP_STORAGE: Object.assign(a, { keySize: 16, valueSize: 8, maxEntries: 0 }); break;
      case T.QUEUE: case T.STACK: case T.BLOOM_FILTER: a.keySize = 0; break;
      case T.RINGBUF: case T.USER_RINGBUF: Object.assign(a, { keySize: 0, valueSize: 0, maxEntries: pageSize() }); break;
      case T.ARENA: Object.assign(a, { keySize: 0, valueSize: 0, maxEntries: 1, mapFlags: BPF_MAP_FLAG.MMAPABLE }); break;
      case T.INSN_ARRAY: a.valueSize = 16; break;
      // an invalid vmlinux type id: ENOTSUPP when the type exists, EINVAL when not
      case T.STRUCT_OPS: Object.assign(a, { btfVmlinuxValueTypeId: 1, valueTypeBtfObjFd: -1 }); expectErr = ERRNO.ENOTSUPP; break;
      default: break;
    }
    const storage = type === T.SK_STORAGE || type === T.INODE_STORAGE || type === T.TASK_STORAGE || type === T.CGRP_STORAGE;
    if (storage) {
      const btf = attemptValue(() => btfLoad(localStorageBtf()).fd);
      if (!btf) return false;
      try {
        return attempt(() => mapCreate({ ...a, valueSize: 8, maxEntries: 0, mapFlags: BPF_MAP_FLAG.NO_PREALLOC, btfFd: btf.value, btfKeyTypeId: 1, btfValueTypeId: 3 }));
      } finally {
        btf.close();
      }
    }
    if (type === T.ARRAY_OF_MAPS || type === T.HASH_OF_MAPS) {
      return withFd(() => mapCreate({ mapType: T.HASH, keySize: 4, valueSize: 4, maxEntries: 1 }), (inner) => attempt(() => mapCreate({ ...a, innerMapFd: inner.value })));
    }
    if (expectErr) return errnoOf(() => mapCreate(a)) === expectErr;
    return attempt(() => mapCreate(a));
  });
}

function attemptValue(fn: () => Fd): Fd | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BpfPermissionError) throw e;
    if (e instanceof BpfError) return undefined;
    throw e;
  }
}

function kernelVersionCode(): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release());
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/** Can a program of this type (number) be loaded here? */
export function probeProgType(type: number): boolean {
  return cached(`prog:${type}`, () => {
    const T = BPF_PROG_TYPE;
    const A = BPF_ATTACH_TYPE;
    const a: ProgLoadAttr = { progType: type, insns: RET0, license: 'GPL' };
    switch (type) {
      case T.CGROUP_SOCK_ADDR: a.expectedAttachType = A.CGROUP_INET4_CONNECT; break;
      case T.CGROUP_SOCKOPT: a.expectedAttachType = A.CGROUP_GETSOCKOPT; break;
      case T.SK_LOOKUP: a.expectedAttachType = A.SK_LOOKUP; break;
      case T.LIRC_MODE2: a.expectedAttachType = A.LIRC_MODE2; break;
      case T.NETFILTER: a.expectedAttachType = A.NETFILTER; break;
      case T.KPROBE: a.kernVersion = kernelVersionCode(); break;
      case T.SYSCALL: a.progFlags = BPF_PROG_FLAG.SLEEPABLE; break;
      case T.TRACING: case T.LSM: case T.EXT:
        // these need a real attach target: a type id that is no function proves the type is known
        return verifierSays({ ...a, attachBtfId: 1, expectedAttachType: type === T.TRACING ? A.TRACE_FENTRY : type === T.LSM ? A.MODIFY_RETURN : undefined },
          type === T.EXT ? 'Cannot replace kernel functions' : 'attach_btf_id 1 is not a function');
      case T.STRUCT_OPS:
        return errnoOf(() => progLoad(a).fd) === ERRNO.ENOTSUPP;
      default: break;
    }
    return attempt(() => progLoad(a).fd);
  });
}

function verifierSays(a: ProgLoadAttr, text: string): boolean {
  try {
    progLoad({ ...a, logLevel: 1 }).fd.close();
    return false;
  } catch (e) {
    if (e instanceof BpfPermissionError) throw e;
    return e instanceof BpfError && e.code === ERRNO.EINVAL && 'log' in e && String((e as { log: string }).log).includes(text);
  }
}

/** An interface index no interface in this namespace has. */
function unusedIfindex(): number {
  let max = 0;
  try {
    for (const dev of readdirSync('/sys/class/net')) {
      const n = Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8'));
      if (n > max) max = n;
    }
  } catch { /* no sysfs: guess high */ }
  return max + 0x100000;
}

/** Attach types tsbpf uses through BPF links, probed without attaching anything. */
const LINK_PROBES: Record<string, { prog: number; attach: number; target: 'ifindex' | 'badfd' }> = {
  xdp: { prog: BPF_PROG_TYPE.XDP, attach: BPF_ATTACH_TYPE.XDP, target: 'ifindex' },
  tcx_ingress: { prog: BPF_PROG_TYPE.SCHED_CLS, attach: BPF_ATTACH_TYPE.TCX_INGRESS, target: 'ifindex' },
  tcx_egress: { prog: BPF_PROG_TYPE.SCHED_CLS, attach: BPF_ATTACH_TYPE.TCX_EGRESS, target: 'ifindex' },
  netkit_primary: { prog: BPF_PROG_TYPE.SCHED_CLS, attach: BPF_ATTACH_TYPE.NETKIT_PRIMARY, target: 'ifindex' },
  netkit_peer: { prog: BPF_PROG_TYPE.SCHED_CLS, attach: BPF_ATTACH_TYPE.NETKIT_PEER, target: 'ifindex' },
  cgroup_inet_ingress: { prog: BPF_PROG_TYPE.CGROUP_SKB, attach: BPF_ATTACH_TYPE.CGROUP_INET_INGRESS, target: 'badfd' },
  cgroup_inet_egress: { prog: BPF_PROG_TYPE.CGROUP_SKB, attach: BPF_ATTACH_TYPE.CGROUP_INET_EGRESS, target: 'badfd' },
  perf_event: { prog: BPF_PROG_TYPE.PERF_EVENT, attach: BPF_ATTACH_TYPE.PERF_EVENT, target: 'badfd' },
};

/** Does LINK_CREATE know this attach type (by name, see LINK_PROBES)? */
export function probeLinkAttachType(name: string): boolean {
  const p = LINK_PROBES[name];
  if (!p) return false;
  return cached(`attach:${name}`, () => {
    if (!probeProgType(p.prog)) return false;
    // XDP links answer EINVAL both for a missing device and an unknown attach type: ask kernel BTF for the link struct
    if (name === 'xdp') return kernelBtfHas('bpf_xdp_link');
    return withFd(() => progLoad({ progType: p.prog, insns: RET0, license: 'GPL', expectedAttachType: p.attach === BPF_ATTACH_TYPE.XDP ? BPF_ATTACH_TYPE.XDP : undefined }).fd, (prog) => {
      const code = errnoOf(() => linkCreate(p.target === 'ifindex'
        ? { progFd: prog.value, targetIfindex: unusedIfindex(), attachType: p.attach }
        : { progFd: prog.value, targetFd: 0x7fffffff, attachType: p.attach }));
      // the kernel got as far as looking for the target: it knows the attach type
      return code === ERRNO.ENODEV || code === ERRNO.EBADF || code === 6 /* ENXIO */;
    });
  });
}

/** Whether kernel BTF names `ident` (a struct or function of a feature); false without kernel BTF. */
export function kernelBtfHas(ident: string): boolean {
  try {
    return readFileSync('/sys/kernel/btf/vmlinux').includes(Buffer.from(`\0${ident}\0`));
  } catch {
    return false;
  }
}

/** Does the kernel accept BTF using this kind? */
export function probeBtfKind(kind: BtfKindName): boolean {
  return cached(`btf:${kind}`, () => attempt(() => btfLoad(btfBlobFor(kind)).fd));
}

function probeMisc(): Features['misc'] {
  const mmapableMaps = cached('misc:mmapable', () => attempt(() => mapCreate({ mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, mapFlags: BPF_MAP_FLAG.MMAPABLE })));
  const batchOps = cached('misc:batch', () => withFd(() => mapCreate({ mapType: BPF_MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 1 }), (m) => {
    try {
      mapLookupBatch(m.value, { count: 1, keySize: 4, valueSize: 4 });
      return true;
    } catch (e) {
      if (e instanceof BpfPermissionError) throw e;
      return false;
    }
  }));
  const logTrueSize = cached('misc:log_true_size', () => {
    try {
      const r = progLoad({ progType: BPF_PROG_TYPE.SOCKET_FILTER, insns: RET0, license: 'GPL', logLevel: 1, logSize: 1 << 16 });
      r.fd.close();
      return r.logTrueSize > 0;
    } catch (e) {
      if (e instanceof BpfPermissionError) throw e;
      return false;
    }
  });
  // call bpf_get_attach_cookie (helper 174) from a kprobe program; r0 = 0; exit
  const cookieInsns = new Uint8Array([0x85, 0, 0, 0, 174, 0, 0, 0, ...RET0]);
  const bpfCookie = cached('misc:cookie', () => attempt(() => progLoad({ progType: BPF_PROG_TYPE.KPROBE, insns: cookieInsns, license: 'GPL', kernVersion: kernelVersionCode() }).fd));
  const objectNames = cached('misc:names', () => attempt(() => mapCreate({ mapType: BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, mapName: 'tsbpf_probe' })));
  return { mmapableMaps, batchOps, logTrueSize, bpfCookie, objectNames };
}

let all: Features | undefined;

/** Everything, probed once per process (pass { refresh: true } to ask again). Needs root / CAP_BPF. */
export function probe(o: { refresh?: boolean } = {}): Features {
  if (all && !o.refresh) return all;
  if (o.refresh) {
    cache.clear();
    generation++;
  }
  const mapTypes: Record<string, boolean> = {};
  for (const [name, n] of Object.entries(BPF_MAP_TYPE)) {
    if (n === 0 || name.endsWith('_DEPRECATED')) continue;
    mapTypes[lower(name)] = probeMapType(n);
  }
  const progTypes: Record<string, boolean> = {};
  for (const [name, n] of Object.entries(BPF_PROG_TYPE)) if (n !== 0) progTypes[lower(name)] = probeProgType(n);
  const attachTypes: Record<string, boolean> = {};
  for (const name of Object.keys(LINK_PROBES)) attachTypes[name] = probeLinkAttachType(name);
  const btfKinds = {} as Record<BtfKindName, boolean>;
  for (const k of BTF_KIND_NAMES) btfKinds[k] = probeBtfKind(k);
  all = { kernel: release(), mapTypes, progTypes, attachTypes, btfKinds, misc: probeMisc() };
  return all;
}

let btfFeatures: BtfKernelFeatures | undefined;
let btfFeaturesOf = -1;

/** What the kernel's BTF checker takes, as lib/btf's sanitizer wants it (probed once per process). */
export function probeBtfFeatures(): BtfKernelFeatures {
  // asked again after probe({ refresh: true })
  if (btfFeatures && btfFeaturesOf === generation) return btfFeatures;
  const kinds: Partial<Record<BtfKindName, boolean>> = {};
  for (const k of ['func_proto', 'func', 'datasec', 'var', 'float', 'decl_tag', 'type_tag', 'enum64'] as const) kinds[k] = probeBtfKind(k);
  btfFeatures = btfFeaturesFromKinds(kinds);
  btfFeaturesOf = generation;
  return btfFeatures;
}
