// `tsbpf map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME
// [flags FLAGS] [inner_map MAP] [dev NAME]`, as bpftool 7.1's: the words in any order, a map without
// BTF pinned at FILE, nothing printed (null with -j). A refusal leaves nothing behind: the map is
// closed (and so gone) when its pin fails. Deliberate differences: a name longer than the kernel's
// 15 characters is refused (bpftool cuts it silently, and `map show name` then misses it); a FILE
// outside bpffs is an error (bpftool mounts a bpffs over the directory); map types newer than
// bpftool 7.1's (arena, …) are known.
import { BpfMap } from '../map/map.js';
import type { Fd } from '../syscall/fd.js';
import { BpfArgumentError, BpfError } from '../syscall/errors.js';
import { ERRNO, errnoMessage } from '../syscall/errno.js';
import { mapTypeNumber } from '../syscall/types.js';
import { interfaceIndex } from '../netlink/link.js';
import { CliError, keyword, openObject, pinAt, strtoul } from './bpf-objects.js';

interface CreateArgs {
  file: string;
  type?: number;
  name?: string;
  keySize?: number;
  valueSize?: number;
  maxEntries?: number;
  flags?: number;
  ifindex?: number;
  inner?: Fd;
}

/** parse_u32_arg: a number as strtoul reads it, given once. */
function u32(v: string, what: string, current: number | undefined): number {
  if (current !== undefined) throw new CliError(`${what} already specified`);
  const n = strtoul(v, 0);
  if (n === undefined || n > 0xffffffff) throw new CliError(`can't parse ${v} as ${what}`);
  return n;
}

/** The words after `map create`; an inner map named in them is opened (the caller closes `inner`). */
export function parseMapCreate(args: readonly string[]): CreateArgs {
  const [file, ...words] = args;
  if (file === undefined) throw new CliError('usage: tsbpf map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] [inner_map MAP] [dev NAME]');
  const a: CreateArgs = { file };
  try {
    while (words.length) {
      const word = words.shift()!;
      if (words.length === 0) throw new CliError(`expected a value after '${word}'`);
      if (keyword(word, 'type')) {
        if (a.type !== undefined) throw new CliError('map type already specified');
        const t = words.shift()!;
        const n = mapTypeNumber(t);
        if (!n) throw new CliError(`unrecognized map type: ${t}`);
        a.type = n;
      } else if (keyword(word, 'name')) {
        a.name = words.shift()!;
      } else if (keyword(word, 'key')) {
        a.keySize = u32(words.shift()!, 'key size', a.keySize);
      } else if (keyword(word, 'value')) {
        a.valueSize = u32(words.shift()!, 'value size', a.valueSize);
      } else if (keyword(word, 'entries')) {
        a.maxEntries = u32(words.shift()!, 'max entries', a.maxEntries);
      } else if (keyword(word, 'flags')) {
        a.flags = u32(words.shift()!, 'flags', a.flags);
      } else if (keyword(word, 'dev')) {
        if (a.ifindex !== undefined) throw new CliError('offload device already specified');
        const dev = words.shift()!;
        try {
          a.ifindex = interfaceIndex(dev);
        } catch (e) {
          throw new CliError(`unrecognized netdevice '${dev}': ${errnoMessage(ERRNO.ENODEV)}`, { cause: e }); // as if_nametoindex
        }
      } else if (keyword(word, 'inner_map')) {
        if (a.inner) throw new CliError('inner map already specified');
        const r = openObject('map', words);
        a.inner = r.fd;
        words.splice(0, words.length, ...r.rest);
      } else {
        throw new CliError(`unknown arg ${word}`);
      }
    }
    if (a.name === undefined) throw new CliError('map name not specified');
    // bpftool leaves the type UNSPEC for the kernel to refuse (EINVAL): say what is missing
    if (a.type === undefined) throw new CliError('map type not specified');
    return a;
  } catch (e) {
    a.inner?.close();
    throw e;
  }
}

/** `map create …`: create the map and pin it; on any failure nothing is left (no pin, no map). */
export function mapCreate(args: readonly string[], o: { json?: boolean }): string {
  const a = parseMapCreate(args);
  let m: BpfMap;
  try {
    // missing sizes are 0, as in bpftool: the kernel says what it thinks of them
    m = BpfMap.create({
      type: a.type!, keySize: a.keySize, valueSize: a.valueSize, maxEntries: a.maxEntries ?? 0,
      flags: a.flags, name: a.name, innerMap: a.inner, ifindex: a.ifindex,
    });
  } catch (e) {
    if (e instanceof BpfError) throw new CliError(`map create failed: ${errnoMessage(e.code)}`, { cause: e });
    if (e instanceof BpfArgumentError) throw new CliError(`map create failed: ${e.detail}`, { cause: e });
    throw e;
  } finally {
    a.inner?.close();
  }
  try {
    pinAt(m.fd.value, a.file);
  } finally {
    m.close(); // the pin holds the map; without one it goes with this fd
  }
  return o.json ? 'null\n' : '';
}
