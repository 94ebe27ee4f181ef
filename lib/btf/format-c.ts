// `bpftool btf dump file PATH format c`: BTF as a compilable C header (vmlinux.h). Follows libbpf
// 1.1's btf_dump.c (which bpftool 7.1 uses) so the output is the same text: a topological order in
// which a type is complete before it is embedded (forward declarations where a pointer suffices),
// anonymous structs/unions/enums inline, explicit padding and bitfields, `___N` suffixes for
// duplicate names, and the preserve_access_index prologue.
import { ParseError } from '../errors.js';
import type { BtfType, BtfComposite, BtfEnum, BtfEnum64, BtfFwd, BtfRef } from './types.js';
import { type BtfFormatSource, enum32Value, enum64Value } from './format-raw.js';
import { CLayout } from './format-c-layout.js';

export interface FormatCOptions {
  /** dump only these types and what they need (bpftool's root types); default: every type */
  readonly rootIds?: readonly number[];
  /** the __VMLINUX_H__ guard and preserve_access_index pragmas around the types (default true) */
  readonly prologue?: boolean;
}

// order and emit states (btf_dump_type_order_state / btf_dump_type_emit_state)
const NOT = 0;
const DOING = 1;
const DONE = 2;

const TABS = '\t'.repeat(13);
function pfx(lvl: number): string {
  return lvl >= 13 ? TABS : TABS.slice(0, lvl);
}

// GCC's Arm SIMD typedef targets that no C compiler knows: aliased to standard types
const MISSING_BASE_TYPES: Readonly<Record<string, string>> = {
  __Poly8_t: 'unsigned char',
  __Poly16_t: 'unsigned short',
  __Poly64_t: 'unsigned long long',
  __Poly128_t: 'unsigned __int128',
};

type Composite = BtfComposite;
type AnyEnum = BtfEnum | BtfEnum64;

/** A view of one declaration chain (btf_dump's id_stack): nested array/function chains share it. */
interface DeclStack { ids: number[]; cnt: number }

const VOID: BtfType = { id: 0, name: '', kind: 'void' };

function isMod(t: BtfType): boolean {
  return t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict' || t.kind === 'type_tag';
}

class CDumper {
  private out: string[] = [];
  private readonly chunks: string[] = [];
  private readonly n: number;
  private readonly cache: (BtfType | undefined)[];
  private readonly orderState: Uint8Array;
  private readonly emitState: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly cachedNames: (string | undefined)[] = [];
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private emitQueue: number[] = [];
  private readonly layout: CLayout;
  private readonly ptrSz: number;

  constructor(private readonly btf: BtfFormatSource) {
    this.n = btf.typeCount;
    this.cache = new Array(this.n);
    this.orderState = new Uint8Array(this.n);
    this.emitState = new Uint8Array(this.n);
    this.fwdEmitted = new Uint8Array(this.n);
    this.nameResolved = new Uint8Array(this.n);
    this.referenced = new Uint8Array(this.n);
    this.orderState[0] = DONE;
    this.emitState[0] = DONE;
    this.layout = new CLayout((id) => this.t(id), this.n);
    this.ptrSz = this.layout.ptrSz;
    this.markReferenced();
  }

  text(): string {
    this.chunks.push(this.out.join(''));
    this.out = [];
    return this.chunks.join('');
  }

  // pieces are joined into flat chunks as they come (see joinChunked in format-raw.ts)
  print(s: string): void {
    this.out.push(s);
    if (this.out.length === 4096) {
      this.chunks.push(this.out.join(''));
      this.out = [];
    }
  }

  private t(id: number): BtfType {
    let t = this.cache[id];
    if (t === undefined) {
      if (id === 0) return VOID;
      if (id >= this.n) throw new ParseError(`type id ${id} out of range (${this.n} types)`, { format: 'btf', typeId: id });
      t = this.btf.type(id);
      this.cache[id] = t;
    }
    return t;
  }

