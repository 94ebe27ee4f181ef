// sanitizeBtf: rewrite an object's BTF types so an older kernel accepts them, as libbpf's
// bpf_object__sanitize_btf does (src/libbpf.c). Pure: the loader decides from its feature probes
// (lib/features) what the kernel lacks and passes that in; nothing here touches the kernel.
//
// Rules, in libbpf's order (the first that applies to a type wins):
//   VAR (no DATASEC support) / DECL_TAG (no DECL_TAG) → INT, name kept, size 1, 8 bits, no encoding
//     (size 1: a bigger int could exceed the struct member it stands in for)
//   DATASEC (no DATASEC)  → STRUCT of the same size, '.' and '?' in the name → '_', one member per
//     variable named after it, at offset*8, of the variable's (now INT) type
//   DATASEC named '?…' (kernel refuses '?' in DATASEC names) → first char '_'
//   FUNC_PROTO (no FUNC)  → ENUM of size 4, one enumerator per parameter (name, value = its type id);
//     unlike libbpf, an unnamed parameter gets the name __argN: the kernel's enum check refuses an
//     empty enumerator name ("Invalid name", seen on 6.18 with a function-pointer prototype), and
//     that check is as old as FUNC itself, so libbpf's verbatim copy fails where it is needed
//   FUNC (no FUNC)        → TYPEDEF of the same proto
//   FUNC (no global FUNC linkage) → FUNC with static linkage
//   FLOAT (no FLOAT)      → anonymous STRUCT of the same size, no members
//   TYPE_TAG (no TYPE_TAG) → anonymous CONST of the same type
//   ENUM (no ENUM64)      → kind_flag (signedness) cleared: kernels before ENUM64 refuse it
//   ENUM64 (no ENUM64)    → UNION of the same size, one member per enumerator, each of a new INT
//     'enum64_placeholder' (size 1) appended as the last type
// Not done here (the loader's, before this): libbpf's DATASEC fix-ups at open (section size from
// the ELF section, variable offsets from symbol values, STV_HIDDEN globals → static VAR linkage,
// variables sorted by offset) and marking hidden global subprograms' FUNCs static.

import { BTF_LINKAGE, type BtfComposite, type BtfInt, type BtfType } from './types.js';

/** What the running kernel's BTF accepts (false = rewrite the types that need it). */
export interface BtfKernelFeatures {
  /** FUNC and FUNC_PROTO (5.0; libbpf FEAT_BTF_FUNC) */
  readonly func: boolean;
  /** FUNC with global linkage (5.6; FEAT_BTF_GLOBAL_FUNC) */
  readonly funcLinkage: boolean;
  /** VAR and DATASEC (5.2; FEAT_BTF_DATASEC) */
  readonly datasec: boolean;
  /** FLOAT (5.13) */
  readonly float: boolean;
  /** DECL_TAG (5.16) */
  readonly declTag: boolean;
  /** TYPE_TAG (5.17) */
  readonly typeTag: boolean;
  /** ENUM64 and signed ENUM (6.0) */
  readonly enum64: boolean;
  /** '?' as the first character of a DATASEC name (6.4; FEAT_BTF_QMARK_DATASEC); default true */
  readonly qmarkDatasec?: boolean;
}

export interface SanitizedBtf {
  /** the types to encode (ids 1..n; may be one longer than the input: the ENUM64 placeholder) */
  readonly types: readonly BtfType[];
  /** one line per rewritten type: what it was, what it became, and why */
  readonly changed: string[];
}

/** Every feature present: what a current kernel accepts. */
export const ALL_BTF_FEATURES: BtfKernelFeatures = Object.freeze({
  func: true, funcLinkage: true, datasec: true, float: true, declTag: true, typeTag: true, enum64: true, qmarkDatasec: true,
});

/**
 * The features from lib/features' probe (`features.btfKinds`): its 'func' blob uses global linkage,
 * so it stands for global FUNC; FUNC itself arrived with FUNC_PROTO (5.0), probed on its own.
 */
export function btfFeaturesFromKinds(kinds: Readonly<Record<string, boolean>>): BtfKernelFeatures {
  return {
    func: kinds.func_proto === true,
    funcLinkage: kinds.func === true,
    datasec: kinds.datasec === true && kinds.var === true,
    float: kinds.float === true,
    declTag: kinds.decl_tag === true,
    typeTag: kinds.type_tag === true,
    enum64: kinds.enum64 === true,
  };
}

