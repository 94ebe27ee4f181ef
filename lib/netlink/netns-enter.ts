// Another network namespace, entered by the calling thread for one synchronous step and left again.
//
// Namespaces belong to threads: setns(fd, CLONE_NEWNET) moves the calling thread only (Node's other
// threads stay where they are), and the kernel lets a multi-threaded process do it for a network
// namespace (it refuses user and mount namespaces there). What needs the other namespace is what the
// kernel resolves in the caller's: the namespace a new socket is made in (a netlink socket keeps it
// for good, whatever its thread does later), and the ifindex of a LINK_CREATE, PROG_ATTACH or
// PROG_QUERY (current->nsproxy->net_ns). So inNetns() enters, runs that one step and comes back,
// on every path: the original namespace is opened (/proc/thread-self/ns/net) before entering and
// set again in a finally, and checked. A thread that cannot come back is not left to go on quietly
// in the wrong namespace: NetnsReturnError is thrown, and every later netlink socket or namespace
// step of this thread (this module instance: a worker has its own) throws it again.
//
// What a namespace may be given as (NetnsRef):
//   'pod1'                 a bare name: /run/netns/pod1, as `ip -n pod1` reads it (no '/' in it)
//   '/run/netns/pod1'      a path to a namespace file: /proc/PID/ns/net, /proc/PID/task/TID/ns/net…
//   7 or an Fd             an open fd of one: borrowed for the call, never closed here
//   a Netns                one opened before (Netns.open), e.g. for several attaches in a row
// Anything else is a NetnsError before anything is attached: a missing file, a directory, FIFO or
// device (refused before it is opened), a file that is no namespace, another kind of namespace.
import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { errnoMessage, errnoName } from '../syscall/errno.js';
import { CLONE_NEWNET, setns } from '../syscall/setns.js';
import type { Fd } from '../syscall/fd.js';

/** Where `ip netns add NAME` puts its namespaces (iproute2's NETNS_RUN_DIR; /var/run is /run). */
export const NETNS_RUN_DIR = '/run/netns';

/** NS_GET_NSTYPE = _IO(0xb7, 0x3): the CLONE_NEW* kind of a namespace fd (kernel >= 4.11) */
const NS_GET_NSTYPE = 0xb703;
const NS_KINDS: Readonly<Record<number, string>> = {
  0x00020000: 'mount', 0x02000000: 'cgroup', 0x04000000: 'uts', 0x08000000: 'ipc', 0x10000000: 'user', 0x20000000: 'pid', [CLONE_NEWNET]: 'network', 0x00000080: 'time',
};

/** A network namespace as the attach functions take it (see the file comment). */
export type NetnsRef = string | number | Fd | Netns;

/** The namespace given cannot be used: not there, not a network namespace, not enterable. Nothing was attached. */
export class NetnsError extends TsbpfError {
  readonly op: string;
  /** the namespace as given, resolved: its path, or "fd N" */
  readonly netns: string;
  /** the errno name when a system call refused ('ENOENT', 'EPERM', …) */
  readonly errno?: string;
  constructor(op: string, netns: string, message: string, code?: number) {
    super(`${op}: network namespace ${netns} ${message}`);
    this.op = op;
    this.netns = netns;
    if (code !== undefined) this.errno = errnoName(code);
  }
}

/**
 * The calling thread entered a network namespace and could not return to its own. Fatal for the
 * thread: it stays in `netns`, so tsbpf refuses every later netlink socket and namespace step on it
 * (they would act in the wrong namespace); end the process (or the worker). `cause` is the error the
 * step inside threw, if it threw one.
 */
export class NetnsReturnError extends TsbpfError {
  readonly op: string;
  /** where the thread was left */
  readonly netns: string;
  constructor(op: string, netns: string, why: string, options?: { cause?: unknown }) {
    super(`${op}: this thread could not return from network namespace ${netns} to its own (${why}); it stays there, and tsbpf refuses further netlink and namespace steps on it: end the process or worker`, options);
    this.op = op;
    this.netns = netns;
  }
}

let stranded: NetnsReturnError | undefined;

/** Throws the NetnsReturnError that left this thread in another namespace, if one did. */
export function assertNotStranded(): void {
  if (stranded) throw stranded;
}

const describeErrno = (code: number): string => `${errnoName(code)}: ${errnoMessage(code)}`;

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** An open network namespace. Netns.open() validates what it is given; close() releases an fd it opened. */
export class Netns {
  /** the namespace's path (a bare name resolved under /run/netns), or "fd N" */
  readonly label: string;
  /** its inode (the number in `ip netns identify`'s /proc/…/ns/net link: net:[inode]) */
  readonly inode: number;
  readonly #dev: number;
  #fd: number;
  readonly #owned: boolean;

  private constructor(fd: number, owned: boolean, label: string, id: { ino: number; dev: number }) {
    this.#fd = fd;
    this.#owned = owned;
    this.label = label;
    this.inode = id.ino;
    this.#dev = id.dev;
  }

