// The root of every error tsbpf throws, so callers can tell ours from anything else.
// Specific families live with their concept: BpfError (lib/syscall), NetlinkError (lib/netlink),
// ParseError here because both pure readers (lib/elf, lib/btf) and the object stage share it.

export class TsbpfError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in the input a parse error was found; every field that is known is given. */
export interface ParseLocation {
  /** what was being read: 'elf', 'btf', 'btf.ext', 'object' */
  readonly format: string;
  /** byte offset into the file or section */
  readonly offset?: number;
  readonly section?: string;
  readonly typeId?: number;
}

/** Malformed input: truncated, out of range, inconsistent. Never a leaked RangeError. */
export class ParseError extends TsbpfError {
  readonly format: string;
  readonly offset?: number;
  readonly section?: string;
  readonly typeId?: number;
  constructor(message: string, where: ParseLocation, options?: { cause?: unknown }) {
    const at = [
      where.section !== undefined ? `section ${where.section}` : '',
      where.typeId !== undefined ? `type id ${where.typeId}` : '',
      where.offset !== undefined ? `offset ${where.offset} (0x${where.offset.toString(16)})` : '',
    ].filter(Boolean).join(', ');
    super(`${where.format}: ${message}${at ? ` at ${at}` : ''}`, options);
    this.format = where.format;
    this.offset = where.offset;
    this.section = where.section;
    this.typeId = where.typeId;
  }
}
