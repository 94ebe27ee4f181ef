// Decoding of one BTF type record (struct btf_type and what follows it, linux/btf.h) into the shared
// model of types.ts, kind_flag interpreted. The record's extent was checked by the index pass; here
// the string offsets and the referenced type ids are checked.
import { ParseError } from '../errors.js';
import type { BtfStrings } from './strings.js';
import type {
  BtfArray, BtfComposite, BtfDatasec, BtfDeclTag, BtfEnum, BtfEnum64, BtfFloat, BtfFunc, BtfFuncProto,
  BtfFwd, BtfInt, BtfKindName, BtfMember, BtfParam, BtfRef, BtfType, BtfVar, BtfVarSecinfo,
} from './types.js';

/** Kind names by BTF_KIND_* number. */
export const KIND_NAMES: readonly BtfKindName[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

/** What the decoder needs of a parsed blob. */
export interface TypeSource {
  readonly view: DataView;
  readonly littleEndian: boolean;
  readonly strings: BtfStrings;
  /** one past the last valid type id */
  readonly typeCount: number;
}

/** Bytes taken by the data following the 12-byte btf_type of `kind`, or -1 for an unknown kind. */
export function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 14: case 17: return 4;              // INT, VAR, DECL_TAG
    case 3: return 12;                               // ARRAY
    case 4: case 5: case 15: case 19: return 12 * vlen; // STRUCT, UNION, DATASEC, ENUM64
    case 6: case 13: return 8 * vlen;                // ENUM, FUNC_PROTO
    case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: return 0;
    default: return -1;
  }
}

/** Decode the type `id` whose record starts at byte `off` of the blob. */
export function decodeType(src: TypeSource, id: number, off: number): BtfType {
  const dv = src.view;
  const le = src.littleEndian;
  const u32 = (o: number) => dv.getUint32(o, le);
  const str = (o: number) => {
    const at = u32(o);
    if (!src.strings.has(at)) throw new ParseError(`string offset ${at} out of range`, { format: 'btf', typeId: id, offset: o });
    return src.strings.at(at, id);
  };
  const ref = (o: number) => {
    const t = u32(o);
    if (t >= src.typeCount) throw new ParseError(`refers to type id ${t} beyond the last type ${src.typeCount - 1}`, { format: 'btf', typeId: id, offset: o });
    return t;
  };
  const info = u32(off + 4);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kindFlag = (info >>> 31) === 1;
  const name = str(off);
  const x = off + 12; // start of the kind-specific data
  switch (kind) {
    case 1: { // INT
      const v = u32(x);
      const enc = (v >>> 24) & 0x0f;
      return { id, kind: 'int', name, size: u32(off + 8), bitOffset: (v >>> 16) & 0xff, bits: v & 0xff, signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 } satisfies BtfInt;
    }
    case 2: case 8: case 9: case 10: case 11: case 18: // PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
      return { id, kind: KIND_NAMES[kind] as BtfRef['kind'], name, type: ref(off + 8) } satisfies BtfRef;
    case 3: // ARRAY
      return { id, kind: 'array', name, type: ref(x), indexType: ref(x + 4), nelems: u32(x + 8) } satisfies BtfArray;
    case 4: case 5: { // STRUCT, UNION
      const members: BtfMember[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 12) {
        const o = u32(m + 8);
        members[i] = kindFlag
          ? { name: str(m), type: ref(m + 4), bitOffset: o & 0xffffff, bitfieldSize: o >>> 24 }
          : { name: str(m), type: ref(m + 4), bitOffset: o, bitfieldSize: 0 };
      }
      return { id, kind: kind === 4 ? 'struct' : 'union', name, size: u32(off + 8), kindFlag, members } satisfies BtfComposite;
    }
    case 6: { // ENUM
      const values: { name: string; value: number }[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 8) {
        values[i] = { name: str(m), value: kindFlag ? dv.getInt32(m + 4, le) : u32(m + 4) };
      }
      return { id, kind: 'enum', name, size: u32(off + 8), signed: kindFlag, values } satisfies BtfEnum;
    }
    case 7: // FWD
      return { id, kind: 'fwd', name, union: kindFlag } satisfies BtfFwd;
    case 12: // FUNC: vlen is the linkage
      return { id, kind: 'func', name, type: ref(off + 8), linkage: vlen } satisfies BtfFunc;
    case 13: { // FUNC_PROTO
      const params: BtfParam[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 8) params[i] = { name: str(m), type: ref(m + 4) };
      return { id, kind: 'func_proto', name, returnType: ref(off + 8), params } satisfies BtfFuncProto;
    }
    case 14: // VAR
      return { id, kind: 'var', name, type: ref(off + 8), linkage: u32(x) } satisfies BtfVar;
    case 15: { // DATASEC
      const vars: BtfVarSecinfo[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 12) vars[i] = { type: ref(m), offset: u32(m + 4), size: u32(m + 8) };
      return { id, kind: 'datasec', name, size: u32(off + 8), vars } satisfies BtfDatasec;
    }
    case 16: // FLOAT
      return { id, kind: 'float', name, size: u32(off + 8) } satisfies BtfFloat;
    case 17: // DECL_TAG
      return { id, kind: 'decl_tag', name, type: ref(off + 8), componentIdx: dv.getInt32(x, le) } satisfies BtfDeclTag;
    case 19: { // ENUM64
      const values: { name: string; value: bigint }[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 12) {
        const v = (BigInt(u32(m + 8)) << 32n) | BigInt(u32(m + 4));
        values[i] = { name: str(m), value: kindFlag ? BigInt.asIntN(64, v) : v };
      }
      return { id, kind: 'enum64', name, size: u32(off + 8), signed: kindFlag, values } satisfies BtfEnum64;
    }
    default:
      throw new ParseError(`unknown kind ${kind}`, { format: 'btf', typeId: id, offset: off });
  }
}
