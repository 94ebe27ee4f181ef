// `tsbpf map show|dump|lookup|update|delete|getnext|…`, bpftool 7.1's shape and output: `id N`,
// `pinned PATH` or `name NAME` names the map, keys and values are bytes (`key 0x01 0 0 0`,
// `key hex 01 00 00 00`), dumps of maps with BTF print values formatted like bpftool's btf_dumper
// (plain: pretty JSON-ish text; -j: raw hex plus "formatted"). Deliberate differences: a byte above
// 255 is an error (bpftool truncates it), floats print as numbers.
import type { Command } from 'commander';
import { BpfMap } from '../map/map.js';
import type { Fd } from '../syscall/fd.js';
import { BpfError } from '../syscall/errors.js';
import { errnoMessage } from '../syscall/errno.js';
import type { MapInfo } from '../syscall/obj.js';
import { BPF_MAP_TYPE, BPF_UPDATE, mapTypeName, progTypeName } from '../syscall/types.js';
import { mapBtf, type MapBtf } from '../export/map-btf.js';
import { JsonWriter, jsonOptions } from './json-writer.js';
import type { IdTable } from './libbpf-hashmap.js';
import { dumpType } from './btf-dumper.js';
import { mapCreate } from './map-create.js';
import { CliError, fdinfo, hexBytes, keyword, openObject, openObjects, pinObject, pinnedPaths, refused, showEach, strtoul } from './bpf-objects.js';

interface OutputOptions { json?: boolean; pretty?: boolean; bpffs?: boolean }

const MAP_OF_MAPS = new Set<number>([BPF_MAP_TYPE.ARRAY_OF_MAPS, BPF_MAP_TYPE.HASH_OF_MAPS]);
// arithmetic, not `& ~7`: bitwise operators wrap above 2^31
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The text of a show/dump/lookup run: stdout content (the CLI prints it). */
type Out = string[];

// ---- show ----

function showJson(w: JsonWriter, fd: number, i: MapInfo, pins: IdTable<string> | undefined): void {
  const fi = fdinfo(fd);
  w.startObject();
  headerJson(w, i);
  w.field('bytes_key', i.keySize).field('bytes_value', i.valueSize).field('max_entries', i.maxEntries);
  const memlock = fi.get('memlock');
  if (memlock !== undefined) w.name('bytes_memlock').raw(String(parseInt(memlock, 10)));
  if (i.type === BPF_MAP_TYPE.PROG_ARRAY) {
    const owner = fi.get('owner_prog_type');
    if (owner !== undefined) w.field('owner_prog_type', progTypeName(Number(owner)));
    const jited = fi.get('owner_jited');
    if (jited !== undefined) w.field('owner_jited', Number(jited) !== 0);
  }
  w.field('frozen', Number(fi.get('frozen') ?? 0));
  if (i.btfId) w.field('btf_id', i.btfId);
  if (pins && pins.size) {
    w.name('pinned').startArray();
    for (const p of pins.get(i.id)) w.string(p);
    w.endArray();
  }
  w.endObject();
}

function headerJson(w: JsonWriter, i: MapInfo): void {
  w.field('id', i.id).field('type', mapTypeName(i.type));
  if (i.name) w.field('name', i.name);
  w.field('flags', i.mapFlags);
}

function headerPlain(i: MapInfo): string {
  return `${i.id}: ${mapTypeName(i.type)}  ${i.name ? `name ${i.name}  ` : ''}flags 0x${i.mapFlags.toString(16)}\n`;
}

function showPlain(out: Out, fd: number, i: MapInfo, pins: IdTable<string> | undefined): void {
  const fi = fdinfo(fd);
  let s = `${headerPlain(i)}\tkey ${i.keySize}B  value ${i.valueSize}B  max_entries ${i.maxEntries}`;
  const memlock = fi.get('memlock');
  if (memlock !== undefined) s += `  memlock ${memlock}B`;
  if (i.type === BPF_MAP_TYPE.PROG_ARRAY) {
    const owner = fi.get('owner_prog_type');
    const jited = fi.get('owner_jited');
    if (owner !== undefined || jited !== undefined) s += '\n\t';
    if (owner !== undefined) s += `owner_prog_type ${progTypeName(Number(owner))}  `;
    if (jited !== undefined) s += `owner${Number(jited) ? '' : ' not'} jited`;
  }
  if (pins && pins.size) for (const p of pins.get(i.id)) s += `\n\tpinned ${p}`;
  const frozen = Number(fi.get('frozen') ?? 0);
  if (i.btfId || frozen) s += '\n\t';
  if (i.btfId) s += `btf_id ${i.btfId}`;
  if (frozen) s += `${i.btfId ? '  ' : ''}frozen`;
  out.push(`${s}\n`);
}

