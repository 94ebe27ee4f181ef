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