  // top-level anonymous enums are emitted only when nothing refers to them
  private markReferenced(): void {
    const r = this.referenced;
    for (let id = 1; id < this.n; id++) {
      const t = this.t(id);
      switch (t.kind) {
        case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        case 'func': case 'var': case 'decl_tag':
          r[t.type] = 1;
          break;
        case 'array':
          r[t.indexType] = 1;
          r[t.type] = 1;
          break;
        case 'struct': case 'union':
          for (const m of t.members) r[m.type] = 1;
          break;
        case 'func_proto':
          for (const p of t.params) r[p.type] = 1;
          break;
        case 'datasec':
          for (const v of t.vars) r[v.type] = 1;
          break;
        default:
          break;
      }
    }
  }

  dumpType(id: number): void {
    this.emitQueue = [];
    this.orderType(id, false);
    for (const qid of this.emitQueue) this.emitType(qid, 0);
  }

  // 1 for a strong link (must be complete first), 0 for a weak one (a forward declaration does)
  private orderType(id: number, throughPtr: boolean): number {
    const state = this.orderState[id];
    if (state === DONE) return 1;
    const t = this.t(id);
    if (state === DOING) {
      if ((t.kind === 'struct' || t.kind === 'union') && throughPtr && t.name !== '') return 0;
      throw new ParseError('unsatisfiable type cycle', { format: 'btf', typeId: id });
    }
    switch (t.kind) {
      case 'int': case 'float':
        this.orderState[id] = DONE;
        return 0;
      case 'ptr': {
        const r = this.orderType(t.type, true);
        this.orderState[id] = DONE;
        return r;
      }
      case 'array':
        return this.orderType(t.type, false);
      case 'struct': case 'union':
        if (throughPtr && t.name !== '') return 0;
        this.orderState[id] = DOING;
        for (const m of t.members) this.orderType(m.type, false);
        if (t.name !== '') this.emitQueue.push(id);
        this.orderState[id] = DONE;
        return 1;
      case 'enum': case 'enum64': case 'fwd':
        if (t.name !== '' || !this.referenced[id]) this.emitQueue.push(id);
        this.orderState[id] = DONE;
        return 1;
      case 'typedef': {
        const strong = this.orderType(t.type, throughPtr);
        if (throughPtr && !strong) return 0;
        this.emitQueue.push(id);
        this.orderState[id] = DONE;
        return 1;
      }
      case 'volatile': case 'const': case 'restrict': case 'type_tag':
        return this.orderType(t.type, throughPtr);
      case 'func_proto': {
        let strong = this.orderType(t.returnType, throughPtr) > 0;
        for (const p of t.params) if (this.orderType(p.type, throughPtr) > 0) strong = true;
        return strong ? 1 : 0;
      }
      case 'func': case 'var': case 'datasec': case 'decl_tag':
        this.orderState[id] = DONE;
        return 0;
      default:
        throw new ParseError(`unexpected kind ${t.kind}`, { format: 'btf', typeId: id });
    }
  }

  private isBlacklisted(t: BtfType): boolean {
    // a compiler built-in: redefining it breaks compilation
    return t.name === '__builtin_va_list';
  }