export function mapShow(args: readonly string[], o: OutputOptions): string {
  const pins = o.bpffs ? pinnedPaths('map') : undefined;
  const w = new JsonWriter(o.pretty);
  const out: Out = [];
  const one = (fd: Fd) => {
    const m = BpfMap.fromFd(fd);
    try {
      const i = m.info();
      if (o.json) showJson(w, fd.value, i, pins);
      else showPlain(out, fd.value, i, pins);
    } finally {
      m.close();
    }
  };
  showEach('map', args, w, !!o.json, one);
  return o.json ? w.finish() : out.join('');
}

// ---- dump / lookup ----

function hexJson(w: JsonWriter, b: Uint8Array): void {
  w.startArray();
  for (const x of b) w.raw(`"0x${x.toString(16).padStart(2, '0')}"`);
  w.endArray();
}

/** do_dump_btf: {"key": …, "value": …} or per-CPU {"key": …, "values": [{"cpu": n, "value": …}]}. */
function dumpBtfEntry(w: JsonWriter, m: BpfMap, kb: MapBtf, key: Uint8Array, value: Uint8Array, plain: boolean): void {
  const d = { btf: kb.btf, w, plain };
  w.startObject();
  if (kb.keyTypeId) {
    w.name('key');
    dumpType(d, kb.keyTypeId, key);
  }
  if (!m.perCpu) {
    w.name('value');
    dumpType(d, kb.valueTypeId, value);
  } else {
    w.name('values').startArray();
    const step = align8(m.valueSize);
    for (let c = 0; c < m.cpus; c++) {
      w.startObject().field('cpu', c).name('value');
      dumpType(d, kb.valueTypeId, value, c * step);
      w.endObject();
    }
    w.endArray();
  }
  w.endObject();
}

/** print_entry_json: raw bytes as "0x.." strings, plus "formatted" when the map has BTF. */
function entryJson(w: JsonWriter, m: BpfMap, kb: MapBtf | undefined, key: Uint8Array, value: Uint8Array): void {
  w.startObject().name('key');
  hexJson(w, key);
  if (!m.perCpu) {
    w.name('value');
    hexJson(w, value);
  } else {
    w.name('values').startArray();
    const step = align8(m.valueSize);
    for (let c = 0; c < m.cpus; c++) {
      w.startObject().field('cpu', c).name('value');
      hexJson(w, value.subarray(c * step, c * step + m.valueSize));
      w.endObject();
    }
    w.endArray();
  }
  if (kb) {
    w.name('formatted');
    dumpBtfEntry(w, m, kb, key, value, false);
  }
  w.endObject();
}

/** print_entry_plain: "key: 00 01  value: …" on one line when short, else broken over lines. */
function entryPlain(m: BpfMap, key: Uint8Array, value: Uint8Array): string {
  let s = '';
  if (!m.perCpu) {
    const breakNames = m.keySize > 16 || m.valueSize > 16;
    const single = m.keySize + m.valueSize <= 24 && !breakNames;
    if (m.keySize) s += `key:${breakNames ? '\n' : ' '}${hexBytes(key)}${single ? '  ' : '\n'}`;
    if (m.valueSize) s += `value:${breakNames ? '\n' : ' '}${hexBytes(value)}`;
    return `${s}\n`;
  }
  if (m.keySize) s += `key:\n${hexBytes(key)}\n`;
  if (m.valueSize) {
    const step = align8(m.valueSize);
    for (let c = 0; c < m.cpus; c++) {
      s += `value (CPU ${String(c).padStart(2, '0')}):${m.valueSize > 16 ? '\n' : ' '}${hexBytes(value.subarray(c * step, c * step + m.valueSize))}\n`;
    }
  }
  return s;
}

