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
  /** the blob as words, when its records can be read so (little-endian host and blob, aligned) */
  readonly words?: Uint32Array | undefined;
  readonly littleEndian: boolean;
  readonly strings: BtfStrings;
  /** one past the last valid type id */
  readonly typeCount: number;
}

/** Decode the type `id` whose record starts at byte `off` of the blob. */
export function decodeType(src: TypeSource, id: number, off: number): BtfType {
  // no closures here: under tsx (tests, bench) every closure created costs a __name() call
  const dv = src.view;
  const le = src.littleEndian;
  const info = dv.getUint32(off + 4, le);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const kindFlag = (info >>> 31) === 1;
  const name = str(src, off, id);
  const x = off + 12; // start of the kind-specific data
  switch (kind) {
    case 1: { // INT
      const v = dv.getUint32(x, le);
      const enc = (v >>> 24) & 0x0f;
      return { id, kind: 'int', name, size: dv.getUint32(off + 8, le), bitOffset: (v >>> 16) & 0xff, bits: v & 0xff, signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 } satisfies BtfInt;
    }
    case 2: case 8: case 9: case 10: case 11: case 18: // PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
      return { id, kind: KIND_NAMES[kind] as BtfRef['kind'], name, type: ref(src, off + 8, id) } satisfies BtfRef;
    case 3: // ARRAY
      return { id, kind: 'array', name, type: ref(src, x, id), indexType: ref(src, x + 4, id), nelems: dv.getUint32(x + 8, le) } satisfies BtfArray;
    case 4: case 5: { // STRUCT, UNION
      const members: BtfMember[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 12) {
        const o = dv.getUint32(m + 8, le);
        members[i] = kindFlag
          ? { name: str(src, m, id), type: ref(src, m + 4, id), bitOffset: o & 0xffffff, bitfieldSize: o >>> 24 }
          : { name: str(src, m, id), type: ref(src, m + 4, id), bitOffset: o, bitfieldSize: 0 };
      }
      return { id, kind: kind === 4 ? 'struct' : 'union', name, size: dv.getUint32(off + 8, le), kindFlag, members } satisfies BtfComposite;
    }
    case 6: { // ENUM
      const values: { name: string; value: number }[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 8) {
        values[i] = { name: str(src, m, id), value: kindFlag ? dv.getInt32(m + 4, le) : dv.getUint32(m + 4, le) };
      }
      return { id, kind: 'enum', name, size: dv.getUint32(off + 8, le), signed: kindFlag, values } satisfies BtfEnum;
    }
    case 7: // FWD
      return { id, kind: 'fwd', name, union: kindFlag } satisfies BtfFwd;
    case 12: // FUNC: vlen is the linkage
      return { id, kind: 'func', name, type: ref(src, off + 8, id), linkage: vlen } satisfies BtfFunc;
    case 13: { // FUNC_PROTO
      const params: BtfParam[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 8) params[i] = { name: str(src, m, id), type: ref(src, m + 4, id) };
      return { id, kind: 'func_proto', name, returnType: ref(src, off + 8, id), params } satisfies BtfFuncProto;
    }
    case 14: // VAR
      return { id, kind: 'var', name, type: ref(src, off + 8, id), linkage: dv.getUint32(x, le) } satisfies BtfVar;
    case 15: { // DATASEC
      const vars: BtfVarSecinfo[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 12) vars[i] = { type: ref(src, m, id), offset: dv.getUint32(m + 4, le), size: dv.getUint32(m + 8, le) };
      return { id, kind: 'datasec', name, size: dv.getUint32(off + 8, le), vars } satisfies BtfDatasec;
    }
    case 16: // FLOAT
      return { id, kind: 'float', name, size: dv.getUint32(off + 8, le) } satisfies BtfFloat;
    case 17: // DECL_TAG
      return { id, kind: 'decl_tag', name, type: ref(src, off + 8, id), componentIdx: dv.getInt32(x, le) } satisfies BtfDeclTag;
    case 19: { // ENUM64
      const values: { name: string; value: bigint }[] = new Array(vlen);
      for (let i = 0, m = x; i < vlen; i++, m += 12) {
        const v = (BigInt(dv.getUint32(m + 8, le)) << 32n) | BigInt(dv.getUint32(m + 4, le));
        values[i] = { name: str(src, m, id), value: kindFlag ? BigInt.asIntN(64, v) : v };
      }
      return { id, kind: 'enum64', name, size: dv.getUint32(off + 8, le), signed: kindFlag, values } satisfies BtfEnum64;
    }
    default:
      throw new ParseError(`unknown kind ${kind}`, { format: 'btf', typeId: id, offset: off });
  }
}

function str(src: TypeSource, o: number, id: number): string {
  const w = src.words;
  const at = w !== undefined ? w[o >>> 2] : src.view.getUint32(o, src.littleEndian);
  if (!src.strings.has(at)) throw new ParseError(`string offset ${at} out of range`, { format: 'btf', typeId: id, offset: o });
  return src.strings.at(at, id);
}

function ref(src: TypeSource, o: number, id: number): number {
  const w = src.words;
  const t = w !== undefined ? w[o >>> 2] : src.view.getUint32(o, src.littleEndian);
  if (t >= src.typeCount) throw new ParseError(`refers to type id ${t} beyond the last type ${src.typeCount - 1}`, { format: 'btf', typeId: id, offset: o });
  return t;
}
