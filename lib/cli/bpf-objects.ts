// What `prog show`, `map show` and `map dump` share with bpftool: naming an object on the command
// line (`id N` | `pinned PATH` | `name NAME` | `tag TAG`), its /proc fdinfo lines (memlock, frozen,
// owner_prog_type), the pins of every mounted bpffs (-f), and load times as wall-clock time.
import { existsSync, opendirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TsbpfError } from '../errors.js';
import { Fd } from '../syscall/fd.js';
import { allIds, getFdById, linkInfo, mapInfo, objGet, objPin, progInfo, progMainFuncTypeId, type ProgInfo } from '../syscall/obj.js';
import { btfById } from '../export/map-btf.js';
import type { JsonWriter } from './json-writer.js';
import { fdKind } from '../syscall/fd-kind.js';
import { IdTable } from './libbpf-hashmap.js';

export { fdKind };
import { BpfArgumentError, BpfError } from '../syscall/errors.js';
import { ERRNO, errnoMessage } from '../syscall/errno.js';
import { checkPinRoot } from '../object/pin.js';
import { endianness } from 'node:os';
import { ffi } from '../syscall/backend.js';
import { scratch } from '../syscall/memory.js';
import { SYS } from '../syscall/numbers.js';

/** A command-line mistake or a missing object: printed as one `Error:` line, exit status 1. */
export class CliError extends TsbpfError {}

export type ObjectKind = 'map' | 'prog';

/** The name of program `id` as `net show` and `cgroup show` print it; '' when it is gone or unreadable. */
export function progName(id: number): string {
  try {
    const fd = getFdById('prog', id);
    try {
      return progInfo(fd.value).name;
    } finally {
      fd.close();
    }
  } catch {
    return '';
  }
}

/** bpftool's keyword matching: any non-empty prefix of the word ("pin" for "pinned"). */
export function keyword(arg: string | undefined, word: string): boolean {
  return arg !== undefined && arg.length > 0 && word.startsWith(arg);
}

/** /proc/self/fdinfo/<fd> as key → value ("memlock" → "4096"). */
export function fdinfo(fd: number): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) out.set(line.slice(0, i), line.slice(i + 1).trim());
    }
  } catch { /* no fdinfo: fields stay absent, as with bpftool */ }
  return out;
}

function errnoText(e: unknown): string {
  return e instanceof BpfError ? errnoMessage(e.code) : (e as Error).message;
}

/** How `id N`, `pinned PATH`, `name NAME` (and `tag TAG`) name objects, in bpftool's words. */
const HANDLES = { map: "'id', 'name' or 'pinned'", prog: "'id', 'tag', 'name' or 'pinned'" } as const;
const KIND_WORD = { map: ['map', 'maps'], prog: ['program', 'programs'] } as const;

/**
 * bpftool's map_parse_fds / prog_parse_fds: `id N`, `pinned PATH`, `name NAME` (programs also
 * `tag TAG`) at the head of `args` → owned fds and the remaining args. A name or tag may match
 * several objects or none; `what` says how they were named ("name conns"). Messages are bpftool's.
 */
export function openObjects(kind: ObjectKind, args: readonly string[]): { fds: Fd[]; rest: string[]; what: string } {
  const [how, arg, ...rest] = args;
  const value = (): string => {
    if (arg === undefined) throw new CliError(`expected a value after '${how}'`);
    return arg;
  };
  if (keyword(how, 'id')) {
    const id = strtoul(value(), 0);
    if (id === undefined || id > 0xffffffff) throw new CliError(`can't parse ${arg} as ID`);
    // bpftool's words: "get map by id", and "get by id" for programs
    const fd = refused(`get ${kind === 'map' ? 'map ' : ''}by id (${id})`, () => getFdById(kind, id));
    return { fds: [fd], rest, what: `id ${id}` };
  }
  if (keyword(how, 'pinned')) return { fds: [openPinned(kind, value())], rest, what: `pinned ${arg}` };
  if (keyword(how, 'name')) {
    const name = value();
    // map names are the kernel's (15 characters); program names are matched in full (from BTF), up to 127
    if (name.length > (kind === 'map' ? 15 : 127)) throw new CliError("can't parse name");
    const named = kind === 'map' ? (fd: number) => mapInfo(fd).name === name : (fd: number) => progFullName(fd, progInfo(fd)) === name;
    return { fds: matching(kind, named), rest, what: `name ${name}` };
  }
  if (kind === 'prog' && keyword(how, 'tag')) {
    const tag = value().toLowerCase();
    if (!/^[0-9a-f]{16}$/.test(tag)) throw new CliError("can't parse tag");
    return { fds: matching(kind, (fd) => progInfo(fd).tag === tag), rest, what: `tag ${tag}` };
  }
  throw new CliError(`expected ${HANDLES[kind]}, got: '${how ?? ''}'?`); // the '?' is bpftool's
}

