// `tsbpf prog loadall FILE PINDIR [pinmaps DIR]`, as bpftool's: load every program of an object
// and pin each at PINDIR/<program name>; with `pinmaps DIR` pin every map at DIR/<name> ('.' of
// global data names becomes '_', as libbpf does: bpffs names cannot hold a '.'). LIBBPF_PIN_BY_NAME
// maps go under DIR when it is given (else /sys/fs/bpf). On failure nothing is left pinned.
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadObject } from '../object/load.js';
import { checkPinRoot, makePinRoot, removePin, removePinRoot } from '../object/pin.js';

export interface LoadAllResult {
  programs: { name: string; id: number; path: string }[];
  maps: { name: string; id: number; path?: string }[];
}

/** bpffs pin name of a map: its kernel name with '.' replaced (libbpf's sanitize_pin_path). */
export function mapPinName(kernelName: string): string {
  return kernelName.replace(/\./g, '_');
}

export function loadAll(file: string, pinDir: string, pinMapsDir?: string): LoadAllResult {
  // the directories must be on bpffs before anything is loaded
  checkPinRoot(pinDir);
  if (pinMapsDir) checkPinRoot(pinMapsDir);
  const obj = loadObject(file, pinMapsDir ? { pinPath: pinMapsDir } : {});
  const created: string[] = [];
  const dirs: [string | undefined, string][] = [];
  try {
    dirs.push([makePinRoot(pinDir), pinDir]);
    if (pinMapsDir) dirs.push([makePinRoot(pinMapsDir), pinMapsDir]);
    const programs: LoadAllResult['programs'] = [];
    for (const [name, p] of obj.programs) {
      const path = join(pinDir, name);
      p.pin(path);
      created.push(path);
      programs.push({ name, id: p.id, path });
    }
    const maps: LoadAllResult['maps'] = [];
    for (const [name, m] of obj.maps) {
      const spec = obj.spec.maps.get(name)!;
      let path: string | undefined;
      if (pinMapsDir) {
        path = join(pinMapsDir, spec.pinning === 'byName' ? name : mapPinName(spec.kernelName));
        // by-name maps are already pinned there by the load (or were reused from there)
        if (spec.pinning !== 'byName') {
          m.pin(path);
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

/** The `prog` command, shared with `prog show` (registered by another file): found or made. */
export function progCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'prog') ?? program.command('prog').description('load, list and pin BPF programs');
}

export function registerProgLoad(program: Command): void {
  progCommand(program)
    .command('loadall')
    .argument('<file>', 'a clang-built BPF object (.o)')
    .argument('<pindir>', 'bpffs directory: each program is pinned at <pindir>/<program name>')
    .argument('[pinmaps]', 'the word "pinmaps"')
    .argument('[mapdir]', 'bpffs directory for every map of the object')
    .description('load every program of an object and pin them (bpftool prog loadall)')
    .option('-j, --json', 'print JSON')
    .action((file: string, pinDir: string, kw: string | undefined, mapDir: string | undefined, opts: { json?: boolean }) => {
      if (kw !== undefined && (kw !== 'pinmaps' || mapDir === undefined)) throw new Error(`expected "pinmaps DIR" after ${pinDir}, got "${[kw, mapDir].filter((x) => x !== undefined).join(' ')}"`);
      const r = loadAll(file, pinDir, mapDir);
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        for (const p of r.programs) process.stdout.write(`prog ${p.name} id ${p.id} pinned ${p.path}\n`);
        for (const m of r.maps) process.stdout.write(`map ${m.name} id ${m.id}${m.path ? ` pinned ${m.path}` : ''}\n`);
      }
    });
}