function entryError(out: Out, w: JsonWriter | undefined, json: boolean, m: BpfMap, key: Uint8Array, code: number): void {
  // a prog array or map of maps without a value at an index just has no entry there
  if ((MAP_OF_MAPS.has(m.type) || m.type === BPF_MAP_TYPE.PROG_ARRAY) && code === 2) return;
  const text = errnoMessage(code);
  if (json && w) {
    w.startObject().name('key');
    hexJson(w, key);
    w.name('value').startObject().field('error', text).endObject().endObject();
    return;
  }
  const msg = code === 2 ? '<no entry>' : code === 28 && m.type === BPF_MAP_TYPE.REUSEPORT_SOCKARRAY ? '<cannot read>' : text;
  const breakNames = m.keySize > 16 || msg.length > 16;
  const single = m.keySize + msg.length <= 24 && !breakNames;
  out.push(`key:${breakNames ? '\n' : ' '}${hexBytes(key)}${single ? '  ' : '\n'}value:${breakNames ? '\n' : ' '}${msg}\n`);
}

/** One lookup; undefined + errno code on failure. */
function lookupRaw(m: BpfMap, key: Uint8Array): { value?: Uint8Array; code: number } {
  try {
    const v = m.lookupBytes(key);
    return v ? { value: v, code: 0 } : { code: 2 };
  } catch (e) {
    if (e instanceof BpfError) return { code: e.code };
    throw e;
  }
}

/** Run `fn` on the map the leading `id N` / `pinned PATH` words name; the map is closed after. */
function withMap<T>(args: readonly string[], fn: (m: BpfMap, rest: string[]) => T): T {
  const { fd, rest } = openObject('map', args);
  const m = BpfMap.fromFd(fd);
  try {
    return fn(m, rest);
  } finally {
    m.close();
  }
}

/**
 * `map dump MAP`: every entry. A name that several maps carry dumps each of them as bpftool does:
 * a JSON array of {"id", "type", "name", "flags", "elements": […]}, or in plain text each map's
 * header line, its entries and "Found N elements", a blank line between maps.
 */
export function mapDump(args: readonly string[], o: OutputOptions): string {
  const { fds, rest, what } = openObjects('map', args);
  const maps: BpfMap[] = [];
  try {
    while (fds.length) maps.push(BpfMap.fromFd(fds.shift()!));
    if (rest.length) throw new CliError(`unexpected arguments: ${rest.join(' ')}`);
    if (!maps.length) throw new CliError(`no map matches ${what}`);
    const infos = maps.map((m) => m.info());
    const several = maps.length > 1;
    // plain output goes through bpftool's pretty writer when every map has BTF, else plain hex lines
    const w = o.json ? new JsonWriter(o.pretty) : infos.every((i) => i.btfId) ? new JsonWriter(true) : undefined;
    const out: Out = [];
    if (w && several) w.startArray();
    maps.forEach((m, i) => {
      if (!w && i) out.push('\n');
      dumpOne(m, infos[i], w, !!o.json, several, out);
    });
    if (!w) return out.join('');
    if (several) w.endArray();
    return out.join('') + w.finish();
  } finally {
    for (const fd of fds) fd.close();
    for (const m of maps) m.close();
  }
}

/** bpftool's map_dump of one map: into the writer `w` (JSON or BTF-formatted text) or as hex lines into `out`. */
function dumpOne(m: BpfMap, info: MapInfo, w: JsonWriter | undefined, json: boolean, header: boolean, out: Out): void {
  const kb = w ? mapBtf(info) : undefined;
  if (w) {
    if (header) {
      w.startObject();
      headerJson(w, info);
      w.name('elements');
    }
    w.startArray();
  } else if (header) {
    out.push(headerPlain(info));
  }
  let n = 0;
  let prev: Uint8Array | undefined;
  // queues, stacks, bloom filters and ring buffers have no keys to walk: bpftool lists nothing
  // (its GET_NEXT_KEY fails and it prints "Found 0 elements")
  for (let key = m.keySize === 0 ? undefined : m.nextKey(undefined); key; prev = key, key = m.nextKey(prev)) {
    const { value, code } = lookupRaw(m, key);
    if (!value) {
      if (w && !json) flushInto(w, out);
      entryError(out, w, json, m, key, code);
      continue;
    }
    n++;
    if (json) entryJson(w!, m, kb, key, value);
    else if (kb && w) dumpBtfEntry(w, m, kb, key, value, true);
    else {
      if (w) flushInto(w, out);
      out.push(entryPlain(m, key, value));
    }
  }
  if (w) {
    w.endArray();
    if (header) w.endObject();
  } else {
    out.push(`Found ${n} element${n !== 1 ? 's' : ''}\n`);
  }
}

