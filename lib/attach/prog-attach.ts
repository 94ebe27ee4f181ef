// ProgAttachment: an attachment made with the legacy PROG_ATTACH command (cgroups without links,
// sockmap/sockhash). The kernel keeps it until PROG_DETACH names the same target, attach type and
// program, so the handle owns duplicates of the target fd (cgroup directory, map) and of the program
// fd: detach() then reaches the right objects even after the caller closed theirs (an fd number can be
// reused for something else). close() lets the fds go and leaves the program attached.
import type { Fd } from '../syscall/fd.js';
import { progDetach, progQuery } from '../syscall/prog.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { Attachment, type AttachmentInfo } from './handle.js';

export interface ProgAttachmentInfo extends AttachmentInfo {
  readonly programId: number;
  readonly programName: string;
  /** BPF_ATTACH_TYPE_* number and its name ('cgroup_inet_egress', 'sk_msg_verdict', …) */
  readonly attachType: number;
  readonly attachTypeName: string;
  /** 'link' (a BPF link owns it) or 'attach' (PROG_ATTACH, this handle) */
  readonly mode: 'link' | 'attach';
}

export class ProgAttachment<I extends ProgAttachmentInfo = ProgAttachmentInfo> extends Attachment<I> {
  readonly #target: Fd;
  readonly #prog: Fd;

  /** Takes ownership of `target` and `prog` (duplicates made by the attach function). */
  constructor(info: I, target: Fd, prog: Fd) {
    super(info);
    this.#target = target;
    this.#prog = prog;
  }

  protected doDetach(): void {
    // an exclusive or override cgroup hook holds one program, and PROG_DETACH there removes
    // whichever it is: once another took ours' place, detaching would remove theirs
    if (this.info.kind === 'cgroup' && !this.#attachedHere()) return;
    try {
      progDetach({ targetFd: this.#target.value, progFd: this.#prog.value, attachType: this.info.attachType });
    } catch (e) {
      // ENOENT: someone else detached it already (bpftool cgroup detach, a replacing program);
      // EBUSY at a sockmap hook: a BPF link holds it now, which took our program's place
      if (e instanceof BpfError && (e.code === ERRNO.ENOENT || (e.code === ERRNO.EBUSY && this.info.kind === 'sockmap'))) return;
      throw e;
    }
  }

  /** Is this handle's program among those at its hook (true when that cannot be told)? */
  #attachedHere(): boolean {
    try {
      return progQuery({ targetFd: this.#target.value, attachType: this.info.attachType }).progIds.includes(this.info.programId);
    } catch {
      return true;
    }
  }

  protected override release(): void {
    this.#target.close();
    this.#prog.close();
  }
}
