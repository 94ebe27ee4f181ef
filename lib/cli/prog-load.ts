// `tsbpf prog load OBJ PATH` and `tsbpf prog loadall OBJ PINDIR`, with bpftool 7.1's options
// `[type TYPE] [map {idx IDX | name NAME} MAP] [pinmaps DIR]`. Both load the whole object, as
// bpftool does; `load` pins its first program at PATH, `loadall` every program at PINDIR/<name>.
// `type` gives every program the type of a libbpf section name (xdp, classifier, cgroup/skb, …);
// `map` hands an existing map to the object instead of creating one (by the object's map order,
// libbpf's: .maps first, then global data; or by name, as bpftool names maps); `pinmaps DIR` pins
// every map at DIR/<name> ('.' of global data names becomes '_', as libbpf does: bpffs names cannot
// hold a '.'), and LIBBPF_PIN_BY_NAME maps go under DIR (else /sys/fs/bpf). On failure nothing is
// left pinned. `load` prints what bpftool prints (nothing; null with -j); `loadall` lists what it
// pinned. Not here: bpftool's `dev` (offload) and `autoattach`.
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadObject } from '../object/load.js';
import { readObject, type ObjectSpec } from '../object/read.js';
import type { MapSpec } from '../object/spec.js';
import { findSection } from '../object/sections.js';
import { checkPinRoot, makePinRoot, removePin, removePinRoot } from '../object/pin.js';
import type { BpfObject } from '../object/object.js';
import type { BpfProgram } from '../program/program.js';
import type { Fd } from '../syscall/fd.js';
import { checkNewPin, CliError, keyword, openObject, pinAt, strtoul } from './bpf-objects.js';
import { jsonOptions, jsonOrText, quietUnderJson, type JsonOpts } from './json-writer.js';

export interface LoadAllResult {
  programs: { name: string; id: number; path: string }[];
  maps: { name: string; id: number; path?: string }[];
}

/** bpffs pin name of a map: its kernel name with '.' replaced (libbpf's sanitize_pin_path). */
export function mapPinName(kernelName: string): string {
  return kernelName.replace(/\./g, '_');
}

/** The words after OBJ and PATH: a program type, maps to reuse (their fds, which the caller closes), a map pin directory. */
export interface LoadArgs {
  type?: string;
  maps: { idx?: number; name?: string; fd: Fd }[];
  pinMaps?: string;
}

const UNSUPPORTED: Record<string, string> = {
  dev: "'dev' (hardware offload) is not supported by tsbpf",
  autoattach: "'autoattach' is not supported by tsbpf: pin the program, then attach it (tsbpf net attach, tsbpf cgroup attach)",
};

export function parseLoadArgs(words: readonly string[]): LoadArgs {
  const a: LoadArgs = { maps: [] };
  const rest = [...words];
  try {
    while (rest.length) {
      const w = rest.shift()!;
      if (keyword(w, 'type')) {
        if (a.type !== undefined) throw new CliError('program type already specified');
        a.type = rest.shift();
        if (a.type === undefined) throw new CliError("expected a program type after 'type'");
      } else if (keyword(w, 'map')) {
        if (rest.length < 4) throw new CliError("'map' needs {idx IDX | name NAME} and a map (id N | pinned PATH | name NAME)");
        const how = rest.shift()!;
        const what = rest.shift()!;
        let idx: number | undefined;
        if (keyword(how, 'idx')) {
          idx = strtoul(what, 0);
          if (idx === undefined) throw new CliError(`can't parse ${what} as IDX`);
        } else if (!keyword(how, 'name')) {
          throw new CliError(`expected 'idx' or 'name', got: '${how}'?`);
        }
        const { fd, rest: after } = openObject('map', rest);
        a.maps.push(idx === undefined ? { name: what, fd } : { idx, fd });
        rest.splice(0, rest.length, ...after);
      } else if (keyword(w, 'pinmaps')) {
        a.pinMaps = rest.shift();
        if (a.pinMaps === undefined) throw new CliError("expected a directory after 'pinmaps'");
      } else if (UNSUPPORTED[w]) {
        throw new CliError(UNSUPPORTED[w]);
      } else {
        throw new CliError(`expected no more arguments, 'type', 'map' or 'pinmaps', got: '${w}'?`);
      }
    }
    return a;
  } catch (e) {
    for (const m of a.maps) m.fd.close();
    throw e;
  }
}

