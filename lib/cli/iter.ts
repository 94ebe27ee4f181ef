// `tsbpf iter pin OBJ PATH [map MAP]`: bpftool's `iter pin`. The object's first program (an
// iter/<target> section) is loaded, attached as an iterator (over MAP for map element iterators)
// and the link pinned at PATH, where every read (`cat PATH`) runs one walk. The object is closed
// afterwards: the pinned link holds the program.
import type { Command } from 'commander';
import { loadObject } from '../object/load.js';
import { attachIter } from '../attach/iter.js';
import { AttachArgumentError } from '../attach/handle.js';
import { BpfError } from '../syscall/errors.js';
import { checkNewPin, CliError, keyword, openObject, pinAt } from './bpf-objects.js';
import { jsonOptions, quietUnderJson, type JsonOpts } from './json-writer.js';

const USAGE = 'usage: tsbpf iter pin OBJ PATH [map MAP]  (MAP: id N | pinned PATH | name NAME)';

export function iterPin(args: readonly string[]): void {
  const [file, path, ...words] = args;
  if (file === undefined || path === undefined) throw new CliError(USAGE);
  if (words.length && !keyword(words[0], 'map')) throw new CliError(`expected 'map', got: '${words[0]}'?`);
  if (words.length === 1) throw new CliError(`expected a map after 'map' (id N | pinned PATH | name NAME)`);
  checkNewPin(path);

  const map = words.length ? openObject('map', words.slice(1)) : undefined;
  try {
    if (map && map.rest.length) throw new CliError(`unexpected arguments: ${map.rest.join(' ')}`);
    const obj = loadObject(file);
    try {
      const first = obj.programs.entries().next();
      if (first.done) throw new CliError("object file doesn't contain any bpf program");
      const [name, program] = first.value;
      let it;
      try {
        it = attachIter({ program, ...(map ? { map: { fd: map.fd } } : {}) });
      } catch (e) {
        if (e instanceof AttachArgumentError || e instanceof BpfError) throw new CliError(`attach_iter failed for program ${name}: ${e.message}`, { cause: e });
        throw e;
      }
      try {
        pinAt(it.fd.value, path);
      } catch (e) {
        it.detach();
        throw e;
      }
      it.close(); // the pin keeps it
    } finally {
      obj.close();
    }
  } finally {
    map?.fd.close();
  }
}

export function registerIter(program: Command): void {
  const iter = program.command('iter').description('pin BPF iterators, read with cat (bpftool iter)');
  jsonOptions(iter.command('pin'), 'print JSON (null, as bpftool)')
    .argument('<args...>', 'OBJ PATH [map MAP]')
    .description("load an object, attach its first program (iter/<target>) as an iterator and pin the link at PATH: `cat PATH` runs it")
    .action((args: string[], opts: JsonOpts) => {
      iterPin(args);
      quietUnderJson('', opts);
    });
}