  /**
   * Open and check a network namespace (see NetnsRef). A Netns given is borrowed: the one returned
   * shares its fd, and closing it leaves the original open. `op` names the caller in errors.
   */
  static open(ref: NetnsRef, op = 'Netns.open'): Netns {
    if (ref instanceof Netns) {
      if (ref.closed) throw new NetnsError(op, ref.label, 'cannot be used: its Netns is closed');
      return new Netns(ref.#fd, false, ref.label, { ino: ref.inode, dev: ref.#dev });
    }
    if (typeof ref === 'string') return Netns.#openPath(ref, op);
    let fd: number;
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0 || ref > 0x7fffffff) throw new NetnsError(op, String(ref), 'cannot be: an fd is an integer 0 … 2147483647; give a path, a name under /run/netns, an fd or an Fd');
      fd = ref;
    } else if (ref !== null && typeof ref === 'object' && typeof (ref as Fd).closed === 'boolean') {
      if ((ref as Fd).closed) throw new NetnsError(op, 'Fd(closed)', 'cannot be used: the Fd is closed');
      fd = (ref as Fd).value;
    } else {
      throw new NetnsError(op, describe(ref), 'cannot be: give a path (/run/netns/NAME, /proc/PID/ns/net), a name under /run/netns, an open fd or an Fd');
    }
    const label = `fd ${fd}`;
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (e) {
      throw new NetnsError(op, label, `is not usable (fstat: ${codeText(e)})`, codeOf(e));
    }
    checkKind(op, fd, label, st);
    return new Netns(fd, false, label, st);
  }

  static #openPath(ref: string, op: string): Netns {
    if (ref === '') throw new NetnsError(op, '""', 'cannot be: give a path (/run/netns/NAME, /proc/PID/ns/net), a name under /run/netns, an open fd or an Fd');
    if (ref.includes('\0')) throw new NetnsError(op, JSON.stringify(ref), 'cannot be: a path holds no NUL byte');
    const bare = !ref.includes('/');
    const path = bare ? `${NETNS_RUN_DIR}/${ref}` : ref;
    // looked at before it is opened: opening a FIFO would block and a device may act on an open
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      const missing = codeOf(e) === 2 /* ENOENT */;
      throw new NetnsError(op, path, missing ? `does not exist${bare ? ` (no namespace named ${ref}: \`ip netns list\` shows them)` : ''}` : `cannot be looked at (${codeText(e)})`, codeOf(e));
    }
    if (!st.isFile()) throw new NetnsError(op, path, `is ${fileKind(st)}, not a network namespace`);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (e) {
      throw new NetnsError(op, path, `cannot be opened (${codeText(e)})`, codeOf(e));
    }
    try {
      const opened = fstatSync(fd);
      checkKind(op, fd, path, opened);
      return new Netns(fd, true, path, opened);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** the namespace fd (borrowed: valid until close()) */
  get fd(): number {
    if (this.#fd < 0) throw new NetnsError('Netns', this.label, 'is closed');
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** is this the namespace of `st` (a /proc/…/ns/net stat)? */
  sameAs(st: { ino: number; dev: number }): boolean {
    return st.ino === this.inode && st.dev === this.#dev;
  }

  /** Close the fd if this Netns opened it (a path); a borrowed fd stays open. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    if (this.#owned) closeSync(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `(an object: ${(v as object).constructor?.name ?? 'no class'})`;
  return `(${typeof v} ${String(v)})`;
}

const codeOf = (e: unknown): number | undefined => {
  const errno = (e as NodeJS.ErrnoException)?.errno;
  return typeof errno === 'number' ? Math.abs(errno) : undefined;
};
const codeText = (e: unknown): string => {
  const c = codeOf(e);
  return c !== undefined ? describeErrno(c) : String((e as Error)?.message ?? e);
};

let nsfs: number | undefined;

/** The device of nsfs (one superblock for every namespace file), or undefined without /proc. */
function nsfsDev(): number | undefined {
  if (nsfs === undefined) {
    try {
      nsfs = statSync('/proc/thread-self/ns/net').dev;
    } catch { /* no procfs: NS_GET_NSTYPE alone decides */ }
  }
  return nsfs;
}

/**
 * Throws unless fd (stat `st`) is a network namespace. Only a file on nsfs gets the NS_GET_NSTYPE
 * ioctl: on a device or a file of another filesystem the same number could mean something else.
 */
function checkKind(op: string, fd: number, label: string, st: Stats): void {
  const notNs = () => new NetnsError(op, label, `is not a namespace file (a namespace is /run/netns/NAME while \`ip netns\` holds it, or /proc/PID/ns/net)`, 25 /* ENOTTY */);
  if (!st.isFile()) throw new NetnsError(op, label, `is ${fileKind(st)}, not a network namespace`);
  const dev = nsfsDev();
  if (dev !== undefined && st.dev !== dev) throw notNs();
  const r = ffi().syscall3(SYS.ioctl, fd, NS_GET_NSTYPE, 0);
  if (r === CLONE_NEWNET) return;
  if (r === -25 /* ENOTTY */) throw notNs();
  if (r < 0) throw new NetnsError(op, label, `cannot be checked (NS_GET_NSTYPE: ${describeErrno(-r)})`, -r);
  throw new NetnsError(op, label, `is a ${NS_KINDS[r] ?? `0x${r.toString(16)}`} namespace, not a network namespace`);
}