/** The name bpftool (bpf_map__name) gives a map: the kernel's for .data/.rodata/.bss/.kconfig ("obj.bss"), else the object's. */
function libbpfMapName(m: MapSpec): string {
  const custom = m.name.startsWith('.data.') || m.name.startsWith('.rodata.');
  return m.kind === 'data' && !custom ? m.kernelName : m.name;
}

/** libbpf's map order, which `map idx` counts in: BTF (and legacy) maps, global data, .kconfig last. */
function libbpfMapOrder(spec: ObjectSpec): MapSpec[] {
  const maps = [...spec.maps.values()];
  const rank = (m: MapSpec) => (m.kind !== 'data' ? 0 : m.name === '.kconfig' ? 2 : 1);
  return maps.map((m, i) => ({ m, i })).sort((x, y) => rank(x.m) - rank(y.m) || x.i - y.i).map((x) => x.m);
}

/** The object's map names → the given maps, resolved and checked as bpftool does. */
function replacements(spec: ObjectSpec, given: LoadArgs['maps']): Record<string, Fd> {
  const order = libbpfMapOrder(spec);
  const out: Record<string, Fd> = {};
  const used = new Set<number>();
  for (const g of given) {
    let idx = g.idx;
    if (idx === undefined) {
      idx = order.findIndex((m) => libbpfMapName(m) === g.name || m.name === g.name);
      if (idx < 0) throw new CliError(`unable to find map '${g.name}'`);
    }
    if (idx >= order.length) throw new CliError(`map idx '${idx}' not used`);
    if (used.has(idx)) throw new CliError(`replacement for map idx ${idx} specified more than once`);
    used.add(idx);
    out[order[idx].name] = g.fd;
  }
  return out;
}

/** `type TYPE`: every program of the spec gets the type (and expected attach type) of that section name. */
function setProgramType(spec: ObjectSpec, type: string): void {
  // as bpftool: the name as a section name, else with a '/' appended ("cgroup" → "cgroup/…" fails, "sk_skb" → "sk_skb/")
  const def = findSection(type) ?? findSection(`${type}/`);
  if (!def) throw new CliError(`unrecognized program type '${type}': name it as a section is named (xdp, classifier, socket, kprobe, cgroup/skb, …)`);
  for (const p of spec.programs.values()) {
    p.type = def.progType;
    p.attachType = def.attachType;
  }
}

/**
 * Load the object and pin: the programs `pick` chooses (at their paths), every map under
 * `a.pinMaps`. Directories named are checked to be on bpffs first; on failure every pin made goes.
 */
function loadAndPin(file: string, a: LoadArgs, progDir: string | undefined, pick: (obj: BpfObject) => [string, BpfProgram, string][]): LoadAllResult {
  // the directories must be on bpffs before anything is loaded
  if (progDir) checkPinRoot(progDir);
  if (a.pinMaps) checkPinRoot(a.pinMaps);
  const spec = readObject(file);
  if (a.type !== undefined) setProgramType(spec, a.type);
  const obj = loadObject(spec, { ...(a.pinMaps ? { pinPath: a.pinMaps } : {}), mapReplacements: replacements(spec, a.maps) });
  const created: string[] = [];
  const dirs: [string | undefined, string][] = [];
  try {
    if (progDir) dirs.push([makePinRoot(progDir), progDir]);
    if (a.pinMaps) dirs.push([makePinRoot(a.pinMaps), a.pinMaps]);
    const programs: LoadAllResult['programs'] = [];
    for (const [name, p, path] of pick(obj)) {
      pinAt(p.fd.value, path);
      created.push(path);
      programs.push({ name, id: p.id, path });
    }
    const maps: LoadAllResult['maps'] = [];
    for (const [name, m] of obj.maps) {
      const ms = obj.spec.maps.get(name)!;
      let path: string | undefined;
      if (a.pinMaps) {
        path = join(a.pinMaps, ms.pinning === 'byName' ? name : mapPinName(ms.kernelName));
        // by-name maps are already pinned there by the load (or were reused from there)
        if (ms.pinning !== 'byName') {
          pinAt(m.fd.value, path);
          created.push(path);
        }
      }
      maps.push({ name, id: m.info().id, path });
    }
    return { programs, maps };
  } catch (e) {
    for (const p of created.reverse()) removePin(p);
    for (const p of obj.pinned) removePin(p);
    for (const [first, dir] of dirs.reverse()) removePinRoot(first, dir);
    throw e;
  } finally {
    obj.close();
  }
}