/**
 * bpftool writes its plain lines and the writer's output to the same stdout in turn; keep that
 * order by moving what the writer holds so far into `out` first.
 */
function flushInto(w: JsonWriter, out: Out): void {
  out.push(w.take());
}

// ---- element arguments ----

interface Elem { key?: Uint8Array; value?: Uint8Array; valueFd?: Fd; flag?: number }

function parseBytes(args: string[], what: string, n: number): { bytes: Uint8Array; rest: string[] } {
  let base: 0 | 16 = 0;
  let i = 0;
  if (keyword(args[0], 'hex')) {
    base = 16;
    i = 1;
  }
  const bytes = new Uint8Array(n);
  let got = 0;
  for (; got < n && i < args.length; got++, i++) {
    const a = args[i];
    const v = strtoul(a, base);
    if (v === undefined) throw new CliError(`error parsing byte: ${a}`);
    if (v > 255) throw new CliError(`${what} byte ${a} does not fit in a byte (0…255)`);
    bytes[got] = v;
  }
  if (got !== n) throw new CliError(`${what} expected ${n} bytes got ${got}`);
  return { bytes, rest: args.slice(i) };
}

/** parse_elem: `key BYTES`, `value BYTES | value id N | value pinned P`, `any|noexist|exist`. */
function parseElem(args: string[], m: BpfMap, want: { key: boolean; value: boolean; flags: boolean; keyOptional?: boolean }): Elem {
  const e: Elem = {};
  let rest = args;
  try {
    while (rest.length) {
      const a = rest[0];
      if (keyword(a, 'key')) {
        if (!want.key || e.key) throw new CliError(m.keySize && want.key ? 'duplicate key' : 'unnecessary key');
        ({ bytes: e.key, rest } = parseBytes(rest.slice(1), 'key', m.keySize));
      } else if (keyword(a, 'value')) {
        if (!want.value || e.value || e.valueFd) throw new CliError(want.value ? 'duplicate value' : 'unnecessary value');
        if (MAP_OF_MAPS.has(m.type) || m.type === BPF_MAP_TYPE.PROG_ARRAY) {
          const kind = m.type === BPF_MAP_TYPE.PROG_ARRAY ? 'prog' : 'map';
          if (rest.length < 3) throw new CliError(`not enough value arguments for ${kind === 'prog' ? 'map of progs' : 'map in map'}`);
          const r = openObject(kind, rest.slice(1));
          e.valueFd = r.fd;
          rest = r.rest;
        } else {
          const r = parseBytes(rest.slice(1), 'value', m.valueSize);
          rest = r.rest;
          // per-CPU maps: the same value on every CPU (bpftool's fill_per_cpu_value)
          const v = new Uint8Array(m.valueBytes);
          const step = m.perCpu ? align8(m.valueSize) : m.valueSize;
          for (let c = 0; c < m.cpus; c++) v.set(r.bytes, c * step);
          e.value = v;
        }
      } else if (keyword(a, 'any') || keyword(a, 'noexist') || keyword(a, 'exist')) {
        if (!want.flags || e.flag !== undefined) throw new CliError(`flags specified multiple times: ${a}`);
        e.flag = keyword(a, 'any') ? BPF_UPDATE.ANY : keyword(a, 'noexist') ? BPF_UPDATE.NOEXIST : BPF_UPDATE.EXIST;
        rest = rest.slice(1);
      } else {
        throw new CliError(`expected key or value, got: ${a}`);
      }
    }
    if (want.key && !want.keyOptional && !e.key && m.keySize) throw new CliError('did not find key');
    if (want.value && !e.value && !e.valueFd) throw new CliError('did not find value');
    return e;
  } catch (err) {
    e.valueFd?.close();
    throw err;
  }
}

