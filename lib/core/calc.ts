// The values a relocation puts into its instruction, computed from the local spec (what clang
// wrote: checked against the instruction) and from the target spec (what goes in). As libbpf's
// bpf_core_calc_relo: a missing target poisons field offsets/sizes and enum values, and gives 0 for
// the existence checks.
import { CORE_RELO, isEnumvalBased, isFieldBased, isTypeBased } from './kinds.js';
import { isAnyEnum, skipModsAndTypedefs, SpecError, type AccessSpec } from './spec.js';

export interface CoreResult {
  /** the value clang put in the instruction (from the local BTF) */
  origVal: bigint;
  /** the value for the target */
  newVal: bigint;
  /** unsatisfiable: the instruction becomes an invalid helper call */
  poison: boolean;
  /** check the instruction holds origVal before patching */
  validate: boolean;
  /** memory access size of the field locally and in the target (0: not a plain field access) */
  origSize: number;
  newSize: number;
  /** a load/store's size would change in an unsafe way (signed, or not pointers/integers): poison it there */
  failMemSizeAdjust: boolean;
  /** why it was poisoned (for messages) */
  reason?: string;
}

/** A poison request (libbpf's -EUCLEAN). */
class Poison extends Error {}

interface FieldValue { val: bigint; size: number; typeId: number; validate: boolean }

function fieldValue(kind: number, spec: AccessSpec | undefined, littleEndian: boolean): FieldValue {
  if (kind === CORE_RELO.FIELD_EXISTS) return { val: spec ? 1n : 0n, size: 0, typeId: 0, validate: true };
  if (!spec) throw new Poison('no matching field in the target');
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1];
  const sizeOf = (id: number): number => {
    try {
      return btf.resolveSize(id);
    } catch (e) {
      throw new SpecError(`type [${id}] has no size: ${(e as Error).message}`);
    }
  };
  if (acc.name === undefined) {
    // an array element (or the root itself)
    if (kind === CORE_RELO.FIELD_BYTE_OFFSET) return { val: BigInt(spec.bitOffset / 8), size: sizeOf(acc.typeId), typeId: acc.typeId, validate: true };
    if (kind === CORE_RELO.FIELD_BYTE_SIZE) return { val: BigInt(sizeOf(acc.typeId)), size: 0, typeId: 0, validate: true };
    throw new SpecError('this relocation kind cannot be applied to an array access');
  }
  const t = btf.type(acc.typeId);
  if (t.kind !== 'struct' && t.kind !== 'union') throw new SpecError(`accessor type [${acc.typeId}] is no struct or union`);
  const m = t.members[acc.idx];
  const mt = skipModsAndTypedefs(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSize = m.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    byteSize = 'size' in mt.t ? mt.t.size : 0;
    if (byteSize <= 0) throw new SpecError(`bitfield ${m.name} has a type without size`);
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    // the smallest load that holds the whole bitfield
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new SpecError(`bitfield ${m.name} cannot be read with a 64-bit load`);
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOf(mt.id);
    byteOff = bitOff / 8;
    bitSize = byteSize * 8;
  }
  // bitfields are read with the original offset and size: nothing to validate
  let validate = !bitfield;
  let val: bigint;
  let size = 0;
  let typeId = 0;
  switch (kind) {
    case CORE_RELO.FIELD_BYTE_OFFSET:
      val = BigInt(byteOff);
      if (!bitfield) {
        size = byteSize;
        typeId = mt.id;
      }
      break;
    case CORE_RELO.FIELD_BYTE_SIZE:
      val = BigInt(byteSize);
      break;
    case CORE_RELO.FIELD_SIGNED:
      val = (isAnyEnum(mt.t) && (mt.t as { signed: boolean }).signed) || (mt.t.kind === 'int' && mt.t.signed) ? 1n : 0n;
      validate = true;
      break;
    case CORE_RELO.FIELD_LSHIFT_U64:
      val = littleEndian ? BigInt(64 - (bitOff + bitSize - byteOff * 8)) : BigInt((8 - byteSize) * 8 + (bitOff - byteOff * 8));
      break;
    case CORE_RELO.FIELD_RSHIFT_U64:
      val = BigInt(64 - bitSize);
      validate = true;
      break;
    default:
      throw new SpecError(`unknown field relocation kind ${kind}`);
  }
  return { val, size, typeId, validate };
}

function typeValue(kind: number, spec: AccessSpec | undefined): { val: bigint; validate: boolean } {
  if (!spec) return { val: 0n, validate: true };
  switch (kind) {
    case CORE_RELO.TYPE_ID_TARGET:
      // ids change when objects are linked: never checked against the instruction
      return { val: BigInt(spec.rootTypeId), validate: false };
    case CORE_RELO.TYPE_EXISTS:
    case CORE_RELO.TYPE_MATCHES:
      return { val: 1n, validate: true };
    case CORE_RELO.TYPE_SIZE:
      try {
        return { val: BigInt(spec.btf.resolveSize(spec.rootTypeId)), validate: true };
      } catch (e) {
        throw new SpecError(`type [${spec.rootTypeId}] has no size: ${(e as Error).message}`);
      }
    default:
      throw new SpecError(`unknown type relocation kind ${kind}`);
  }
}

function enumValue(kind: number, spec: AccessSpec | undefined): bigint {
  if (kind === CORE_RELO.ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (!spec) throw new Poison('no matching enumerator in the target');
  const a = spec.accessors[0];
  const t = spec.btf.type(a.typeId);
  if (t.kind === 'enum') return BigInt.asUintN(64, BigInt(t.values[a.idx].value | 0)); // an s32, sign-extended as libbpf's u64
  if (t.kind === 'enum64') return BigInt.asUintN(64, t.values[a.idx].value);
  throw new SpecError(`enumerator accessor type [${a.typeId}] is no enum`);
}

/** Compute a relocation's result for one target spec (undefined: no candidate matched). */
export function calcRelo(kind: number, local: AccessSpec, targ: AccessSpec | undefined, littleEndian: boolean): CoreResult {
  const res: CoreResult = { origVal: 0n, newVal: 0n, poison: false, validate: false, origSize: 0, newSize: 0, failMemSizeAdjust: false };
  try {
    if (isFieldBased(kind)) {
      const o = fieldValue(kind, local, littleEndian);
      const n = fieldValue(kind, targ, littleEndian);
      Object.assign(res, { origVal: o.val, newVal: n.val, validate: o.validate, origSize: o.size, newSize: n.size });
      if (o.size !== n.size) {
        const ot = local.btf.type(o.typeId);
        const nt = targ!.btf.type(n.typeId);
        const ptrs = ot.kind === 'ptr' && nt.kind === 'ptr';
        const unsignedInts = ot.kind === 'int' && nt.kind === 'int' && !ot.signed && !nt.signed;
        // other size changes are only wrong for loads and stores (checked when patching)
        res.failMemSizeAdjust = !ptrs && !unsignedInts;
      }
    } else if (isTypeBased(kind)) {
      const o = typeValue(kind, local);
      res.origVal = o.val;
      res.validate = o.validate;
      res.newVal = typeValue(kind, targ).val;
    } else if (isEnumvalBased(kind)) {
      res.origVal = enumValue(kind, local);
      res.newVal = enumValue(kind, targ);
      res.validate = true;
    } else {
      throw new SpecError(`unknown relocation kind ${kind}`);
    }
  } catch (e) {
    if (!(e instanceof Poison)) throw e;
    res.poison = true;
    res.reason = e.message;
  }
  return res;
}
