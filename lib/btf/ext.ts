// .BTF.ext (struct btf_ext_header, linux/btf.h + libbpf's libbpf_internal.h): per ELF section the
// func_info, line_info and CO-RE relocation records clang emits. Each subsection is a u32 record size
// followed by { u32 sec_name_off; u32 num_info; records[num_info] } blocks; names and strings live in .BTF.
import { ParseError } from '../errors.js';
import type { Btf } from './btf.js';

export interface BtfFuncInfo {
  /** byte offset of the function's first instruction in its section (as in the file) */
  readonly insnOff: number;
  /** the FUNC */
  readonly typeId: number;
}

export interface BtfLineInfo {
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** line_col >> 10 */
  readonly line: number;
  /** line_col & 0x3ff */
  readonly column: number;
  /** the raw line_col word (line << 10 | column) */
  readonly lineCol: number;
}

export interface BtfCoreRelo {
  readonly insnOff: number;
  /** the root type the access string starts from */
  readonly typeId: number;
  /** e.g. "0:1:2" */
  readonly accessStr: string;
  /** enum bpf_core_relo_kind */
  readonly kind: number;
}

export interface BtfExt {
  readonly funcInfo: Map<string, BtfFuncInfo[]>;
  readonly lineInfo: Map<string, BtfLineInfo[]>;
  readonly coreRelos: Map<string, BtfCoreRelo[]>;
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
  readonly coreReloRecSize: number;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MIN_HEADER = 24; // up to line_info_len; core_relo_off/len follow when hdr_len >= 32

// No closures below: under tsx (tests, bench) each closure made per call costs a __name() call.

function fail(msg: string, offset: number, section?: string): never {
  throw new ParseError(msg, { format: 'btf.ext', offset, section });
}

function str(btf: Btf, off: number, at: number, section: string): string {
  if (!btf.strings.has(off)) fail(`string offset ${off} out of range`, at, section);
  return btf.strings.at(off);
}

/** One subsection's record size and its per-section blocks (name, first record, count), checked. */
interface Sub { recSize: number; names: string[]; at: number[]; counts: number[] }

const EMPTY: Sub = Object.freeze({ recSize: 0, names: [], at: [], counts: [] }) as Sub;

function subsection(dv: DataView, le: boolean, hdrLen: number, btf: Btf, what: string, hdrField: number, minRec: number): Sub {
  const len = dv.byteLength;
  if (hdrLen < hdrField + 8) return EMPTY; // an older header without this subsection
  const off = dv.getUint32(hdrField, le);
  const size = dv.getUint32(hdrField + 4, le);
  if (size === 0) return EMPTY;
  const start = hdrLen + off;
  const end = start + size;
  if (end > len) fail(`${what} ${start}+${size} past the end (${len} bytes)`, hdrField, what);
  if (start % 4 !== 0) fail(`${what} not 4-byte aligned`, hdrField, what);
  if (size < 4) fail(`${what} too short for its record size`, start, what);
  const recSize = dv.getUint32(start, le);
  if (recSize < minRec || recSize % 4 !== 0) fail(`${what} record size ${recSize} (need a multiple of 4, ≥ ${minRec})`, start, what);
  const sub: Sub = { recSize, names: [], at: [], counts: [] };
  for (let p = start + 4; p < end;) {
    if (p + 8 > end) fail(`${what}: truncated section header`, p, what);
    const name = str(btf, dv.getUint32(p, le), p, what);
    const count = dv.getUint32(p + 4, le);
    if (count === 0) fail(`${what}: section ${name} has no records`, p, what);
    if (count > (end - p - 8) / recSize) fail(`${what}: ${count} records of section ${name} run past the end`, p, what);
    sub.names.push(name);
    sub.at.push(p + 8);
    sub.counts.push(count);
    p += 8 + count * recSize;
  }
  return sub;
}

/** Parse .BTF.ext bytes; section names and access strings are read from `btf`'s strings. */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const len = bytes.length;
  if (len < MIN_HEADER) fail(`truncated header: ${len} bytes, need ${MIN_HEADER}`, 0);
  const le = bytes[0] === 0x9f && bytes[1] === 0xeb;
  if (!le && !(bytes[0] === 0xeb && bytes[1] === 0x9f)) fail(`bad magic 0x${(bytes[0] | (bytes[1] << 8)).toString(16)} (want 0xeb9f)`, 0);
  if (bytes[2] !== 1) fail(`unsupported version ${bytes[2]}`, 2);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < MIN_HEADER || hdrLen > len) fail(`header length ${hdrLen} outside 24…${len}`, 4);

  const fi = subsection(dv, le, hdrLen, btf, 'func_info', 8, 8);
  const li = subsection(dv, le, hdrLen, btf, 'line_info', 16, 16);
  const cr = subsection(dv, le, hdrLen, btf, 'core_relo', 24, 16);

  // records are 4-byte aligned (checked): read them as words when the blob is little-endian like
  // the host (a DataView call per field is the bulk of this before V8 optimizes it)
  const w = le && HOST_LE && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, len >>> 2) : undefined;
  const funcInfo = new Map<string, BtfFuncInfo[]>();
  for (let b = 0; b < fi.names.length; b++) {
    const count = fi.counts[b];
    const recs: BtfFuncInfo[] = new Array(count);
    for (let i = 0, p = fi.at[b]; i < count; i++, p += fi.recSize) {
      recs[i] = w !== undefined ? { insnOff: w[p >>> 2], typeId: w[(p >>> 2) + 1] } : { insnOff: dv.getUint32(p, le), typeId: dv.getUint32(p + 4, le) };
    }
    append(funcInfo, fi.names[b], recs);
  }
  const lineInfo = new Map<string, BtfLineInfo[]>();
  for (let b = 0; b < li.names.length; b++) {
    const count = li.counts[b];
    const recs: BtfLineInfo[] = new Array(count);
    for (let i = 0, p = li.at[b]; i < count; i++, p += li.recSize) {
      if (w !== undefined) {
        const q = p >>> 2;
        const lineCol = w[q + 3];
        recs[i] = { insnOff: w[q], fileNameOff: w[q + 1], lineOff: w[q + 2], line: lineCol >>> 10, column: lineCol & 0x3ff, lineCol };
      } else {
        const lineCol = dv.getUint32(p + 12, le);
        recs[i] = { insnOff: dv.getUint32(p, le), fileNameOff: dv.getUint32(p + 4, le), lineOff: dv.getUint32(p + 8, le), line: lineCol >>> 10, column: lineCol & 0x3ff, lineCol };
      }
    }
    append(lineInfo, li.names[b], recs);
  }
  const coreRelos = new Map<string, BtfCoreRelo[]>();
  for (let b = 0; b < cr.names.length; b++) {
    const count = cr.counts[b];
    const recs: BtfCoreRelo[] = new Array(count);
    for (let i = 0, p = cr.at[b]; i < count; i++, p += cr.recSize) {
      recs[i] = { insnOff: dv.getUint32(p, le), typeId: dv.getUint32(p + 4, le), accessStr: str(btf, dv.getUint32(p + 8, le), p + 8, 'core_relo'), kind: dv.getUint32(p + 12, le) };
    }
    append(coreRelos, cr.names[b], recs);
  }
  return { funcInfo, lineInfo, coreRelos, funcInfoRecSize: fi.recSize, lineInfoRecSize: li.recSize, coreReloRecSize: cr.recSize };
}

function append<T>(m: Map<string, T[]>, name: string, recs: T[]): void {
  const have = m.get(name);
  if (have) {
    for (let i = 0; i < recs.length; i++) have.push(recs[i]);
  } else {
    m.set(name, recs);
  }
}