export function mapLookup(args: readonly string[], o: OutputOptions): { text: string; found: boolean } {
  return withMap(args, (m, rest) => {
    const e = parseElem(rest, m, { key: true, value: false, flags: false });
    const key = e.key ?? new Uint8Array(0);
    const { value, code } = lookupRaw(m, key);
    if (!value) {
      if (code !== 2) throw new CliError(`lookup failed: ${errnoMessage(code)}`);
      return { text: o.json ? 'null\n' : `key:\n${hexBytes(key)}\n\nNot found\n`, found: false };
    }
    return { text: entryText(m, key, value, o), found: true };
  });
}

/** One entry as lookup, peek and pop print it: bpftool's JSON, its BTF-formatted lines, or hex. */
function entryText(m: BpfMap, key: Uint8Array, value: Uint8Array, o: OutputOptions): string {
  const kb = mapBtf(m.info());
  if (o.json) {
    const w = new JsonWriter(o.pretty);
    entryJson(w, m, kb, key, value);
    return w.finish();
  }
  if (kb) {
    const w = new JsonWriter(true);
    dumpBtfEntry(w, m, kb, key, value, true);
    return w.finish();
  }
  return entryPlain(m, key, value);
}

/**
 * `map pop|dequeue`: remove and print the next value of a queue or stack. An empty one is bpftool's
 * "Error: empty map" on stdout (null with -j) and a failure status.
 */
export function mapPop(args: readonly string[], o: OutputOptions): { text: string; found: boolean } {
  return withMap(args, (m, rest) => {
    if (rest.length) throw new CliError(`unexpected arguments: ${rest.join(' ')}`);
    if (m.keySize !== 0) throw new CliError(`pop and dequeue are for queues and stacks; map ${m.name} is a ${m.typeName} (lookup and delete its keys)`);
    const value = refused('pop failed', () => m.lookupAndDelete() as Uint8Array | undefined);
    if (!value) return { text: o.json ? 'null\n' : 'Error: empty map\n', found: false };
    return { text: entryText(m, new Uint8Array(0), value, o), found: true };
  });
}

/** `map getnext (id N | pinned P) [key BYTES]`: the key after the one given (the first without one). */
export function mapGetNext(args: readonly string[], o: OutputOptions): string {
  return withMap(args, (m, rest) => {
    if (m.keySize === 0) throw new CliError(`map ${m.name} is a ${m.typeName}: it has no keys`);
    const e = parseElem(rest, m, { key: true, value: false, flags: false, keyOptional: true });
    const next = refused("can't get next key", () => m.nextKey(e.key));
    if (!next) throw new CliError(`can't get next key: ${errnoMessage(2)}`);
    if (o.json) {
      const w = new JsonWriter(o.pretty).startObject().name('key');
      if (e.key) hexJson(w, e.key);
      else w.null();
      w.name('next_key');
      hexJson(w, next);
      return w.endObject().finish();
    }
    return `${e.key ? `key:\n${hexBytes(e.key)}\n` : 'key: None\n'}next key:\n${hexBytes(next)}\n`;
  });
}

/** `map freeze`: no more writes from user space. */
export function mapFreeze(args: readonly string[], o: OutputOptions): string {
  return withMap(args, (m, rest) => {
    if (rest.length) throw new CliError(`unexpected arguments: ${rest.join(' ')}`);
    refused('failed to freeze map', () => m.freeze());
    return o.json ? 'null\n' : '';
  });
}


export function mapUpdate(args: readonly string[], o: OutputOptions): string {
  return withMap(args, (m, rest) => {
    const e = parseElem(rest, m, { key: true, value: true, flags: true });
    try {
      refused('update failed', () => m.update(e.key ?? new Uint8Array(0), e.valueFd ?? e.value!, e.flag ?? BPF_UPDATE.ANY));
    } finally {
      e.valueFd?.close();
    }
    return o.json ? 'null\n' : '';
  });
}

