// BpfProgram: a live BPF program owning its fd (from loadObject, a pin or an id).
import { Fd } from '../syscall/fd.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { ClosedError } from '../syscall/errors.js';
import { progTypeName, attachTypeName } from '../syscall/types.js';
import { testRun, type TestRunCtx, type TestRunCtxOut, type TestRunOptions, type TestRunResult } from './test-run.js';
import { progInfo, objPin, objGet, getFdById, type ProgInfo } from '../syscall/obj.js';

export interface ProgramDescription {
  name: string;
  type: number;
  /** expected attach type it was loaded with (0: none) */
  attachType?: number;
  /** the ELF section it came from ('' when not from an object) */
  section?: string;
  /** the attach target named in the section ('' when none) */
  attachTo?: string;
  /** the network device it was loaded bound to (loadObject's programs.<name>.interface) */
  boundTo?: BoundDevice;
}

/** The network device a program was loaded bound to (PROG_LOAD prog_ifindex with BPF_F_XDP_DEV_BOUND_ONLY). */
export interface BoundDevice {
  readonly ifindex: number;
  /** its name when the program was loaded */
  readonly interface: string;
  /** the network namespace it was looked up in, as given (its path, or "fd N"); absent: the loader's */
  readonly netns?: string;
}

export interface ProgramInfoResult extends ProgInfo {
  typeName: string;
  /**
   * the device the program was loaded bound to, as this process loaded it: the kernel reports
   * prog_info.ifindex for offloaded programs only, not for device-bound ones
   */
  boundTo?: BoundDevice;
}

export class BpfProgram {
  readonly fd: Fd;
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly attachType: number;
  readonly attachTypeName: string;
  readonly section: string;
  readonly attachTo: string;
  /**
   * the network device the program is bound to (it attaches only there, in native XDP mode), or
   * undefined; known for programs this process loaded, not for those taken from a pin or an id
   */
  readonly boundTo: BoundDevice | undefined;
  /** the verifier log when the program was loaded with a log level ('' otherwise) */
  readonly log: string;
  #id: number | undefined;

  constructor(fd: Fd, desc: ProgramDescription, log = '') {
    this.fd = fd;
    this.name = desc.name;
    this.type = desc.type;
    this.typeName = progTypeName(desc.type);
    this.attachType = desc.attachType ?? 0;
    this.attachTypeName = this.attachType ? attachTypeName(this.attachType) : '';
    this.section = desc.section ?? '';
    this.attachTo = desc.attachTo ?? '';
    this.boundTo = desc.boundTo;
    this.log = log;
  }

  /** Take ownership of an fd of a loaded program; name and type come from the kernel. */
  static fromFd(fd: Fd, what = `fd ${fd.value}`): BpfProgram {
    try {
      expectFdKind(fd.value, 'prog', what);
      const i = progInfo(fd.value);
      return new BpfProgram(fd, { name: i.name, type: i.type });
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  static fromPin(path: string): BpfProgram {
    return BpfProgram.fromFd(objGet(path), `pin ${path}`);
  }

  static fromId(id: number): BpfProgram {
    return BpfProgram.fromFd(getFdById('prog', id));
  }

  get closed(): boolean {
    return this.fd.closed;
  }

  /** The kernel's program id (stable for the program's life). */
  get id(): number {
    this.#id ??= this.info().id;
    return this.#id;
  }

  info(): ProgramInfoResult {
    const i = progInfo(this.#fd('OBJ_GET_INFO_BY_FD'));
    return { ...i, typeName: progTypeName(i.type), ...(this.boundTo ? { boundTo: this.boundTo } : {}) };
  }

  /** Pin at `path` on a bpffs mount. */
  pin(path: string): void {
    objPin(this.#fd('OBJ_PIN'), path);
  }

  /**
   * BPF_PROG_TEST_RUN: run the program in the kernel on `data` (a packet, from its Ethernet header)
   * and/or `ctx`, without attaching it anywhere, and return its verdict, its average run time, and
   * the packet and context as it left them.
   *
   * ```ts
   * const r = prog.testRun({ data: frame });                                  // XDP or TC
   * r.retval;  r.data;                                                        // XDP_TX (3), the rewritten frame
   * prog.testRun({ data: frame, ctx: { struct: '__sk_buff', mark: 7 } }).ctx.mark;
   * prog.testRun({ data: frame, repeat: 1_000_000 }).duration;                // ns per run
   * ```
   *
   * The options are checked before the syscall (TestRunArgumentError names the one that is wrong:
   * a packet under 14 bytes, a context field the kernel refuses, a flag of another program type, …);
   * a type without a test run (kprobe, tracepoint, …) is TestRunUnsupportedError. The output packet
   * has room for the largest one the program can make unless `dataSizeOut` says less, and then a
   * packet that does not fit is TestRunNoSpaceError with the size it needs. Other refusals are
   * TestRunError with what the errno means for this input. Nothing is left open.
   */
  testRun<C extends TestRunCtx = Uint8Array>(o: TestRunOptions<C> = {}): TestRunResult<TestRunCtxOut<C>> {
    return testRun({ fd: this.#fd('PROG_TEST_RUN'), type: this.type, attachType: this.attachType, name: this.name, boundTo: this.boundTo }, o);
  }

  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #fd(op: string): number {
    if (this.fd.closed) throw new ClosedError(`program ${this.name}${op ? ` (${op})` : ''}`);
    return this.fd.value;
  }
}
