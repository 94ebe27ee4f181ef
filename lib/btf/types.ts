// The BTF type model shared by the parser, the encoder, the formatters, the loader, CO-RE and the
// codecs: one plain object per type, shaped after linux/btf.h with kind_flag already interpreted
// (bitfield member offsets, enum signedness, forward-declared unions, decl tag component index).

/** BTF_KIND_* values (linux/btf.h). */
export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** Kind names as bpftool prints them (upper-case there: INT, STRUCT, …). */
export type BtfKindName =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef'
  | 'volatile' | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec' | 'float'
  | 'decl_tag' | 'type_tag' | 'enum64';

/** BTF_FUNC_* / BTF_VAR_* linkage. */
export const BTF_LINKAGE = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

interface Named {
  /** type id (0 is void) */
  readonly id: number;
  /** '' when anonymous */
  readonly name: string;
}

export interface BtfVoid extends Named { readonly kind: 'void' }

export interface BtfInt extends Named {
  readonly kind: 'int';
  readonly size: number;
  /** BTF_INT_OFFSET: bit offset of the value within its storage (0 in practice) */
  readonly bitOffset: number;
  /** BTF_INT_BITS */
  readonly bits: number;
  /** BTF_INT_ENCODING */
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
}

/** ptr, typedef and the qualifiers: a name (typedef) and the type referred to. */
export interface BtfRef extends Named {
  readonly kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  readonly type: number;
  /**
   * type_tag only: kind_flag set, the tag is a plain C `__attribute__((name))` rather than a
   * btf_type_tag (kernel 6.14; this kernel's vmlinux has one: 'address_space(1)'). Absent = false.
   */
  readonly attribute?: boolean;
}

export interface BtfArray extends Named {
  readonly kind: 'array';
  /** element type */
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}

export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** bit offset from the start of the struct */
  readonly bitOffset: number;
  /** 0 unless a bitfield (kind_flag set and a non-zero size) */
  readonly bitfieldSize: number;
}

export interface BtfComposite extends Named {
  readonly kind: 'struct' | 'union';
  readonly size: number;
  /** kind_flag: members carry bitfield sizes in their offsets */
  readonly kindFlag: boolean;
  readonly members: readonly BtfMember[];
}

export interface BtfEnum extends Named {
  readonly kind: 'enum';
  /** 1, 2, 4 (or 8 from old encoders) */
  readonly size: number;
  /** kind_flag */
  readonly signed: boolean;
  /** values already interpreted as signed or unsigned 32-bit */
  readonly values: readonly { readonly name: string; readonly value: number }[];
}

export interface BtfEnum64 extends Named {
  readonly kind: 'enum64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}

export interface BtfFwd extends Named {
  readonly kind: 'fwd';
  /** kind_flag: a forward-declared union (else struct) */
  readonly union: boolean;
}

export interface BtfFunc extends Named {
  readonly kind: 'func';
  /** the FUNC_PROTO */
  readonly type: number;
  /** BTF_LINKAGE */
  readonly linkage: number;
}

export interface BtfParam {
  /** '' for unnamed; a variadic `...` is the last param with name '' and type 0 */
  readonly name: string;
  readonly type: number;
}

export interface BtfFuncProto extends Named {
  readonly kind: 'func_proto';
  readonly returnType: number;
  readonly params: readonly BtfParam[];
}

export interface BtfVar extends Named {
  readonly kind: 'var';
  readonly type: number;
  /** BTF_LINKAGE (static, global allocated, extern) */
  readonly linkage: number;
}

export interface BtfVarSecinfo {
  /** the VAR (or FUNC for extern ksym functions) */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

export interface BtfDatasec extends Named {
  readonly kind: 'datasec';
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}

export interface BtfFloat extends Named {
  readonly kind: 'float';
  readonly size: number;
}

export interface BtfDeclTag extends Named {
  readonly kind: 'decl_tag';
  readonly type: number;
  /** -1: the tag is on the type itself; else the member or parameter index */
  readonly componentIdx: number;
  /** kind_flag set: a plain C `__attribute__((name))` rather than a btf_decl_tag (6.14). Absent = false. */
  readonly attribute?: boolean;
}

export type BtfType =
  | BtfVoid | BtfInt | BtfRef | BtfArray | BtfComposite | BtfEnum | BtfEnum64 | BtfFwd
  | BtfFunc | BtfFuncProto | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

/**
 * The type of a kind name: findByName('sk_buff', 'struct') is a BtfComposite whose kind is 'struct'.
 * (Extract<BtfType, { kind: K }> gave never for kinds that share an interface, struct/union and
 * ptr/typedef/qualifiers, since 'struct' | 'union' is not assignable to 'struct'.)
 */
export type BtfTypeOf<K extends BtfKindName> = BtfType extends infer T
  ? T extends { readonly kind: infer Kinds } ? (K extends Kinds ? T & { readonly kind: K } : never) : never
  : never;
