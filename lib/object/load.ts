// loadObject: an ObjectSpec made live. Order as libbpf: BTF, then maps (reusing compatible pins,
// writing global data, freezing .rodata, pinning), then programs (linked with their subprograms,
// map fds written into their instructions, BTF func/line info passed), then the static contents
// of prog arrays and maps of maps. Anything failing half-way releases every fd made and removes
// every pin created before the error is thrown: nothing is left in the kernel or on bpffs.
import { BPF_MAP_FLAG, BPF_MAP_TYPE, BPF_PROG_FLAG } from '../syscall/types.js';
import { progBindMap, progLoad, type ProgLoadAttr, type ProgLoadResult } from '../syscall/prog.js';
import { btfLoad } from '../syscall/btf.js';
import { BpfError, VerifierError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { mapInfo, objPin } from '../syscall/obj.js';
import { pageSize } from '../syscall/mmap.js';
import { Fd } from '../syscall/fd.js';
import { BpfMap } from '../map/map.js';
import { possibleCpus } from '../map/cpus.js';
import { BpfProgram } from '../program/program.js';
import { TsbpfError } from '../errors.js';
import { ObjectSpec, readObject } from './read.js';
import { linkProgram, applyMapFds, type ByteArena, type CodeSource } from './link.js';
import { checkPinRoot, DEFAULT_PIN_PATH, makePinRoot, pinDifferences, pinPathOf, removePin, removePinRoot, reusePinned } from './pin.js';
import { attachBtfId } from './attach.js';
import { CoreCode, loadBtfFile } from './core.js';
import { bindExterns, externCode, externFdArray, externPoisonNote } from './extern-binding.js';
import type { Btf } from '../btf/btf.js';
import { uploadBlobForLoad } from './btf-blob.js';
import type { BtfKernelFeatures } from '../btf/sanitize.js';
import { probeBtfFeatures } from '../features/index.js';
import { typedMap } from './typed.js';
import type { MapCodecOptions } from '../codec/typed-map.js';
import { LoadError, ObjectError } from './errors.js';
import { BpfObject } from './object.js';
import type { VariableValue } from './variables.js';
import type { FunctionSpec, MapSpec, ProgramSpec } from './spec.js';
import { bindRefusal, deviceBindings, unboundKfuncNote, type DeviceBinding, type ProgramLoadOptions } from './device.js';
import { inNetns } from '../netlink/netns-enter.js';

export interface LoadObjectOptions {
  /** directory for LIBBPF_PIN_BY_NAME maps (default /sys/fs/bpf); must be on bpffs */
  pinPath?: string;
  /** initial values of global variables (const volatile ones included) by name */
  constants?: Readonly<Record<string, VariableValue>>;
  /** verifier log level for every program (default 0: a log only when a load fails) */
  logLevel?: number;
  /** verifier log buffer size when logLevel is set */
  logSize?: number;
  /**
   * give maps with BTF key/value types JS-value codecs (default true); raw bytes work either way.
   * `{ strings: true }`: char arrays decode as strings; `{ enumNames: true }`: enums as their names;
   * `{ networkOrder: true }`: __be16/__be32/__be64 fields as the numbers they stand for
   */
  typedMaps?: boolean | MapCodecOptions;
  /** what the kernel's BTF checker takes (default: probed once per process); less means the object's BTF is sanitized */
  btfFeatures?: BtfKernelFeatures;
  /**
   * kernel BTF (parsed, or the path of a raw BTF file) for CO-RE relocations and the attach targets
   * of fentry/lsm/iter/tp_btf programs (default: the running kernel's, read when needed)
   */
  kernelBtf?: Btf | string;
  /**
   * the kernel config for .kconfig externs, instead of the running kernel's (/boot/config-$(uname -r)
   * or /proc/config.gz): the text of a .config, or CONFIG_x → value as the file spells it
   */
  kconfig?: string | ReadonlyMap<string, string>;
  /**
   * Existing maps to use instead of creating the object's map of that name (obj.maps' names:
   * 'counter', '.rodata'), as libbpf's bpf_map__reuse_fd: the object holds its own fd (a dup) and
   * leaves the map's contents as they are. Each must match its definition (type, sizes, max_entries,
   * flags) as a reused pin must; a name the object does not define is an error.
   */
  mapReplacements?: Readonly<Record<string, BpfMap<unknown, unknown> | Fd>>;
  /**
   * How programs are loaded, by program name: `{ xdp_meta: { interface: 'veth0', netns: 'pod1' } }`
   * loads XDP program xdp_meta bound to veth0 (device-bound, Linux 6.3), which lets it call the XDP
   * RX metadata kfuncs and attaches it only there. The interface is looked up before anything is made.
   */
  programs?: Readonly<Record<string, ProgramLoadOptions>>;
}

/** What a load has made so far: released in reverse order when a later step fails. */
class Made {
  readonly fds: { close(): void }[] = [];
  readonly pins: string[] = [];

  #pinRoot: { first: string; root: string } | undefined;

  /** The pin directory, made when missing (removed again on failure if this load made it). */
  pinRoot(root: string): void {
    const first = makePinRoot(root);
    if (first) this.#pinRoot = { first, root };
  }

  own<T extends { close(): void }>(x: T): T {
    this.fds.push(x);
    return x;
  }

  release(): void {
    for (const p of this.pins.reverse()) removePin(p);
    for (const f of this.fds.reverse()) {
      try { f.close(); } catch { /* already closed */ }
    }
    if (this.#pinRoot) removePinRoot(this.#pinRoot.first, this.#pinRoot.root);
  }
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One reused JS buffer for what a load builds only to copy into a syscall's memory right away (the
 * patched BTF, linked instructions, func/line info): new Uint8Arrays above 64 bytes cost an off-heap
 * allocation each. Rewound before each use; loads are synchronous, so nothing else holds its bytes.
 * Not zeroed: each user overwrites every byte it takes.
 */
class Reused implements ByteArena {
  #buf = new Uint8Array(16 * 1024);
  #used = 0;

  rewind(): this {
    this.#used = 0;
    // a big program made it grow: do not keep megabytes for the rest of the process
    if (this.#buf.length > 256 * 1024) this.#buf = new Uint8Array(16 * 1024);
    return this;
  }

  take(size: number): Uint8Array {
    const n = (size + 7) & ~7;
    if (this.#used + n > this.#buf.length) {
      // earlier pieces keep the old buffer alive until they are dropped
      this.#buf = new Uint8Array(Math.max(this.#buf.length * 2, n));
      this.#used = 0;
    }
    const b = this.#buf.subarray(this.#used, this.#used + size);
    this.#used += n;
    return b;
  }
}

const reused = new Reused();

/** Read (unless given a spec) and load an object. Throws ObjectError / LoadError / VerifierError. */
export function loadObject(source: string | Uint8Array | ObjectSpec, o: LoadObjectOptions = {}): BpfObject {
  let spec = source instanceof ObjectSpec ? source : readObject(source);
  if (o.constants) {
    // a caller's spec stays as it was: the constants go into a copy
    if (spec === source) spec = spec.copy();
    spec.setConstants(o.constants);
  }
  if (spec.littleEndian !== hostLittleEndian) {
    throw new ObjectError(`object ${spec.name} is ${spec.littleEndian ? 'little' : 'big'}-endian BPF (built with -target ${spec.littleEndian ? 'bpfel' : 'bpfeb'}); this machine is ${hostLittleEndian ? 'little' : 'big'}-endian`);
  }
  // .kconfig values, ksyms and kfuncs from the running kernel (the .kconfig data goes into a copy)
  const externs = bindExterns(spec, o);
  spec = externs.spec;
  const pinRoot = o.pinPath ?? DEFAULT_PIN_PATH;
  const replacements = mapReplacements(spec, o.mapReplacements);
  // checked before anything is made: a bad pin directory leaves nothing behind
  const pinned: MapSpec[] = [];
  for (const m of spec.maps.values()) if (m.pinning === 'byName' && !replacements.has(m.name)) pinned.push(m);
  if (pinned.length > 0) {
    for (const m of pinned) pinPathOf(pinRoot, m);
    try {
      checkPinRoot(pinRoot);
    } catch (e) {
      throw new LoadError(`object ${spec.name}: cannot pin map ${pinned[0].name} under ${pinRoot}: ${(e as Error).message}`, { map: pinned[0].name }, { cause: e });
    }
  }

  const made = new Made();
  made.own(externs); // module BTF fds taken for kfuncs
  const warnings: string[] = [];
  try {
    // programs bound to devices: their interfaces looked up (and namespaces held) before anything is made
    const devices = made.own(deviceBindings(spec, o.programs));
    if (pinned.length > 0) made.pinRoot(pinRoot);
    const features = o.btfFeatures ?? probeBtfFeatures();
    // a spec the caller passed (and kept as it is) is likely loaded again: per-spec results are kept for it
    const again = spec === source;
    const btf = loadBtf(spec, features, made, warnings, again);
    const maps = createMaps(spec, btf, pinRoot, made, warnings, replacements);
    // func_info names FUNC types: without FUNC support in the kernel the records cannot be passed
    const programs = loadPrograms(spec, features.func ? btf : undefined, maps, o, devices.bindings, made, again);
    externs.close();
    devices.close();
    bindRodata(maps, programs, warnings);
    populate(spec, maps, programs);
    if (o.typedMaps !== false && spec.source.btf) {
      for (const [name, m] of maps) {
        const ms = spec.maps.get(name)!;
        if (ms.kind !== 'data' && (ms.keyTypeId || ms.valueTypeId)) typedMap(m.map, spec.source.btf, ms, typeof o.typedMaps === 'object' ? o.typedMaps : {});
      }
    }
    const live = new Map<string, BpfMap>();
    for (const [name, m] of maps) live.set(name, m.map);
    return new BpfObject({ programs, maps: live, spec, btf, pinned: made.pins.slice(), warnings });
  } catch (e) {
    made.release();
    throw e;
  }
}

/** The object's BTF in the kernel; a refusal is a warning (BTF is optional), as libbpf treats it. */
function loadBtf(spec: ObjectSpec, features: BtfKernelFeatures, made: Made, warnings: string[], again: boolean): Fd | undefined {
  const up = uploadBlobForLoad(spec, features, reused.rewind(), again);
  if (!up) return undefined;
  for (const c of up.changed) warnings.push(`BTF sanitized for this kernel: ${c}`);
  try {
    return made.own(btfLoad(up.blob).fd);
  } catch (e) {
    if (!(e instanceof BpfError) || e.code === ERRNO.EPERM) throw e;
    const why = e instanceof VerifierError ? e.log.trim().split('\n').slice(-2).join(' / ') : e.message;
    warnings.push(`the kernel refused the object's BTF (${e.errno}: ${why}); maps and programs were loaded without it`);
    return undefined;
  }
}

interface LiveMap { map: BpfMap; reused: boolean }

/** max_entries as the kernel wants it: perf event arrays default to the CPU count, ring buffers to whole pages. */
function effectiveMaxEntries(m: MapSpec): number {
  if (m.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY && m.maxEntries === 0) return possibleCpus();
  if (m.type === BPF_MAP_TYPE.RINGBUF || m.type === BPF_MAP_TYPE.USER_RINGBUF) {
    const page = pageSize();
    let n = Math.max(m.maxEntries, page);
    // a power of two multiple of the page size
    let p = page;
    while (p < n) p *= 2;
    n = p;
    return n;
  }
  return m.maxEntries;
}

/** The maps of `mapReplacements` by object map name (the caller's fds), checked against the spec's names. */
function mapReplacements(spec: ObjectSpec, given: LoadObjectOptions['mapReplacements']): Map<string, Fd> {
  const out = new Map<string, Fd>();
  for (const [name, m] of Object.entries(given ?? {})) {
    if (!spec.maps.has(name)) throw new ObjectError(`mapReplacements: object ${spec.name} has no map ${JSON.stringify(name)} (its maps: ${[...spec.maps.keys()].join(', ')})`);
    if (!(m instanceof BpfMap) && !(m instanceof Fd)) throw new ObjectError(`mapReplacements.${name}: expected a BpfMap or an Fd, got ${m === null ? 'null' : typeof m}`);
    out.set(name, m instanceof BpfMap ? m.fd : m);
  }
  return out;
}

function createMaps(spec: ObjectSpec, btf: Fd | undefined, pinRoot: string, made: Made, warnings: string[], replacements: Map<string, Fd>): Map<string, LiveMap> {
  const out = new Map<string, LiveMap>();
  for (const m of spec.maps.values()) {
    const maxEntries = effectiveMaxEntries(m);
    const given = replacements.get(m.name);
    if (given) {
      const fd = made.own(given.dup());
      const diff = pinDifferences(m, mapInfo(fd.value), maxEntries, m.flags, 'given');
      if (diff.length > 0) throw new LoadError(`map ${m.name}: the map given to replace it does not match its definition: ${diff.join(', ')}`, { map: m.name });
      out.set(m.name, { map: made.own(new BpfMap(fd, { type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries, flags: m.flags, name: m.kernelName })), reused: true });
      continue;
    }
    if (m.pinning === 'byName') {
      const path = pinPathOf(pinRoot, m);
      const fd = reusePinned(m, path, maxEntries, m.flags);
      if (fd) {
        made.own(fd);
        out.set(m.name, { map: made.own(new BpfMap(fd, { type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries, flags: m.flags, name: m.kernelName })), reused: true });
        continue;
      }
    }
    const map = made.own(createMap(m, maxEntries, btf, warnings));
    if (m.data) {
      try {
        map.update(0, m.data);
        if (m.readOnly) map.freeze();
      } catch (e) {
        throw new LoadError(`map ${m.name}: writing its initial data failed: ${(e as Error).message}`, { map: m.name }, { cause: e });
      }
    }
    if (m.pinning === 'byName') {
      const path = pinPathOf(pinRoot, m);
      try {
        objPin(map.fd.value, path);
      } catch (e) {
        throw new LoadError(`map ${m.name}: pinning at ${path} failed: ${(e as Error).message}`, { map: m.name }, { cause: e });
      }
      made.pins.push(path);
    }
    out.set(m.name, { map, reused: false });
  }
  return out;
}

// map types whose values are fds or have no value: the kernel takes no BTF for them (libbpf's list)
const NO_BTF = new Set<number>([
  BPF_MAP_TYPE.PERF_EVENT_ARRAY, BPF_MAP_TYPE.CGROUP_ARRAY, BPF_MAP_TYPE.STACK_TRACE, BPF_MAP_TYPE.ARRAY_OF_MAPS,
  BPF_MAP_TYPE.HASH_OF_MAPS, BPF_MAP_TYPE.DEVMAP, BPF_MAP_TYPE.DEVMAP_HASH, BPF_MAP_TYPE.CPUMAP, BPF_MAP_TYPE.XSKMAP,
  BPF_MAP_TYPE.SOCKMAP, BPF_MAP_TYPE.SOCKHASH, BPF_MAP_TYPE.QUEUE, BPF_MAP_TYPE.STACK, BPF_MAP_TYPE.PROG_ARRAY,
  BPF_MAP_TYPE.RINGBUF, BPF_MAP_TYPE.USER_RINGBUF,
]);

/** MAP_CREATE with BTF type ids; retried without BTF, then without BPF_F_MMAPABLE, when the kernel refuses them. */
function createMap(m: MapSpec, maxEntries: number, btf: Fd | undefined, warnings: string[]): BpfMap {
  let inner: BpfMap | undefined;
  try {
    if (m.inner) inner = createMap(m.inner, effectiveMaxEntries(m.inner), undefined, warnings);
    let flags = m.flags;
    let useBtf = btf !== undefined && m.valueTypeId !== 0 && !NO_BTF.has(m.type);
    for (;;) {
      try {
        const map = BpfMap.create({
          type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries, flags, name: m.kernelName,
          innerMap: inner, numaNode: (flags & BPF_MAP_FLAG.NUMA_NODE) !== 0 ? m.numaNode : undefined,
          mapExtra: m.mapExtra || undefined,
          btfFd: useBtf ? btf!.value : undefined, btfKeyTypeId: useBtf ? m.keyTypeId : undefined, btfValueTypeId: useBtf ? m.valueTypeId : undefined,
        });
        return map;
      } catch (e) {
        if (e instanceof BpfError && e.code === ERRNO.EINVAL && useBtf) {
          useBtf = false;
          warnings.push(`map ${m.name}: created without BTF key/value types (the kernel refused them)`);
          continue;
        }
        if (e instanceof BpfError && e.code === ERRNO.EINVAL && m.kind === 'data' && (flags & BPF_MAP_FLAG.MMAPABLE) !== 0) {
          flags &= ~BPF_MAP_FLAG.MMAPABLE;
          warnings.push(`map ${m.name}: created without BPF_F_MMAPABLE (the kernel refused it)`);
          continue;
        }
        throw new LoadError(`map ${m.name}: ${(e as Error).message}`, { map: m.name }, { cause: e });
      }
    }
  } finally {
    // the inner map only gave its shape to the outer one
    inner?.close();
  }
}

/**
 * What linking needs from this load: each function's code (CO-RE-relocated, externs filled) and the
 * fds of the maps made. One per load, not closures per program.
 */
class LoadCode implements CodeSource {
  readonly #spec: ObjectSpec;
  readonly #core: CoreCode;
  readonly #maps: ReadonlyMap<string, LiveMap>;
  program = '';

  constructor(spec: ObjectSpec, core: CoreCode, maps: ReadonlyMap<string, LiveMap>) {
    this.#spec = spec;
    this.#core = core;
    this.#maps = maps;
    this.kconfigFd = this.kconfigFd.bind(this);
  }

  code(fn: FunctionSpec): Uint8Array {
    return externCode(this.#spec, fn, this.#core.code(fn), this.kconfigFd);
  }

  kconfigFd(): number {
    return this.#maps.get('.kconfig')!.map.fd.value;
  }

  /** The fd of the map a program refers to. */
  fdOf(name: string): number {
    const m = this.#maps.get(name);
    if (!m) throw new ObjectError(`program ${this.program} refers to map ${name}, which the object does not define`, { program: this.program, map: name });
    return m.map.fd.value;
  }
}

function loadPrograms(spec: ObjectSpec, btf: Fd | undefined, maps: ReadonlyMap<string, LiveMap>, o: LoadObjectOptions, devices: ReadonlyMap<string, DeviceBinding>, made: Made, again: boolean): Map<string, BpfProgram> {
  const out = new Map<string, BpfProgram>();
  let kernelBtf = typeof o.kernelBtf === 'string' ? loadBtfFile(o.kernelBtf) : o.kernelBtf;
  // CO-RE: each function's relocated code, made once per load when a program first needs it
  const core = new CoreCode(spec.source.btf, spec.littleEndian, kernelBtf);
  const code = new LoadCode(spec, core, maps);
  const fdArray = externFdArray(spec);
  for (const p of spec.programs.values()) {
    if (!p.autoload) continue;
    const linked = linkProgram(p, spec.functions, spec.littleEndian, code, reused.rewind(), again);
    code.program = p.name;
    applyMapFds(linked.insns, linked.mapRefs, code, spec.littleEndian);
    let attachBtf: number | undefined;
    if (p.sectionDef?.attachBtf) {
      const r = attachBtfId(p, kernelBtf);
      attachBtf = r.id;
      kernelBtf = r.btf;
    }
    const withBtf = btf !== undefined && linked.funcInfoCount > 0;
    const device = devices.get(p.name);
    let fd: Fd;
    let log: string;
    try {
      // a bound program's ifindex is looked up by the kernel in the loading thread's namespace
      ({ fd, log } = inNetns(device?.ns, `loadObject program ${p.name}`, () => progLoadRetrying({
        progType: p.type, insns: linked.insns, license: p.license, name: kernelProgName(p.name),
        expectedAttachType: p.attachType || undefined, attachBtfId: attachBtf,
        progBtfFd: withBtf ? btf!.value : undefined,
        funcInfo: withBtf ? linked.funcInfoBytes(spec.littleEndian, reused) : undefined, funcInfoRecSize: 8,
        lineInfo: withBtf && linked.lineInfoCount > 0 ? linked.lineInfoBytes(spec.littleEndian, reused) : undefined, lineInfoRecSize: 16,
        kernVersion: p.kernelVersion || undefined, fdArray,
        progFlags: (p.flags | (device ? BPF_PROG_FLAG.XDP_DEV_BOUND_ONLY : 0)) || undefined, progIfindex: device?.ifindex,
        logLevel: o.logLevel, logSize: o.logSize,
      }), (r) => r.fd.close()));
    } catch (e) {
      if (e instanceof VerifierError) {
        // same class and log; the message names the program and its section
        const names = linked.layout.map((l) => l.name);
        const note = core.poisonNote(names, e.log) || externPoisonNote(spec, e.log) || unboundKfuncNote(spec, p, names, e.log)
          || (device && !e.log.trim() ? bindRefusal(device, e.code) : '');
        throw new VerifierError(e.cmd, e.code, e.log, e.truncated, `program ${p.name} (section ${p.section}, ${p.typeName})${note ? `; ${note}` : ''}`);
      }
      if (e instanceof TsbpfError && !(e instanceof BpfError)) throw e;
      const note = device && e instanceof BpfError ? bindRefusal(device, e.code) : '';
      throw new LoadError(`program ${p.name} (section ${p.section}): ${(e as Error).message}${note ? `; ${note}` : ''}`, { program: p.name, section: p.section }, { cause: e });
    }
    made.own(fd);
    const boundTo = device ? { ifindex: device.ifindex, interface: device.interface, ...(device.netns !== undefined ? { netns: device.netns } : {}) } : undefined;
    out.set(p.name, made.own(new BpfProgram(fd, { name: p.name, type: p.type, attachType: p.attachType, section: p.section, attachTo: p.attachTo, boundTo }, log)));
  }
  return out;
}

/**
 * As libbpf: the object's .rodata bound to each program (PROG_BIND_MAP, Linux 5.10), also to those
 * whose code does not use it, so that it lives as long as any of them and tools find the object's
 * read-only data (bpftool prog show prints the bpf_metadata_* variables from it).
 */
function bindRodata(maps: ReadonlyMap<string, LiveMap>, programs: ReadonlyMap<string, BpfProgram>, warnings: string[]): void {
  const rodata = maps.get('.rodata')?.map;
  if (!rodata) return;
  for (const p of programs.values()) {
    try {
      progBindMap(p.fd.value, rodata.fd.value);
    } catch (e) {
      warnings.push(`.rodata is not bound to program ${p.name} (PROG_BIND_MAP: ${e instanceof BpfError ? e.errno : (e as Error).message}); it runs as it is`);
      return;
    }
  }
}

/**
 * The verifier gives up with EAGAIN when a signal arrives during verification (a profiler's timer,
 * a child exiting): try again a few times, as libbpf does (PROG_LOAD_ATTEMPTS).
 */
function progLoadRetrying(a: ProgLoadAttr): ProgLoadResult {
  for (let attempt = 1; ; attempt++) {
    try {
      return progLoad(a);
    } catch (e) {
      if (!(e instanceof BpfError) || e.code !== ERRNO.EAGAIN || attempt >= 5) throw e;
    }
  }
}

/** The kernel keeps 15 characters of a program name. */
function kernelProgName(name: string): string {
  return name.slice(0, 15);
}

/** Static `.values` of prog arrays (program fds) and maps of maps (map fds); reused pins are left as they are. */
function populate(spec: ObjectSpec, maps: ReadonlyMap<string, LiveMap>, programs: ReadonlyMap<string, BpfProgram>): void {
  for (const m of spec.maps.values()) {
    if (!m.values) continue;
    const live = maps.get(m.name)!;
    if (live.reused) continue;
    m.values.forEach((target, slot) => {
      if (target === undefined) return;
      let fd: number;
      if (m.type === BPF_MAP_TYPE.PROG_ARRAY) {
        const prog = programs.get(target);
        if (!prog) throw new LoadError(`map ${m.name}: slot ${slot} holds program ${target}, which was not loaded (autoload is off)`, { map: m.name, program: target });
        fd = prog.fd.value;
      } else {
        fd = maps.get(target)!.map.fd.value;
      }
      const key = new Uint8Array(m.keySize);
      new DataView(key.buffer).setUint32(0, slot, spec.littleEndian);
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, fd, spec.littleEndian);
      try {
        live.map.update(key, value);
      } catch (e) {
        throw new LoadError(`map ${m.name}: setting slot ${slot} to ${target} failed: ${(e as Error).message}`, { map: m.name }, { cause: e });
      }
    });
  }
}

export type { ProgramSpec };
