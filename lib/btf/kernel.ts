// The running kernel's BTF: /sys/kernel/btf/vmlinux and the modules' split BTF on top of it.
// Reading is one fstat and reads straight into a buffer of that size (sysfs hands out at most a page
// per read(2): 1,350 reads for vmlinux). Faster: a file mapper (mmap, Linux >= 6.16) that the public
// entry (lib/index.ts) installs from lib/syscall, so lib/btf itself never imports the FFI.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { Btf } from './btf.js';

export const KERNEL_BTF_DIR = '/sys/kernel/btf';

export class KernelBtfError extends TsbpfError {
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

export interface KernelBtfOptions {
  /** false: read the file again instead of returning the cached parse (default true) */
  readonly cache?: boolean;
  /** another vmlinux BTF file (default /sys/kernel/btf/vmlinux) */
  readonly path?: string;
}

const cached = new Map<string, Btf>();

/** Maps a whole file read-only, or returns undefined when it cannot (then the file is read). */
export type FileMapper = (path: string) => Uint8Array | undefined;
let mapper: FileMapper | undefined;

/** Install (or remove, with undefined) the zero-copy mapper used for kernel BTF files. */
export function setKernelBtfMapper(m: FileMapper | undefined): void {
  mapper = m;
}

/** A kernel BTF file's bytes: mapped when a mapper is installed and the kernel allows it, else read. */
function kernelFile(path: string): Uint8Array {
  return mapper?.(path) ?? readWholeFile(path);
}

/** Read a whole file with one fstat and as few reads as the file allows. */
export function readWholeFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KernelBtfError(`cannot open ${path}: ${code ?? String(e)}${code === 'ENOENT' ? ' (kernel without CONFIG_DEBUG_INFO_BTF?)' : ''}`, path, { cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.allocUnsafeSlow(size > 0 ? size : 1 << 16);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (size > 0) break; // the size fstat promised is read; sysfs BTF files do not grow
        const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return n === buf.length ? buf : buf.subarray(0, n);
  } catch (e) {
    if (e instanceof KernelBtfError) throw e;
    throw new KernelBtfError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/** The kernel's own BTF (/sys/kernel/btf/vmlinux), parsed once and cached unless `cache: false`. */
export function loadKernelBtf(opts: KernelBtfOptions = {}): Btf {
  const path = opts.path ?? `${KERNEL_BTF_DIR}/vmlinux`;
  if (opts.cache !== false) {
    const hit = cached.get(path);
    if (hit) return hit;
  }
  const btf = Btf.parse(kernelFile(path));
  if (opts.cache !== false) cached.set(path, btf);
  return btf;
}

/** A module's split BTF (/sys/kernel/btf/<module>) on top of the kernel's. */
export function loadModuleBtf(module: string, opts: KernelBtfOptions = {}): Btf {
  if (!/^[\w-]+$/.test(module)) throw new KernelBtfError(`bad module name '${module}'`, module);
  const base = loadKernelBtf(opts);
  const path = `${KERNEL_BTF_DIR}/${module}`;
  return Btf.parse(kernelFile(path), { base });
}