/** libbpf's btf_needs_sanitization: false when the kernel takes the types as they are. */
export function btfNeedsSanitizing(f: BtfKernelFeatures): boolean {
  return !(f.func && f.funcLinkage && f.datasec && f.float && f.declTag && f.typeTag && f.enum64 && (f.qmarkDatasec ?? true));
}

const describe = (t: BtfType) => `type ${t.id} ${t.kind.toUpperCase()} '${t.name}'`;

/** Rewrite `types` (ids 1..n in order) for a kernel with `features`. The input is not modified. */
export function sanitizeBtf(types: readonly BtfType[], features: BtfKernelFeatures): SanitizedBtf {
  const changed: string[] = [];
  if (!btfNeedsSanitizing(features)) return { types, changed };
  const f = features;
  const qmark = f.qmarkDatasec ?? true;
  const out: BtfType[] = types.slice();
  const byId = (id: number): BtfType | undefined => types[id - 1];
  let placeholder = 0;
  const note = (t: BtfType, to: string, why: string) => changed.push(`${describe(t)} → ${to} (${why})`);

  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    const id = t.id;
    if ((!f.datasec && t.kind === 'var') || (!f.declTag && t.kind === 'decl_tag')) {
      const int: BtfInt = { id, kind: 'int', name: t.name, size: 1, bitOffset: 0, bits: 8, signed: false, char: false, bool: false };
      out[i] = int;
      note(t, 'INT size 1', t.kind === 'var' ? 'no VAR/DATASEC support' : 'no DECL_TAG support');
    } else if (!f.datasec && t.kind === 'datasec') {
      const s: BtfComposite = {
        id, kind: 'struct', name: t.name.replace(/[.?]/g, '_'), size: t.size, kindFlag: false,
        members: t.vars.map((v) => ({ name: byId(v.type)?.name ?? '', type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 })),
      };
      out[i] = s;
      note(t, `STRUCT '${s.name}'`, 'no VAR/DATASEC support');
    } else if (!qmark && t.kind === 'datasec' && t.name.startsWith('?')) {
      out[i] = { ...t, name: `_${t.name.slice(1)}` };
      note(t, `DATASEC '_${t.name.slice(1)}'`, "no '?' in DATASEC names");
    } else if (!f.func && t.kind === 'func_proto') {
      out[i] = { id, kind: 'enum', name: t.name, size: 4, signed: false, values: t.params.map((p, j) => ({ name: p.name || `__arg${j}`, value: p.type })) };
      note(t, 'ENUM size 4', 'no FUNC support');
    } else if (!f.func && t.kind === 'func') {
      out[i] = { id, kind: 'typedef', name: t.name, type: t.type };
      note(t, 'TYPEDEF', 'no FUNC support');
    } else if (!f.funcLinkage && t.kind === 'func') {
      // libbpf writes linkage 0 for every FUNC here (extern included)
      if (t.linkage !== BTF_LINKAGE.STATIC) {
        out[i] = { ...t, linkage: BTF_LINKAGE.STATIC };
        note(t, 'static linkage', 'no global FUNC support');
      }
    } else if (!f.float && t.kind === 'float') {
      out[i] = { id, kind: 'struct', name: '', size: t.size, kindFlag: false, members: [] };
      note(t, 'anonymous STRUCT of the same size', 'no FLOAT support');
    } else if (!f.typeTag && t.kind === 'type_tag') {
      out[i] = { id, kind: 'const', name: '', type: t.type };
      note(t, 'CONST', 'no TYPE_TAG support');
    } else if (!f.enum64 && t.kind === 'enum') {
      if (t.signed) {
        // same 32 bits, now read unsigned: -1 is 0xffffffff to the kernel
        out[i] = { ...t, signed: false, values: t.values.map((v) => ({ name: v.name, value: v.value >>> 0 })) };
        note(t, 'unsigned ENUM', 'no ENUM64 (nor signed ENUM) support');
      }
    } else if (!f.enum64 && t.kind === 'enum64') {
      if (placeholder === 0) placeholder = types.length + 1;
      out[i] = {
        id, kind: 'union', name: t.name, size: t.size, kindFlag: false,
        members: t.values.map((v) => ({ name: v.name, type: placeholder, bitOffset: 0, bitfieldSize: 0 })),
      };
      note(t, 'UNION of enum64_placeholder', 'no ENUM64 support');
    }
  }
  if (placeholder !== 0) {
    out.push({ id: placeholder, kind: 'int', name: 'enum64_placeholder', size: 1, bitOffset: 0, bits: 8, signed: false, char: false, bool: false });
  }
  return { types: out, changed };
}
