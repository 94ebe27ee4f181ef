// `tsbpf prog show [id N | pinned PATH | name NAME | tag TAG] [-j] [-f]`: bpftool 7.1's listing of loaded programs —
// type, name, tag, gpl, run stats, load time and uid, xlated/jited sizes, memlock (fdinfo), map ids,
// pins (-f), BTF id and the `bpf_metadata_*` variables of the program's .rodata. `prog pin` here too;
// `prog run` (prog-run.ts), `prog dump` (prog-dump.ts) and `prog tracelog` (prog-tracelog.ts) are registered with them.
import type { Command } from 'commander';
import type { Fd } from '../syscall/fd.js';
import { getFdById, mapInfo, progInfo, type ProgInfo } from '../syscall/obj.js';
import { BPF_MAP_TYPE, progTypeName } from '../syscall/types.js';
import { BpfMap } from '../map/map.js';
import { btfById } from '../export/map-btf.js';
import { JsonWriter, jsonOptions } from './json-writer.js';
import type { IdTable } from './libbpf-hashmap.js';
import { dumpType } from './btf-dumper.js';
import { progCommand } from './prog-load.js';
import { registerProgRun } from './prog-run.js';
import { registerProgDump } from './prog-dump.js';
import { registerProgTracelog } from './prog-tracelog.js';
import { bootTimeSeconds, fdinfo, localIsoTime, pinObject, pinnedPaths, progFullName, showEach } from './bpf-objects.js';

interface ShowOptions { json?: boolean; pretty?: boolean; bpffs?: boolean }

const METADATA_PREFIX = 'bpf_metadata_';

/** The `bpf_metadata_*` variables of the program's .rodata map: [name without prefix, writer callback]. */
function metadata(i: ProgInfo): { name: string; dump: (w: JsonWriter, plain: boolean) => void }[] {
  for (const id of i.mapIds) {
    let fd: Fd;
    try {
      fd = getFdById('map', id);
    } catch {
      return [];
    }
    const m = BpfMap.fromFd(fd);
    try {
      const mi = mapInfo(m.fd.value);
      if (mi.type !== BPF_MAP_TYPE.ARRAY || mi.keySize !== 4 || mi.maxEntries !== 1 || !mi.btfValueTypeId || !mi.name.includes('.rodata')) continue;
      const value = m.lookupBytes(0);
      if (!value) return [];
      const btf = btfById(mi.btfId);
      const sec = btf.type(mi.btfValueTypeId);
      if (sec.kind !== 'datasec') return [];
      const out: ReturnType<typeof metadata> = [];
      for (const v of sec.vars) {
        const t = btf.type(v.type);
        if (t.kind !== 'var' || !t.name.startsWith(METADATA_PREFIX)) continue;
        out.push({ name: t.name.slice(METADATA_PREFIX.length), dump: (w, plain) => dumpType({ btf, w, plain }, t.type, value, v.offset) });
      }
      return out;
    } catch {
      return [];
    } finally {
      m.close();
    }
  }
  return [];
}

/** The fields that head a program's JSON object (bpftool's print_prog_header_json; `prog dump` uses them too). */
export function progHeaderJson(w: JsonWriter, fd: number, i: ProgInfo): void {
  w.field('id', i.id).field('type', progTypeName(i.type));
  if (i.name) w.field('name', progFullName(fd, i));
  w.name('tag').raw(`"${i.tag}"`);
  w.field('gpl_compatible', i.gplCompatible);
  if (i.runTimeNs) w.field('run_time_ns', i.runTimeNs).field('run_cnt', i.runCnt);
  if (i.recursionMisses) w.field('recursion_misses', i.recursionMisses);
}

