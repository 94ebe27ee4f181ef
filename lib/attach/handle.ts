// The handle every attach function returns, whatever the hook (TC, XDP, TCX, cgroup, …):
//
//   const a = attachTc({ program, interface: 'eth0', direction: 'ingress' });
//   a.info;        // plain data: kind, interface, program id, what the kernel chose (priority, mode…)
//   a.detach();    // undo the attachment now (idempotent); Symbol.dispose does the same. When the
//                  // kernel refuses, detach() throws and the handle stays attached (retry, or close())
//   a.close();     // let go of the handle's fds WITHOUT detaching: netlink attachments and pinned
//                  // links stay in the kernel, unpinned links go with their last fd
//
// A new hook kind subclasses Attachment and implements doDetach() (and release() when it holds fds).
// attachAll() makes several attachments one step: if one fails, those already made are detached in
// reverse order and the first error is thrown — nothing is left half-attached.
import { TsbpfError } from '../errors.js';
import type { Fd } from '../syscall/fd.js';
import { progInfo } from '../syscall/obj.js';
import { progTypeName } from '../syscall/types.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { BpfArgumentError } from '../syscall/errors.js';

/** What attach functions accept as a program: a BpfProgram, or anything with its fd, name and type. */
export interface AttachableProgram {
  readonly fd: Fd;
  readonly name: string;
  /** BPF_PROG_TYPE_*; informative only: the hook is checked against the type the kernel reports for fd */
  readonly type?: number;
  /** the device it was loaded bound to (BpfProgram.boundTo): for the messages of XDP attach refusals */
  readonly boundTo?: { readonly ifindex: number; readonly interface: string; readonly netns?: string };
}

/** A wrong argument caught before the kernel was asked: wrong program type, bad priority, bad anchor. */
export class AttachArgumentError extends TsbpfError {
  readonly op: string;
  constructor(op: string, message: string, options?: { cause?: unknown }) {
    super(`${op}: ${message}`, options);
    this.op = op;
  }
}

export interface AttachmentInfo {
  /** 'tc', 'xdp', 'tcx', 'xdp-link', 'group', … */
  readonly kind: string;
  readonly programId?: number;
  readonly programName?: string;
}

export abstract class Attachment<I extends AttachmentInfo = AttachmentInfo> {
  readonly info: I;
  #state: 'attached' | 'detached' | 'closed' = 'attached';

  protected constructor(info: I) {
    this.info = info;
  }

  /** true once detach() (or dispose) ran */
  get detached(): boolean {
    return this.#state === 'detached';
  }

  /** true once the handle let go of its resources (after detach() or close()) */
  get closed(): boolean {
    return this.#state !== 'attached';
  }

  /**
   * Remove the attachment from the kernel and release the handle's fds. Idempotent. If the kernel
   * refuses, the error is thrown and the handle stays attached with its fds: detach() can be tried
   * again, or close() lets go and leaves the attachment where it is.
   */
  detach(): void {
    if (this.#state !== 'attached') return;
    this.doDetach();
    this.#state = 'detached';
    this.release();
  }

  /** Release the handle's fds and keep the attachment (see the file comment for what survives). */
  close(): void {
    if (this.#state !== 'attached') return;
    this.#state = 'closed';
    this.release();
  }

  [Symbol.dispose](): void {
    this.detach();
  }

  protected abstract doDetach(): void;

  /** Free fds and sockets; called once, after doDetach() or from close(). */
  protected release(): void {}
}

/** Several attachments as one: detach() undoes them in reverse order. */
export class AttachmentGroup extends Attachment<AttachmentInfo & { readonly kind: 'group'; readonly members: readonly Attachment[] }> {
  constructor(members: readonly Attachment[]) {
    super({ kind: 'group', members });
  }

  protected doDetach(): void {
    detachAll(this.info.members, 'AttachmentGroup.detach');
  }

  protected override release(): void {
    for (const m of this.info.members) m.close();
  }
}

/** Detach in reverse order, trying every one; throws the first failure with the others as cause. */
function detachAll(members: readonly Attachment[], op: string): void {
  const errors: unknown[] = [];
  for (const m of [...members].reverse()) {
    try {
      m.detach();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${op}: ${errors.length} detaches failed`);
}

/**
 * Run attach steps in order as one step. When a step throws, the attachments already made are
 * detached (newest first) and the step's error is rethrown; a rollback failure is attached to it
 * as `rollbackErrors` (and the handle that could not detach is closed: nobody else holds it).
 */
export function attachAll(steps: ReadonlyArray<() => Attachment>): AttachmentGroup {
  const made: Attachment[] = [];
  for (const step of steps) {
    try {
      made.push(step());
    } catch (e) {
      try {
        detachAll(made, 'attachAll rollback');
      } catch (rb) {
        if (e instanceof Error) Object.assign(e, { rollbackErrors: rb instanceof AggregateError ? rb.errors : [rb] });
        for (const m of made) m.close();
      }
      throw e;
    }
  }
  return new AttachmentGroup(made);
}

/**
 * The program's kernel id and name, and a type check against what the hook accepts. The fd must be a
 * bpf program (a map's or a link's fd would answer OBJ_GET_INFO_BY_FD with another struct read as a
 * prog_info), and the type checked is the one the kernel reports, whatever `type` the caller claims.
 */
export function checkProgram(op: string, p: AttachableProgram, allowed: readonly number[], hook: string): { id: number; name: string; fd: number } {
  if (!p || typeof p !== 'object' || !p.fd || typeof p.fd !== 'object' || typeof p.fd.closed !== 'boolean') {
    throw new AttachArgumentError(op, 'program must be a loaded program (BpfProgram or { fd, name, type })');
  }
  const label = `program${p.name ? ` ${p.name}` : ''}`;
  if (p.fd.closed) throw new AttachArgumentError(op, `${label} is closed`);
  const fd = p.fd.value;
  try {
    expectFdKind(fd, 'prog', label);
  } catch (e) {
    if (!(e instanceof BpfArgumentError)) throw e;
    throw new AttachArgumentError(op, e.detail, { cause: e });
  }
  const info = progInfo(fd);
  if (!allowed.includes(info.type)) {
    const claimed = p.type !== undefined && p.type !== info.type ? ` (not ${progTypeName(p.type)} as given)` : '';
    throw new AttachArgumentError(op, `${label} is of type ${progTypeName(info.type)}${claimed}; ${hook} takes ${allowed.map(progTypeName).join(' or ')}`);
  }
  return { id: info.id, name: p.name || info.name, fd };
}
