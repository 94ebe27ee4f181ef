// LinkAttachment: an attachment owned by a BPF link (TCX, XDP link, cgroup links, …). The link lives
// while its fd or a pin does: close() drops our fd (an unpinned link then detaches by itself, a pinned
// one stays); detach() ends the attachment now even if the link is pinned (LINK_DETACH).
import type { Fd } from '../syscall/fd.js';
import { linkDetach, linkUpdate } from '../syscall/link.js';
import { linkInfo, objPin } from '../syscall/obj.js';
import { BpfError } from '../syscall/errors.js';
import { Attachment, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';

export interface LinkAttachmentInfo extends AttachmentInfo {
  /** the kernel's link id (bpftool link show) */
  readonly linkId: number;
  readonly programId: number;
  readonly programName: string;
}

export class LinkAttachment<I extends LinkAttachmentInfo = LinkAttachmentInfo> extends Attachment<I> {
  readonly #fd: Fd;
  readonly #allowed: readonly number[];
  #pinned: string | undefined;

  /** Takes ownership of the link fd. `allowedTypes`: program types update() accepts. */
  constructor(info: I, fd: Fd, allowedTypes: readonly number[]) {
    super(info);
    this.#fd = fd;
    this.#allowed = allowedTypes;
  }

  /**
   * Own a fresh link fd (from linkCreate): reads the link's id for `info`, and closes the fd if
   * that fails, so a caller never holds a link it cannot describe.
   */
  static own<I extends LinkAttachmentInfo>(fd: Fd, allowedTypes: readonly number[], info: (linkId: number) => I): LinkAttachment<I> {
    return new LinkAttachment<I>(info(freshLinkId(fd)), fd, allowedTypes);
  }

  /** the link fd (e.g. as an anchor for TCX before/after) */
  get fd(): Fd {
    return this.#fd;
  }

  /** where pin() put it, if it did */
  get pinnedAt(): string | undefined {
    return this.#pinned;
  }

  /** Pin the link on bpffs: it then outlives this handle and the process (until the pin is removed). */
  pin(path: string): void {
    objPin(this.#fd.value, path);
    this.#pinned = path;
  }

  /** Swap the program atomically (LINK_UPDATE); the link, its position and its id stay. */
  update(program: AttachableProgram): void {
    const p = checkProgram('LinkAttachment.update', program, this.#allowed, `a ${this.info.kind} link`);
    linkUpdate(this.#fd.value, p.fd);
    Object.assign(this.info as object, { programId: p.id, programName: p.name });
  }

  /** The kernel's view of the link now (program id, ifindex, attach type). */
  query(): ReturnType<typeof linkInfo> {
    return linkInfo(this.#fd.value);
  }

  protected doDetach(): void {
    try {
      linkDetach(this.#fd.value);
    } catch (e) {
      // ENOLINK: already detached (its interface went away)
      if (!(e instanceof BpfError && e.code === 67)) throw e;
    }
  }

  protected override release(): void {
    this.#fd.close();
  }
}

/**
 * A fresh link's id (for its handle's info); the link fd is closed if the id cannot be read, so no
 * caller holds a link it cannot describe. For LinkAttachment.own and subclasses built directly.
 */
export function freshLinkId(link: Fd): number {
  try {
    return linkInfo(link.value).id;
  } catch (e) {
    link.close();
    throw e;
  }
}
