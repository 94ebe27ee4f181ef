// `tsbpf gen types OBJ [--strings] [--enum-names] [-o FILE]`: the TypeScript module declaring what
// the object's maps and global data decode to (lib/codec/ts-types.ts), as bpf2go or `bpftool gen
// skeleton` give Go and C. Reads the file only; no kernel access.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readObject } from '../object/read.js';
import { generateTypes } from '../codec/ts-types.js';

interface GenTypesOpts {
  strings?: boolean;
  enumNames?: boolean;
  output?: string;
}

export function registerGen(program: Command): void {
  const gen = program.command('gen').description('generate code from BPF object files (no kernel access)');
  gen.command('types')
    .argument('<object>', 'a clang-built BPF object (.o)')
    .description('print a TypeScript module declaring the keys and values of the object\'s maps and its global variables, as tsbpf decodes them')
    .option('--strings', 'char arrays as strings (loadObject\'s typedMaps.strings)')
    .option('--enum-names', 'enums as their enumerator names (loadObject\'s typedMaps.enumNames)')
    .option('-o, --output <file>', 'write the module to FILE instead of stdout')
    .action((file: string, opts: GenTypesOpts) => {
      const text = generateTypes(readObject(file), { strings: opts.strings, enumNames: opts.enumNames, from: basename(file) });
      if (opts.output === undefined) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(opts.output, text);
      } catch (e) {
        throw new Error(`cannot write ${opts.output}: ${(e as Error).message}`, { cause: e });
      }
    });
}
