// A type as one line of C-like text, the way bpftool names a program's functions in its dumps
// (`int xdp_prog(struct xdp_md * ctx)`, btf_dumper_type_only): every type name followed by a space,
// `* ` for a pointer, no space before an unnamed parameter's comma. Kinds it has no words for
// (type and decl tags) and a text of 1024 bytes or more (its buffer) give ''.
import { ParseError } from '../errors.js';
import type { BtfFormatSource } from './format-raw.js';
import type { BtfFuncProto } from './types.js';
import { BTF_LINKAGE } from './types.js';

const LIMIT = 1024;

/** bpftool's -1: the text is dropped whole */
class Unprintable extends Error {}

/** `func`'s signature (a FUNC or FUNC_PROTO id) or any other type's C-like name; '' when bpftool prints none. */
export function formatTypeOnly(btf: BtfFormatSource, id: number): string {
  const out = { s: '' };
  try {
    return typeOnly(btf, id, out) ? out.s : '';
  } catch (e) {
    // a type id out of range: bpftool prints nothing either
    if (e instanceof Unprintable || e instanceof ParseError) return '';
    throw e;
  }
}

function put(out: { s: string }, text: string): void {
  out.s += text;
  if (Buffer.byteLength(out.s) >= LIMIT) throw new Unprintable();
}

function typeOnly(btf: BtfFormatSource, id: number, out: { s: string }): boolean {
  if (id === 0) {
    put(out, 'void ');
    return true;
  }
  const t = btf.type(id);
  switch (t.kind) {
    case 'int': case 'typedef': case 'float': put(out, `${t.name} `); return true;
    case 'struct': case 'union': put(out, `${t.kind} ${t.name} `); return true;
    case 'enum': case 'enum64': put(out, `enum ${t.name} `); return true;
    case 'array': {
      if (!typeOnly(btf, t.type, out)) return false;
      put(out, `[${t.nelems | 0}]`);
      return true;
    }
    case 'ptr':
      if (!typeOnly(btf, t.type, out)) return false;
      put(out, '* ');
      return true;
    case 'fwd': put(out, `${t.union ? 'union' : 'struct'} ${t.name} `); return true;
    case 'volatile': case 'const': case 'restrict':
      put(out, `${t.kind} `);
      return typeOnly(btf, t.type, out);
    case 'func_proto': return proto(btf, t, undefined, out);
    case 'func': {
      const p = btf.type(t.type);
      return p.kind === 'func_proto' && proto(btf, p, t.name, out);
    }
    case 'var':
      if (t.linkage === BTF_LINKAGE.STATIC) put(out, 'static ');
      if (!typeOnly(btf, t.type, out)) return false;
      put(out, ` ${t.name}`);
      return true;
    case 'datasec': put(out, `section ("${t.name}") `); return true;
    default: return false;
  }
}

function proto(btf: BtfFormatSource, p: BtfFuncProto, name: string | undefined, out: { s: string }): boolean {
  if (!typeOnly(btf, p.returnType, out)) return false;
  put(out, name === undefined ? '(' : `${name}(`);
  p.params.forEach((a, i) => {
    if (i) put(out, ', ');
    if (a.type === 0) {
      put(out, '...');
      return;
    }
    if (!typeOnly(btf, a.type, out)) throw new Unprintable();
    if (a.name) put(out, a.name);
    else if (out.s.endsWith(' ')) out.s = out.s.slice(0, -1);
  });
  put(out, ')');
  return true;
}