/** `prog loadall OBJ PINDIR …`: every program pinned at PINDIR/<program name>. */
export function loadAll(file: string, pinDir: string, a: LoadArgs = { maps: [] }): LoadAllResult {
  return loadAndPin(file, a, pinDir, (obj) => [...obj.programs].map(([name, p]) => [name, p, join(pinDir, name)]));
}

/** `prog load OBJ PATH …`: the object's first program (libbpf's order: by section, then offset) pinned at PATH. */
export function loadOne(file: string, path: string, a: LoadArgs = { maps: [] }): LoadAllResult {
  // a pin that cannot be made is found before the verifier runs (bpftool finds it after)
  checkNewPin(path);
  return loadAndPin(file, a, undefined, (obj) => {
    const first = obj.programs.entries().next();
    if (first.done) throw new CliError("object file doesn't contain any bpf program");
    return [[first.value[0], first.value[1], path]];
  });
}

/** Parse the option words, run `fn`, close the maps given for reuse. */
function withLoadArgs<T>(words: readonly string[], fn: (a: LoadArgs) => T): T {
  const a = parseLoadArgs(words);
  try {
    return fn(a);
  } finally {
    for (const m of a.maps) m.fd.close();
  }
}

/** The `prog` command, shared with `prog show` (registered by another file): found or made. */
export function progCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'prog') ?? program.command('prog').description('load, list and pin BPF programs');
}

const OPTIONS = "[type TYPE] [map {idx IDX | name NAME} MAP] [pinmaps DIR]";

export function registerProgLoad(program: Command): void {
  jsonOptions(progCommand(program).command('load'), 'print JSON (null, as bpftool)')
    .argument('<args...>', `OBJ PATH ${OPTIONS}`)
    .description('load an object and pin its first program at PATH on a bpffs (bpftool prog load)')
    .action((args: string[], opts: JsonOpts) => {
      const [file, path, ...words] = args;
      if (path === undefined) throw new CliError(`usage: tsbpf prog load OBJ PATH ${OPTIONS}`);
      withLoadArgs(words, (a) => loadOne(file, path, a));
      quietUnderJson('', opts);
    });
  jsonOptions(progCommand(program).command('loadall'))
    .argument('<args...>', `OBJ PINDIR ${OPTIONS}`)
    .description('load every program of an object and pin them at PINDIR/<name> (bpftool prog loadall)')
    .action((args: string[], opts: JsonOpts) => {
      const [file, pinDir, ...words] = args;
      if (pinDir === undefined) throw new CliError(`usage: tsbpf prog loadall OBJ PINDIR ${OPTIONS}`);
      const r = withLoadArgs(words, (a) => loadAll(file, pinDir, a));
      process.stdout.write(jsonOrText(opts, r, () => [
        ...r.programs.map((p) => `prog ${p.name} id ${p.id} pinned ${p.path}\n`),
        ...r.maps.map((m) => `map ${m.name} id ${m.id}${m.path ? ` pinned ${m.path}` : ''}\n`),
      ].join('')));
    });
}