  private emitType(id: number, contId: number): void {
    const state = this.emitState[id];
    if (state === DONE) return;
    const t = this.t(id);
    const topLevel = contId === 0;

    if (state === DOING) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === 'struct' || t.kind === 'union') {
        // referring to the struct we are inside of needs no forward declaration
        if (id === contId) return;
        if (t.name === '') return; // anonymous struct/union loop: nothing C can say
        this.emitStructFwd(id, t);
        this.print(';\n\n');
        this.fwdEmitted[id] = 1;
      } else if (t.kind === 'typedef') {
        // the typedef now serves as a forward declaration (usable through pointers)
        if (!this.isBlacklisted(t)) {
          this.emitTypedefDef(id, t, 0);
          this.print(';\n\n');
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }

    switch (t.kind) {
      case 'int': {
        const alias = MISSING_BASE_TYPES[this.typeName(id)];
        if (alias !== undefined) this.print(`typedef ${alias} ${this.typeName(id)};\n\n`);
        this.emitState[id] = DONE;
        break;
      }
      case 'enum': case 'enum64':
        if (topLevel) {
          this.emitEnumDef(id, t, 0);
          this.print(';\n\n');
        }
        this.emitState[id] = DONE;
        break;
      case 'ptr': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'array':
        this.emitType(t.type, contId);
        break;
      case 'fwd':
        this.emitFwdDef(id, t);
        this.print(';\n\n');
        this.emitState[id] = DONE;
        break;
      case 'typedef':
        this.emitState[id] = DOING;
        this.emitType(t.type, id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(t)) {
          this.emitTypedefDef(id, t, 0);
          this.print(';\n\n');
        }
        this.emitState[id] = DONE;
        break;
      case 'struct': case 'union':
        this.emitState[id] = DOING;
        // a definition spells out its members' types, which need their declarations first
        if (topLevel || t.name === '') {
          const newCont = t.name === '' ? contId : id;
          for (const m of t.members) this.emitType(m.type, newCont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(id, t);
          this.print(';\n\n');
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.emitStructDef(id, t, 0);
          this.print(';\n\n');
          this.emitState[id] = DONE;
        } else {
          this.emitState[id] = NOT;
        }
        break;
      case 'func_proto':
        this.emitType(t.returnType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default:
        break;
    }
  }

  private emitBitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): void {
    for (const [type, bits] of this.layout.padding(curOff, nextOff, nextAlign, inBitfield)) this.print(`\n${pfx(lvl)}${type}: ${bits};`);
  }

  private emitStructFwd(id: number, t: Composite): void {
    this.print(`${t.kind}${t.name !== '' ? ' ' : ''}${this.typeName(id)}`);
  }

  private emitStructDef(id: number, t: Composite, lvl: number): void {
    const isStruct = t.kind === 'struct';
    const align = this.layout.alignOf(id);
    const packed = isStruct ? this.layout.isPacked(t) : false;
    this.print(`${t.kind}${t.name !== '' ? ' ' : ''}${this.typeName(id)} {`);
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      let mSz = m.bitfieldSize;
      const mOff = m.bitOffset;
      const mAlign = packed ? 1 : this.layout.alignOf(m.type);
      const inBitfield = prevBitfield && mSz !== 0;
      this.emitBitPadding(off, mOff, mAlign, inBitfield, lvl + 1);
      this.print(`\n${pfx(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (mSz) {
        this.print(`: ${mSz}`);
        off = mOff + mSz;
        prevBitfield = true;
      } else {
        mSz = Math.max(0, this.layout.resolveSize(m.type));
        off = mOff + mSz * 8;
        prevBitfield = false;
      }
      this.print(';');
    }
    if (isStruct) this.emitBitPadding(off, t.size * 8, align, false, lvl + 1);
    // `struct empty {}` stays on one line
    if (t.members.length || t.size) this.print(`\n${pfx(lvl)}}`);
    else this.print('}');
    if (packed) this.print(' __attribute__((packed))');
  }

  private emitEnumDef(id: number, t: AnyEnum, lvl: number): void {
    this.print(`enum${t.name !== '' ? ' ' : ''}${this.typeName(id)}`);
    const vlen = t.values.length;
    if (!vlen) return;
    this.print(' {');
    const suffix = t.kind === 'enum64' ? (t.signed ? 'LL' : 'ULL') : '';
    for (const v of t.values) {
      // enumerators share the namespace of typedef names
      const dups = this.nameDups(this.identNames, v.name);
      const val = t.kind === 'enum' ? enum32Value(v.value as number, t.signed) : enum64Value(v.value as bigint, t.signed);
      this.print(`\n${pfx(lvl + 1)}${v.name}${dups > 1 ? `___${dups}` : ''} = ${val}${suffix},`);
    }
    this.print(`\n${pfx(lvl)}}`);
    if (t.size === 1) {
      this.print(' __attribute__((mode(byte)))');
    } else if (t.size === 2) {
      // a packed enum of 16 bits: libbpf and bpftool print nothing here and the C enum becomes
      // 4 bytes, moving every member after it; clang takes HImode (16 bits) for an enum
      this.print(' __attribute__((mode(HI)))');
    } else if (t.size === 8 && this.ptrSz === 8) {
      // an 8-byte enum needs mode(word) unless a value already forces 64 bits
      const needsWord = t.kind === 'enum'
        || !(t.values as readonly { value: bigint }[]).some((v) => BigInt.asUintN(64, v.value) >> 32n !== 0n);
      if (needsWord) this.print(' __attribute__((mode(word)))');
    }
  }

  private emitFwdDef(id: number, t: BtfFwd): void {
    this.print(`${t.union ? 'union' : 'struct'} ${this.typeName(id)}`);
  }

  private emitTypedefDef(id: number, t: BtfRef, lvl: number): void {
    const name = this.identName(id);
    // old GCC: __gnuc_va_list as a typedef of void
    if (t.type === 0 && name === '__gnuc_va_list') {
      this.print('typedef __builtin_va_list __gnuc_va_list');
      return;
    }
    this.print('typedef ');
    this.emitTypeDecl(t.type, name, lvl);
  }

  // push the chain down to its terminal type (int/enum/struct/union/fwd/typedef/float/void), then
  // write it back up in C declarator order
  private emitTypeDecl(id: number, fname: string, lvl: number): void {
    const ids: number[] = [];
    for (;;) {
      // a chain longer than the type count loops (malformed BTF): fail instead of growing forever
      if (ids.length >= this.n) throw new ParseError('reference cycle in a declaration', { format: 'btf', typeId: id });
      ids.push(id);
      if (id === 0) break;
      const t = this.t(id);
      if (t.kind === 'ptr' || t.kind === 'volatile' || t.kind === 'const' || t.kind === 'restrict'
        || t.kind === 'type_tag' || t.kind === 'array') {
        id = t.type;
      } else if (t.kind === 'func_proto') {
        id = t.returnType;
      } else {
        break;
      }
    }
    this.emitTypeChain({ ids, cnt: ids.length }, fname, lvl);
  }

  private emitMods(d: DeclStack): void {
    while (d.cnt) {
      const t = this.t(d.ids[d.cnt - 1]!);
      if (t.kind === 'volatile') this.print('volatile ');
      else if (t.kind === 'const') this.print('const ');
      else if (t.kind === 'restrict') this.print('restrict ');
      else return;
      d.cnt--;
    }
  }

  private dropMods(d: DeclStack): void {
    while (d.cnt && isMod(this.t(d.ids[d.cnt - 1]!))) d.cnt--;
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.print(name !== '' && !lastWasPtr ? ` ${name}` : name);
  }

  private emitTypeChain(d: DeclStack, fname: string, lvl: number): void {
    // no space before `*` after another `*`; a lone pointer of a function prototype prints as (*name)
    let lastWasPtr = true;
    while (d.cnt) {
      const id = d.ids[--d.cnt]!;
      if (id === 0) {
        this.emitMods(d);
        this.print('void');
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case 'int': case 'float':
          this.emitMods(d);
          this.print(t.name);
          break;
        case 'struct': case 'union':
          this.emitMods(d);
          if (t.name === '') this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case 'enum': case 'enum64':
          this.emitMods(d);
          if (t.name === '') this.emitEnumDef(id, t, lvl);
          else this.print(`enum ${this.typeName(id)}`);
          break;
        case 'fwd':
          this.emitMods(d);
          this.emitFwdDef(id, t);
          break;
        case 'typedef':
          this.emitMods(d);
          this.print(this.identName(id));
          break;
        case 'ptr':
          this.print(lastWasPtr ? '*' : ' *');
          break;
        case 'volatile':
          this.print(' volatile');
          break;
        case 'const':
          this.print(' const');
          break;
        case 'restrict':
          this.print(' restrict');
          break;
        case 'type_tag':
          this.emitMods(d);
          this.print(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case 'array': {
          // qualifiers on an array (a GCC quirk) mean nothing: dropped
          this.dropMods(d);
          if (d.cnt === 0) {
            this.emitName(fname, lastWasPtr);
            this.print(`[${t.nelems}]`);
            return;
          }
          const multidim = this.t(d.ids[d.cnt - 1]!).kind === 'array';
          if (fname !== '' && !lastWasPtr) this.print(' ');
          if (!multidim) this.print('(');
          this.emitTypeChain(d, fname, lvl);
          if (!multidim) this.print(')');
          this.print(`[${t.nelems}]`);
          return;
        }
        case 'func_proto': {
          // GCC's volatile on noreturn function pointers: dropped
          this.dropMods(d);
          if (d.cnt) {
            this.print(' (');
            this.emitTypeChain(d, fname, lvl);
            this.print(')');
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.print('(');
          const ps = t.params;
          // no parameters, or clang's single void one: (void), as bpftool 7.1 on Debian prints
          // (libbpf 1.5's fix, backported there; plain libbpf 1.1 printed `()`)
          if (ps.length === 0 || (ps.length === 1 && ps[0]!.type === 0)) {
            this.print('void)');
            return;
          }
          for (let i = 0; i < ps.length; i++) {
            if (i > 0) this.print(', ');
            if (i === ps.length - 1 && ps[i]!.type === 0) {
              this.print('...');
              break;
            }
            this.emitTypeDecl(ps[i]!.type, ps[i]!.name, lvl);
          }
          this.print(')');
          return;
        }
        default:
          // a kind that has no place in a declaration (libbpf warns and goes on)
          return;
      }
      lastWasPtr = t.kind === 'ptr';
    }
    this.emitName(fname, lastWasPtr);
  }

  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  // the first struct/union/enum (or typedef) of a name keeps it; later ones get ___2, ___3, …
  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (t.name === '') return '';
    if (this.nameResolved[id]) return this.cachedNames[id] ?? t.name;
    this.nameResolved[id] = 1;
    if (t.kind === 'fwd' || (t.kind === 'enum' && t.values.length === 0)) return t.name;
    const dups = this.nameDups(map, t.name);
    if (dups > 1) this.cachedNames[id] = `${t.name}___${dups}`;
    return this.cachedNames[id] ?? t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }
}

/** The C header text of a BTF (all its types, base types included for split BTF, as bpftool does). */
export function formatBtfC(btf: BtfFormatSource, opts: FormatCOptions = {}): string {
  try {
    return dumpC(btf, opts);
  } catch (e) {
    // reference cycles through pointers recurse without end in the (libbpf-shaped) ordering walk
    if (e instanceof RangeError) throw new ParseError(`type graph too deep or cyclic for a C dump (${e.message})`, { format: 'btf' }, { cause: e });
    throw e;
  }
}

function dumpC(btf: BtfFormatSource, opts: FormatCOptions): string {
  const d = new CDumper(btf);
  const prologue = opts.prologue ?? true;
  if (prologue) {
    d.print('#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n');
    d.print('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n');
    d.print('#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n');
    d.print('#endif\n\n');
  }
  if (opts.rootIds) {
    for (const id of opts.rootIds) d.dumpType(id);
  } else {
    for (let id = 1; id < btf.typeCount; id++) d.dumpType(id);
  }
  if (prologue) {
    d.print('#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n');
    d.print('#endif /* __VMLINUX_H__ */\n');
  }
  return d.text();
}
