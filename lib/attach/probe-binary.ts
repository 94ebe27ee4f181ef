// Which file a uprobe goes into: a path as given, or a name resolved as libbpf does it: a library
// name ('libc.so.6': ends in .so or has .so. in it) through LD_LIBRARY_PATH, then /etc/ld.so.cache
// (what the dynamic loader itself uses), then the standard library directories; a program name
// ('bash') through PATH. A candidate must be an ELF of this process's class and machine, so a 32-bit
// or foreign-architecture copy of a library on a multilib system is passed over.
import { closeSync, openSync, readSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { AttachArgumentError } from './handle.js';

/** The binary of a uprobe is missing, not a regular file, not an ELF, or a name that resolves to nothing. */
export class ProbeBinaryError extends AttachArgumentError {
  /** the binary as given (path or name) */
  readonly binary: string;
  constructor(op: string, binary: string, why: string, options?: { cause?: unknown }) {
    super(op, `${binary}: ${why}`, options);
    this.binary = binary;
  }
}

const LD_SO_CACHE = '/etc/ld.so.cache';
const CACHE_MAGIC = 'glibc-ld.so.cache1.1';
/** flags & FLAG_TYPE_MASK of a glibc (ELF, libc6) entry */
const FLAG_ELF_LIBC6 = 0x0003;

const MULTIARCH: Partial<Record<string, string>> = {
  x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', riscv64: 'riscv64-linux-gnu', ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', loong64: 'loongarch64-linux-gnu',
};

/** A library name (searched in library directories) rather than a program name (searched in PATH). */
export function isLibraryName(name: string): boolean {
  return name.endsWith('.so') || name.includes('.so.');
}

/** The standard library directories, this architecture's multiarch ones first. */
export function libraryDirs(): string[] {
  const tuple = MULTIARCH[process.arch];
  return [...(tuple ? [`/lib/${tuple}`, `/usr/lib/${tuple}`] : []), '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
}

/**
 * The libraries /etc/ld.so.cache lists under `name` (glibc's "glibc-ld.so.cache1.1" format: a 48-byte
 * header, then 24-byte entries { s32 flags, u32 key, u32 value, u32 osversion, u64 hwcap }, key and
 * value being offsets of NUL-terminated strings from the start of the file). [] when the cache is
 * missing or in another format: the directories are searched then.
 */
export function ldCacheLookup(name: string, cache: Uint8Array | undefined = readCache()): string[] {
  if (!cache || cache.length < 48 || Buffer.from(cache.buffer, cache.byteOffset, 20).toString('latin1') !== CACHE_MAGIC) return [];
  const view = new DataView(cache.buffer, cache.byteOffset, cache.byteLength);
  const n = view.getUint32(20, true);
  const out: string[] = [];
  for (let i = 0; i < n && 48 + (i + 1) * 24 <= cache.length; i++) {
    const at = 48 + i * 24;
    if ((view.getInt32(at, true) & 0xff) !== FLAG_ELF_LIBC6) continue;
    if (cstr(cache, view.getUint32(at + 4, true)) !== name) continue;
    const path = cstr(cache, view.getUint32(at + 8, true));
    if (path) out.push(path);
  }
  return out;
}

function readCache(): Uint8Array | undefined {
  try {
    return readFileSync(LD_SO_CACHE);
  } catch {
    return undefined;
  }
}

function cstr(b: Uint8Array, at: number): string | undefined {
  if (at >= b.length) return undefined;
  const end = b.indexOf(0, at);
  return end < 0 ? undefined : Buffer.from(b.buffer, b.byteOffset + at, end - at).toString('utf8');
}

/** e_ident class and e_machine of a file ('' when it is no readable ELF). */
function elfKind(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(20);
    if (readSync(fd, b, 0, 20, 0) < 20 || b.readUInt32BE(0) !== 0x7f454c46) return '';
    return `${b[4]}:${b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18)}`;
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

let ownKind: string | undefined;

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of the uprobe's binary. A path (anything with a '/') must name a regular file; a
 * name is searched as the file comment says. ProbeBinaryError names what was looked at.
 */
export function resolveProbeBinary(op: string, binary: string): string {
  if (typeof binary !== 'string' || binary === '' || binary.includes('\0')) throw new AttachArgumentError(op, `binary must be a path or a file name, got ${JSON.stringify(binary)}`);
  if (binary.includes('/')) {
    const path = isAbsolute(binary) ? binary : resolve(binary);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      throw new ProbeBinaryError(op, binary, `no such file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
    if (!st.isFile()) throw new ProbeBinaryError(op, binary, 'is not a regular file');
    return path;
  }
  const looked: string[] = [];
  const candidates: string[] = [];
  const dirs = (v: string | undefined) => (v ?? '').split(':').filter((d) => d !== '');
  if (isLibraryName(binary)) {
    for (const d of dirs(process.env.LD_LIBRARY_PATH)) candidates.push(join(d, binary));
    candidates.push(...ldCacheLookup(binary));
    for (const d of libraryDirs()) candidates.push(join(d, binary));
    looked.push('LD_LIBRARY_PATH', LD_SO_CACHE, libraryDirs().join(':'));
  } else {
    for (const d of dirs(process.env.PATH)) candidates.push(join(d, binary));
    looked.push(`PATH (${process.env.PATH ?? ''})`);
  }
  ownKind ??= elfKind(process.execPath);
  for (const c of candidates) {
    if (!isAbsolute(c) || !isRegularFile(c)) continue;
    // a library must be loadable by a process like this one; a program in PATH may be anything
    if (isLibraryName(binary) && elfKind(c) !== ownKind) continue;
    return c;
  }
  throw new ProbeBinaryError(op, binary, `not found (looked in ${looked.join(', ')}); give a path instead`);
}