export function mapDelete(args: readonly string[], o: OutputOptions): string {
  return withMap(args, (m, rest) => {
    const e = parseElem(rest, m, { key: true, value: false, flags: false });
    if (!refused('delete failed', () => m.delete(e.key ?? new Uint8Array(0)))) throw new CliError(`delete failed: ${errnoMessage(2)}`);
    return o.json ? 'null\n' : '';
  });
}

// ---- commander ----

function outputOptions(c: Command, show = false): Command {
  jsonOptions(c);
  if (show) c.option('-f, --bpffs', 'show the pins of each map (walks every mounted bpffs)');
  return c;
}

const norm = (o: OutputOptions): OutputOptions => ({ ...o, json: o.json || o.pretty });

/** lookup, peek and pop: the entry (or bpftool's not-found text) and a failure status when none. */
function printEntry(r: { text: string; found: boolean }): void {
  process.stdout.write(r.text);
  if (!r.found) process.exitCode = 1;
}

export function registerMap(program: Command): void {
  const map = program.command('map').description('list, dump and edit BPF maps in the kernel (bpftool map)');
  outputOptions(map.command('show').alias('list').argument('[target...]', '"id N", "pinned PATH" or "name NAME" (default: every map)'), true)
    .description('show maps: type, name, flags, sizes, memlock, BTF id (and pins with -f)')
    .action((target: string[], o: OutputOptions) => { process.stdout.write(mapShow(target, norm(o))); });
  outputOptions(map.command('create').argument('<args...>', 'FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] [inner_map MAP] [dev NAME]'))
    .description('create a map (without BTF) and pin it at FILE on a bpffs')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(mapCreate(args, norm(o))); });
  outputOptions(map.command('dump').argument('<target...>', '"id N" or "pinned PATH"'))
    .description('dump every entry (BTF-formatted when the map has BTF)')
    .action((target: string[], o: OutputOptions) => { process.stdout.write(mapDump(target, norm(o))); });
  outputOptions(map.command('lookup').argument('<args...>', '(id N | pinned PATH) key [hex] BYTES…'))
    .description('print the value at a key')
    .action((args: string[], o: OutputOptions) => printEntry(mapLookup(args, norm(o))));
  outputOptions(map.command('update').argument('<args...>', '(id N | pinned PATH) key [hex] BYTES… value [hex] BYTES… [any|noexist|exist]'))
    .description('write the value at a key (per-CPU maps: on every CPU)')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(mapUpdate(args, norm(o))); });
  outputOptions(map.command('delete').argument('<args...>', '(id N | pinned PATH) key [hex] BYTES…'))
    .description('remove the entry at a key')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(mapDelete(args, norm(o))); });
  outputOptions(map.command('getnext').argument('<args...>', '(id N | pinned PATH) [key [hex] BYTES…]'))
    .description('print the key after the one given (the first key without one)')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(mapGetNext(args, norm(o))); });
  outputOptions(map.command('peek').argument('<target...>', '(id N | pinned PATH) of a queue or stack'))
    .description('print the next value of a queue or stack without removing it')
    .action((args: string[], o: OutputOptions) => printEntry(mapLookup(args, norm(o))));
  outputOptions(map.command('push').alias('enqueue').argument('<args...>', '(id N | pinned PATH) value [hex] BYTES…'))
    .description('add a value to a queue or stack')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(mapUpdate(args, norm(o))); });
  outputOptions(map.command('pop').alias('dequeue').argument('<target...>', '(id N | pinned PATH) of a queue or stack'))
    .description('remove and print the next value of a queue or stack')
    .action((args: string[], o: OutputOptions) => printEntry(mapPop(args, norm(o))));
  outputOptions(map.command('freeze').argument('<target...>', 'id N | pinned PATH'))
    .description('forbid writes from user space (programs still write)')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(mapFreeze(args, norm(o))); });
  outputOptions(map.command('pin').argument('<args...>', '(id N | pinned PATH) FILE'))
    .description('pin the map at FILE on a bpffs')
    .action((args: string[], o: OutputOptions) => { process.stdout.write(pinObject('map', args, norm(o))); });
}