/** OBJ_GET of a pin that must hold a `kind`. */
function openPinned(kind: ObjectKind, path: string): Fd {
  let fd: Fd;
  try {
    fd = objGet(path);
  } catch (e) {
    throw new CliError(`bpf obj get (${path}): ${errnoText(e)}`, { cause: e });
  }
  const got = fdKind(fd.value);
  if (got !== kind) {
    fd.close();
    // bpftool's words, then which pin it was
    throw new CliError(`incorrect object type: ${got} (${path} is a pinned ${got}, not a ${kind})`);
  }
  return fd;
}

/** Every live object of the kind `test` accepts, in id order; objects gone meanwhile are skipped. */
function matching(kind: ObjectKind, test: (fd: number) => boolean): Fd[] {
  const out: Fd[] = [];
  try {
    for (const fd of liveObjects(kind)) {
      let keep = false;
      try {
        keep = test(fd.value);
      } finally {
        if (keep) out.push(fd);
        else fd.close();
      }
    }
    return out;
  } catch (e) {
    for (const fd of out) fd.close();
    throw e;
  }
}

/** An owned fd of every live object of a kind, in id order; objects gone since listed are skipped. The caller closes each. */
export function* liveObjects(kind: ObjectKind | 'btf' | 'link'): Generator<Fd> {
  for (const id of allIds(kind)) {
    try {
      yield getFdById(kind, id);
    } catch (e) {
      if (e instanceof BpfError && e.errno === 'ENOENT') continue;
      throw e;
    }
  }
}

/**
 * The one object the leading words name (bpftool's map_parse_fd / prog_parse_fd). A name or tag
 * matching several is refused as bpftool refuses it; matching none is an error that says so
 * (bpftool fails without a word).
 */
export function openObject(kind: ObjectKind, args: readonly string[]): { fd: Fd; rest: string[] } {
  const { fds, rest, what } = openObjects(kind, args);
  if (fds.length === 1) return { fd: fds[0], rest };
  for (const fd of fds) fd.close();
  if (fds.length === 0) throw new CliError(`no ${KIND_WORD[kind][0]} matches ${what}`);
  throw new CliError(`several ${KIND_WORD[kind][1]} match this handle`);
}

/** bpftool's get_prog_full_name: a name the kernel cut at 15 characters, in full from the program's BTF. */
export function progFullName(fd: number, i: ProgInfo): string {
  if (i.name.length < 15 || !i.btfId) return i.name;
  try {
    const id = progMainFuncTypeId(fd);
    if (id === undefined) return i.name;
    const t = btfById(i.btfId).type(id);
    return t.kind === 'func' ? t.name : i.name;
  } catch {
    return i.name;
  }
}

/**
 * Pins of every mounted bpffs (bpftool -f): object id → paths. Walked in directory order like
 * nftw; the paths of one id come out in the order of bpftool's hashmap.
 */
export function pinnedPaths(kind: ObjectKind | 'link'): IdTable<string> {
  const table = new IdTable<string>();
  let mounts: string[] = [];
  try {
    mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[2]?.startsWith('bpf')).map((f) => unescapeMount(f[1]));
  } catch { /* no /proc/mounts: no pins */ }
  const visit = (path: string) => {
    let fd: Fd;
    try {
      fd = objGet(path);
    } catch {
      return;
    }
    try {
      if (fdKind(fd.value) !== kind) return;
      const id = kind === 'map' ? mapInfo(fd.value).id : kind === 'prog' ? progInfo(fd.value).id : linkInfo(fd.value).id;
      table.append(id, path);
    } catch { /* info refused: skip, as bpftool */ } finally {
      fd.close();
    }
  };
  const walk = (dir: string) => {
    let d;
    try {
      d = opendirSync(dir);
    } catch {
      return;
    }
    try {
      for (let e = d.readSync(); e; e = d.readSync()) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) visit(p);
      }
    } finally {
      d.closeSync();
    }
  };
  for (const m of mounts) walk(m);
  return table;
}

/** /proc/mounts escapes space, tab, newline and backslash as \ooo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Seconds since the epoch of a CLOCK_BOOTTIME timestamp in ns (bpftool's print_boot_time). */
export function bootTimeSeconds(ns: bigint): number {
  // bpftool's arithmetic on CLOCK_REALTIME and CLOCK_BOOTTIME, to the nanosecond: /proc/uptime
  // (10 ms) put a program loaded near a second boundary one second off bpftool's now and then
  const real = clockNs(CLOCK_REALTIME);
  const boot = clockNs(CLOCK_BOOTTIME);
  if (real === undefined || boot === undefined) {
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Math.floor(Date.now() / 1000 - uptime + Number(ns) / 1e9);
  }
  const sec = (t: bigint) => t / 1_000_000_000n;
  const nsec = (t: bigint) => t % 1_000_000_000n;
  return Number(sec(real) - sec(boot) + (nsec(real) - nsec(boot) + ns) / 1_000_000_000n);
}

const CLOCK_REALTIME = 0;
const CLOCK_BOOTTIME = 7;

/** clock_gettime(clock) in nanoseconds; undefined when the call fails. */
function clockNs(clock: number): bigint | undefined {
  const buf = scratch().alloc(16);
  if (ffi().syscall3(SYS.clock_gettime, clock, buf.address, 0) < 0) return undefined;
  const le = endianness() === 'LE'; // struct timespec in the host's byte order
  return buf.view.getBigInt64(0, le) * 1_000_000_000n + buf.view.getBigInt64(8, le);
}