/** " in network namespace /run/netns/pod1", or '' for the caller's own: for messages. */
export const inNetnsText = (ns: { label: string } | string | undefined): string =>
  ns === undefined ? '' : ` in network namespace ${typeof ns === 'string' ? ns : ns.label}`;

/** The calling thread's namespace, opened to come back to: its fd and identity. */
function openHome(op: string, target: string): { fd: number; st: Stats } {
  let fd: number | undefined;
  let why = '';
  // /proc/thread-self is kernel >= 3.17; /proc/self would be the main thread's, wrong in a worker
  for (const p of [() => '/proc/thread-self/ns/net', () => `/proc/self/task/${ffi().syscall3(SYS.gettid, 0, 0, 0)}/ns/net`]) {
    try {
      fd = openSync(p(), constants.O_RDONLY);
      break;
    } catch (e) {
      why = `${p()}: ${codeText(e)}`;
    }
  }
  if (fd === undefined) throw new NetnsError(op, target, `was not entered: this thread's own namespace cannot be opened to come back to (${why})`);
  try {
    return { fd, st: fstatSync(fd) };
  } catch (e) {
    closeSync(fd);
    throw new NetnsError(op, target, `was not entered: this thread's own namespace cannot be looked at (${codeText(e)})`, codeOf(e));
  }
}

let sysSetns: (fd: number, nstype: number) => number = setns;

/** @internal test seam: replace setns(2) (undefined: the real one). For tests that make the return fail in a child process. */
export function setSetnsForTesting(fn: ((fd: number, nstype: number) => number) | undefined): void {
  sysSetns = fn ?? setns;
}

/**
 * Run `fn` with the calling thread in `ns` (the caller's own namespace when undefined, or when `ns`
 * is it) and bring the thread back before returning or throwing. `fn` must be synchronous: nothing
 * it starts may go on after it returns. Throws NetnsError when the namespace cannot be entered
 * (EPERM: CAP_SYS_ADMIN is needed over it), NetnsReturnError when the thread cannot come back.
 */
export function inNetns<T>(ns: Netns | undefined, op: string, fn: () => T, discard?: (made: T) => void): T {
  assertNotStranded();
  if (!ns) return fn();
  const target = ns.fd;
  const home = openHome(op, ns.label);
  if (ns.sameAs(home.st)) {
    closeSync(home.fd);
    return fn();
  }
  const r = sysSetns(target, CLONE_NEWNET);
  if (r < 0) {
    closeSync(home.fd);
    const hint = r === -1 /* EPERM */ ? '; entering it takes CAP_SYS_ADMIN over it and over this one' : '';
    throw new NetnsError(op, ns.label, `cannot be entered (setns: ${describeErrno(-r)})${hint}`, -r);
  }
  let out: T;
  try {
    out = fn();
  } catch (e) {
    goHome(op, ns, home, e);
    throw e;
  }
  try {
    goHome(op, ns, home, undefined);
  } catch (e) {
    try { discard?.(out); } catch { /* the return failure is the error to report */ }
    throw e;
  }
  if (typeof (out as { then?: unknown } | undefined)?.then === 'function') {
    // its continuation runs later, with the thread back home: whatever it does would miss the namespace
    throw new NetnsError(op, ns.label, 'was entered for a step that returned a promise; only synchronous steps can run in it');
  }
  return out;
}

/** setns back to `home` and check that the thread is there; NetnsReturnError (kept for good) if not. */
function goHome(op: string, ns: Netns, home: { fd: number; st: Stats }, pending: unknown): void {
  let why: string | undefined;
  try {
    const r = sysSetns(home.fd, CLONE_NEWNET);
    if (r < 0) why = `setns: ${describeErrno(-r)}`;
  } finally {
    closeSync(home.fd);
  }
  if (why === undefined) {
    try {
      const now = statSync('/proc/thread-self/ns/net');
      if (now.ino !== home.st.ino || now.dev !== home.st.dev) why = `setns succeeded but the thread is in net:[${now.ino}], not net:[${home.st.ino}]`;
    } catch {
      // no thread-self (kernel < 3.17): setns said 0, which is the answer
    }
  }
  if (why === undefined) return;
  stranded = new NetnsReturnError(op, ns.label, why, pending === undefined ? undefined : { cause: pending });
  throw stranded;
}

/** Open `ref` (if given), run fn with it, close it again whatever fn does. */
export function usingNetns<T>(ref: NetnsRef | undefined, op: string, fn: (ns: Netns | undefined) => T): T {
  const ns = ref === undefined ? undefined : Netns.open(ref, op);
  try {
    return fn(ns);
  } finally {
    ns?.close();
  }
}