function showJson(w: JsonWriter, fd: number, i: ProgInfo, pins: IdTable<string> | undefined): void {
  w.startObject();
  progHeaderJson(w, fd, i);
  if (i.loadTime) {
    w.name('loaded_at').raw(String(bootTimeSeconds(i.loadTime)));
    w.field('uid', i.createdByUid);
  }
  w.field('bytes_xlated', i.xlatedProgLen);
  w.field('jited', i.jitedProgLen !== 0);
  if (i.jitedProgLen) w.field('bytes_jited', i.jitedProgLen);
  const memlock = fdinfo(fd).get('memlock');
  if (memlock !== undefined) w.name('bytes_memlock').raw(String(parseInt(memlock, 10)));
  if (i.mapIds.length) {
    w.name('map_ids').startArray();
    for (const id of i.mapIds) w.number(id);
    w.endArray();
  }
  if (i.btfId) w.field('btf_id', i.btfId);
  if (pins && pins.size) {
    w.name('pinned').startArray();
    for (const p of pins.get(i.id)) w.string(p);
    w.endArray();
  }
  const meta = metadata(i);
  if (meta.length) {
    w.name('metadata').startObject();
    for (const m of meta) {
      w.name(m.name);
      m.dump(w, false);
    }
    w.endObject();
  }
  w.endObject();
}

/** A program's first line (bpftool's print_prog_header_plain; `prog dump` uses it too). */
export function progHeaderPlain(fd: number, i: ProgInfo): string {
  let s = `${i.id}: ${progTypeName(i.type)}  ${i.name ? `name ${progFullName(fd, i)}  ` : ''}tag ${i.tag}${i.gplCompatible ? '  gpl' : ''}`;
  if (i.runTimeNs) s += ` run_time_ns ${i.runTimeNs} run_cnt ${i.runCnt}`;
  if (i.recursionMisses) s += ` recursion_misses ${i.recursionMisses}`;
  return `${s}\n`;
}

function showPlain(fd: number, i: ProgInfo, pins: IdTable<string> | undefined): string {
  let s = progHeaderPlain(fd, i);
  if (i.loadTime) s += `\tloaded_at ${localIsoTime(bootTimeSeconds(i.loadTime))}  uid ${i.createdByUid}\n`;
  s += `\txlated ${i.xlatedProgLen}B${i.jitedProgLen ? `  jited ${i.jitedProgLen}B` : '  not jited'}`;
  const memlock = fdinfo(fd).get('memlock');
  if (memlock !== undefined) s += `  memlock ${memlock}B`;
  if (i.mapIds.length) s += `  map_ids ${i.mapIds.join(',')}`;
  if (pins && pins.size) for (const p of pins.get(i.id)) s += `\n\tpinned ${p}`;
  if (i.btfId) s += `\n\tbtf_id ${i.btfId}`;
  s += '\n';
  const meta = metadata(i);
  if (meta.length) {
    const w = new JsonWriter(false);
    s += '\tmetadata:';
    for (const m of meta) {
      w.reset();
      s += `${w.take()}\n\t\t${m.name} = `;
      m.dump(w, true);
      s += w.take();
    }
    s += '\n';
  }
  return s;
}

export function progShow(args: readonly string[], o: ShowOptions): string {
  const pins = o.bpffs ? pinnedPaths('prog') : undefined;
  const w = new JsonWriter(o.pretty);
  const out: string[] = [];
  const one = (fd: Fd) => {
    try {
      const i = progInfo(fd.value);
      if (o.json) showJson(w, fd.value, i, pins);
      else out.push(showPlain(fd.value, i, pins));
    } finally {
      fd.close();
    }
  };
  showEach('prog', args, w, !!o.json, one);
  return o.json ? w.finish() : out.join('');
}

export function registerProgShow(program: Command): void {
  jsonOptions(progCommand(program).command('show'))
    .alias('list')
    .argument('[target...]', '"id N", "pinned PATH", "name NAME" or "tag TAG" (default: every program)')
    .description('show loaded programs: type, name, tag, sizes, load time, maps, BTF id (and pins with -f)')
    .option('-f, --bpffs', 'show the pins of each program (walks every mounted bpffs)')
    .action((target: string[], o: ShowOptions) => { process.stdout.write(progShow(target, { ...o, json: o.json || o.pretty })); });
  jsonOptions(progCommand(program).command('pin'))
    .argument('<args...>', '(id N | pinned PATH) FILE')
    .description('pin the program at FILE on a bpffs')
    .action((args: string[], o: ShowOptions) => { process.stdout.write(pinObject('prog', args, { ...o, json: o.json || o.pretty })); });
  registerProgRun(program);
  registerProgDump(program);
  registerProgTracelog(program);
}
