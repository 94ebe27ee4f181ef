// The few facts about BTF types a codec needs, independent of how the BTF was parsed.
// lib/btf's types are turned into these by btf-source.ts; tests may build them by hand.

export interface CodecMember {
  /** '' for an anonymous struct/union member (its fields appear at the parent's level, as in C) */
  name: string;
  type: number;
  bitOffset: number;
  /** 0 unless the member is a bitfield */
  bitSize: number;
}

export type CodecType =
  | { kind: 'void' }
  | { kind: 'int'; name: string; size: number; signed: boolean; char: boolean; bool: boolean; bitOffset: number; bits: number }
  | { kind: 'ptr' }
  | { kind: 'array'; type: number; count: number }
  | { kind: 'struct' | 'union'; name: string; size: number; members: readonly CodecMember[] }
  | { kind: 'enum'; name: string; size: number; signed: boolean; values: readonly { name: string; value: number | bigint }[] }
  | { kind: 'float'; name: string; size: number }
  /** typedef, const, volatile, restrict, type_tag: skipped to `type` (`name`: a typedef's) */
  | { kind: 'alias'; type: number; name?: string }
  | { kind: 'other'; what: string };

/** Looks types up by id (0 is void). */
export interface CodecTypeSource {
  get(id: number): CodecType;
}

/**
 * The type behind typedefs and modifiers, at most 64 of them: `t` undefined (and `id` where the
 * walk stopped) for a longer chain, a loop in bad BTF.
 */
export function resolveAlias(src: CodecTypeSource, id: number): { id: number; t: CodecType | undefined } {
  for (let hops = 0; hops < 64; hops++) {
    const t = src.get(id);
    if (t.kind !== 'alias') return { id, t };
    id = t.type;
  }
  return { id, t: undefined };
}

/** A C character (resolved): a 1-byte integer BTF marks as char or that is named char. Arrays of them are text. */
export function isCharType(t: CodecType | undefined): boolean {
  return t !== undefined && t.kind === 'int' && t.size === 1 && (t.char || t.name === 'char');
}
