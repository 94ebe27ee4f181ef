// CO-RE relocation kinds (enum bpf_core_relo_kind, linux/bpf.h) and the three families libbpf
// groups them in: field-based (walk an access string), type-based (the root type alone) and
// enumerator-based (one enumerator of an enum).

export const CORE_RELO = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

/** libbpf's names for the kinds (as in its debug output). */
const NAMES = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id',
  'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

export function coreReloKindName(kind: number): string {
  return NAMES[kind] ?? `unknown kind ${kind}`;
}

export function isFieldBased(kind: number): boolean {
  return kind >= CORE_RELO.FIELD_BYTE_OFFSET && kind <= CORE_RELO.FIELD_RSHIFT_U64;
}

export function isTypeBased(kind: number): boolean {
  return (kind >= CORE_RELO.TYPE_ID_LOCAL && kind <= CORE_RELO.TYPE_SIZE) || kind === CORE_RELO.TYPE_MATCHES;
}

export function isEnumvalBased(kind: number): boolean {
  return kind === CORE_RELO.ENUMVAL_EXISTS || kind === CORE_RELO.ENUMVAL_VALUE;
}