/** strftime("%FT%T%z") in local time. */
export function localIsoTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

/** fprint_hex: two hex digits per byte, `sep` between, a double space every 8 and a new line every 16. */
export function hexBytes(b: Uint8Array, sep = ' '): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    if (i) s += i % 16 === 0 ? '\n' : i % 8 === 0 ? '  ' : sep;
    s += b[i].toString(16).padStart(2, '0');
  }
  return s;
}

/**
 * `show` of one object (`id N` / `pinned PATH` in args) or of every object of the kind in id order
 * (a JSON array then); objects gone between listing and opening are skipped. `one` owns the fd.
 */
export function showEach(kind: ObjectKind, args: readonly string[], w: JsonWriter, json: boolean, one: (fd: Fd) => void): void {
  if (args.length) {
    const { fds, rest, what } = openObjects(kind, args);
    if (rest.length || fds.length === 0) {
      for (const fd of fds) fd.close();
      throw new CliError(rest.length ? `unexpected arguments: ${rest.join(' ')}` : `no ${KIND_WORD[kind][0]} matches ${what}`);
    }
    // several objects of one name or tag are a JSON array, as in bpftool's do_show_subset; one is a bare object
    const array = json && fds.length > 1;
    if (array) w.startArray();
    for (let i = 0; i < fds.length; i++) {
      try {
        one(fds[i]);
      } catch (e) {
        for (const rest of fds.slice(i + 1)) rest.close();
        throw e;
      }
    }
    if (array) w.endArray();
    return;
  }
  if (json) w.startArray();
  for (const fd of liveObjects(kind)) one(fd);
  if (json) w.endArray();
}

/** strtoul with base 0 (0x…, 0… octal, decimal) or 16, as bpftool reads numbers: the whole argument or undefined. */
export function strtoul(a: string, base: 0 | 16): number | undefined {
  const s = a.trim();
  let m: RegExpExecArray | null;
  if (base === 16) return (m = /^(?:0x)?([0-9a-f]+)$/i.exec(s)) ? parseInt(m[1], 16) : undefined;
  if ((m = /^0x([0-9a-f]+)$/i.exec(s))) return parseInt(m[1], 16);
  if (/^0[0-7]*$/.test(s)) return parseInt(s, 8);
  if (/^[1-9][0-9]*$/.test(s)) return parseInt(s, 10);
  return undefined;
}

/** A number argument (`id N`, `prio N`) read as strtoul does, at most `max`; CliError naming it otherwise. */
export function numberArg(w: string | undefined, what: string, max = 0xffffffff): number {
  const n = w === undefined ? undefined : strtoul(w, 0);
  if (n === undefined || n > max) throw new CliError(`${what} needs a number${max < 0xffffffff ? ` up to ${max}` : ''}, got ${w === undefined ? 'nothing' : `"${w}"`}`);
  return n;
}

/** A kernel refusal in bpftool's words: `what: <strerror>`. */
export function refused<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BpfError) throw new CliError(`${what}: ${errnoMessage(err.code)}`, { cause: err });
    throw err;
  }
}

/** OBJ_PIN with bpftool's words for a refusal: `can't pin the object (PATH): <strerror>` (or why not: not bpffs, …). */
export function pinAt(fd: number, path: string): void {
  const what = `can't pin the object (${path})`;
  try {
    refused(what, () => objPin(fd, path));
  } catch (e) {
    if (e instanceof BpfArgumentError) throw new CliError(`${what}: ${e.detail}`, { cause: e });
    throw e;
  }
}

/**
 * A path a command is about to pin at, checked before it loads or attaches anything (bpftool finds
 * these after): its directory exists on a bpffs and nothing is pinned there yet.
 */
export function checkNewPin(path: string): void {
  const what = `can't pin the object (${path})`;
  if (!existsSync(dirname(path))) throw new CliError(`${what}: directory ${dirname(path)} does not exist`);
  try {
    checkPinRoot(dirname(path));
  } catch (e) {
    if (e instanceof BpfArgumentError) throw new CliError(`${what}: ${e.detail}`, { cause: e });
    throw e;
  }
  if (existsSync(path)) throw new CliError(`${what}: ${errnoMessage(ERRNO.EEXIST)}`);
}

/** `map pin (id N | pinned P) FILE` and `prog pin …`: one more pin of the object. */
export function pinObject(kind: ObjectKind, args: readonly string[], o: { json?: boolean }): string {
  return pinOpened(openObject(kind, args), o);
}

/** The rest of a `… pin` command once its object is open: FILE is the one word left. Closes the fd. */
export function pinOpened({ fd, rest }: { fd: Fd; rest: readonly string[] }, o: { json?: boolean }): string {
  try {
    if (rest.length !== 1) throw new CliError(rest.length ? `unexpected arguments: ${rest.slice(1).join(' ')}` : 'a path to pin at is required');
    pinAt(fd.value, rest[0]);
    return o.json ? 'null\n' : '';
  } finally {
    fd.close();
  }
}
