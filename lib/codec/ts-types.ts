// `tsbpf gen types`: the TypeScript declarations of the JS values an object's maps give once loaded
// (what bpf2go and `bpftool gen skeleton` are to Go and C). The types follow compile.ts rule for
// rule — a change to how a BTF type decodes is a change here — and a map gets the types only where
// loadObject gives it codecs (lib/object/typed.ts): BTF key/value of the map's size that compile,
// global-data maps left raw. Pure: reads the ObjectSpec, never the kernel.
import type { ObjectSpec } from '../object/read.js';
import type { MapSpec } from '../object/spec.js';
import { isPerCpu } from '../map/cpus.js';
import { btfCodecSource } from './btf-source.js';
import { compileCodec, type CodecOptions } from './compile.js';
import { isCharType, resolveAlias, type CodecMember, type CodecType, type CodecTypeSource } from './types.js';

export interface GenerateTypesOptions {
  /** as loadObject's typedMaps.strings: char arrays decode as strings when their bytes are UTF-8 */
  strings?: boolean;
  /** as loadObject's typedMaps.enumNames: enums decode as their enumerator's name when one matches */
  enumNames?: boolean;
  /** the object file named in the header comment (default: `<spec.name>.o`) */
  from?: string;
}

/** fixed arrays up to this length are tuples (`[number, number]`), longer ones `T[]` */
const MAX_TUPLE = 16;

/** names a declaration cannot have: reserved words, TypeScript's own type names, the module's names */
const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super',
  'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'implements', 'interface', 'let',
  'package', 'private', 'protected', 'public', 'static', 'yield', 'await', 'any', 'unknown', 'never', 'number', 'bigint',
  'boolean', 'string', 'symbol', 'object', 'undefined', 'type', 'as', 'is', 'keyof', 'infer', 'readonly', 'unique',
  'Maps', 'Globals', 'BpfMap', 'Uint8Array', 'Array', 'Record', 'Partial',
]);

const IDENT = /^[A-Za-z_$][\w$]*$/;

function bytes(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** `T[]`, parenthesised where T is a union */
function arrayOf(t: string): string {
  return t.includes(' | ') ? `(${t})[]` : `${t}[]`;
}

/** a property key: bare when it can be (never __proto__, which the codec sets as an own property) */
function key(name: string): string {
  return IDENT.test(name) && name !== '__proto__' ? name : `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface Field { name: string; type: string; optional: boolean; comment: string }

type Struct = Extract<CodecType, { kind: 'struct' | 'union' }>;
type Enum = Extract<CodecType, { kind: 'enum' }>;

class TypeWriter {
  /** declarations in the order first reached (a slot is taken before its body is written) */
  readonly decls: string[] = [];
  readonly #src: CodecTypeSource;
  readonly #o: CodecOptions;
  readonly #names = new Map<number, string>();
  readonly #taken = new Set<string>();

  constructor(src: CodecTypeSource, o: CodecOptions) {
    this.#src = src;
    this.#o = o;
  }

  #resolve(id: number): CodecType {
    const r = resolveAlias(this.#src, id);
    if (r.t === undefined) throw new Error(`type ${r.id}: typedef/modifier chain longer than 64`);
    return r.t;
  }

  /** the TS type of a value of type `id` (compile.ts dec()); named types and typedefs of compound types by name */
  type(id: number, indent: string): string {
    const t = this.#src.get(id);
    switch (t.kind) {
      case 'alias': {
        if (!t.name) return this.type(t.type, indent);
        const r = this.#resolve(t.type);
        if (r.kind === 'int' || r.kind === 'float' || r.kind === 'ptr') return this.type(t.type, indent);
        // `typedef struct foo foo`: one name for both
        if ((r.kind === 'struct' || r.kind === 'union' || r.kind === 'enum') && r.name === t.name) return this.type(t.type, indent);
        return this.#declare(id, t.name, this.#typedefDoc(t.type, t.name, r), (self) => {
          // `typedef struct { … } name`: an interface of that name
          const anon = this.#skipModifiers(t.type);
          const a = this.#src.get(anon);
          if ((a.kind === 'struct' || a.kind === 'union') && !a.name) return `export interface ${self} ${this.#object(a, '')}`;
          return `export type ${self} = ${this.type(t.type, '')};`;
        });
      }
      case 'int':
        // a typedef'd int's bits (kind_flag 0 bitfields) read as a number or, from 64-bit types, a bigint
        if (t.bits !== t.size * 8 || t.bitOffset !== 0) return t.size >= 8 ? 'bigint' : 'number';
        if (t.bool && t.size === 1) return 'boolean';
        return t.size >= 8 ? 'bigint' : 'number';
      case 'ptr': return 'bigint';
      case 'float': return 'number';
      case 'enum':
        if (!t.name) return this.#enum(t);
        return this.#declare(id, t.name, `enum ${t.name} (${bytes(t.size)})${this.#o.enumNames ? '' : enumerators(t)}`, (self) => `export type ${self} = ${this.#enum(t)};`);
      case 'array': {
        const elem = this.type(t.type, indent);
        const list = t.count <= MAX_TUPLE ? `[${Array.from({ length: t.count }, () => elem).join(', ')}]` : arrayOf(elem);
        // compile.ts: text when the bytes are UTF-8, else the numbers
        return this.#o.strings && this.#isChar(t.type) ? `string | ${list}` : list;
      }
      case 'struct': case 'union':
        if (!t.name) return this.#object(t, indent);
        return this.#declare(id, t.name, `${t.kind} ${t.name} (${bytes(t.size)})`, (self) => `export interface ${self} ${this.#object(t, '')}`);
      default:
        throw new Error(`type ${id}: ${t.kind === 'other' ? t.what : t.kind} has no JS value`);
    }
  }

  /** const/volatile/restrict/type_tag skipped (typedefs kept) */
  #skipModifiers(id: number): number {
    for (let t = this.#src.get(id); t.kind === 'alias' && !t.name; t = this.#src.get(id)) id = t.type;
    return id;
  }

  /** `typedef __u8 mac_t[6]`, `typedef struct { … } pair_t (8 bytes)`, `typedef enum { … } state_t: A = 0, B = 5` */
  #typedefDoc(target: number, name: string, r: CodecType): string {
    const c = this.#cName(target);
    const dims = c.indexOf('[');
    const anon = r.kind === 'struct' || r.kind === 'union' || r.kind === 'enum' ? !r.name : false;
    let doc = `typedef ${dims < 0 ? `${c}${anon ? ' { … }' : ''} ${name}` : `${c.slice(0, dims)} ${name}${c.slice(dims)}`}`;
    if (anon && r.kind !== 'enum' && (r.kind === 'struct' || r.kind === 'union')) doc += ` (${bytes(r.size)})`;
    if (anon && r.kind === 'enum' && !this.#o.enumNames) doc += enumerators(r);
    return doc;
  }

  #isChar(id: number): boolean {
    return isCharType(this.#resolve(id));
  }

  #enum(t: Enum): string {
    const raw = t.size === 8 ? 'bigint' : 'number';
    if (!this.#o.enumNames || t.values.length === 0) return raw;
    const names = [...new Set(t.values.map((v) => v.name))];
    return `${names.map((n) => `'${n}'`).join(' | ')} | ${raw}`;
  }

  /** the TS name of a declared type, declaring it when first reached */
  #declare(id: number, cName: string, doc: string, body: (self: string) => string): string {
    const have = this.#names.get(id);
    if (have) return have;
    const base = cName.replace(/[^\w$]/g, '_').replace(/^(?=\d)/, '_');
    let name = base;
    if (RESERVED.has(name) || this.#taken.has(name)) name = `${doc.slice(0, doc.indexOf(' '))}_${base}`;
    for (let n = 2; RESERVED.has(name) || this.#taken.has(name); n++) name = `${doc.slice(0, doc.indexOf(' '))}_${base}_${n}`;
    this.#taken.add(name);
    this.#names.set(id, name);
    const slot = this.decls.length;
    this.decls.push('');
    this.decls[slot] = `/** ${doc}${name !== cName ? `: named ${name} here` : ''} */\n${body(name)}`;
    return name;
  }

  /** an object type: `{ … }` over several lines at `indent` */
  #object(t: Struct, indent: string): string {
    return this.objectOf(this.fields(t.members, t.kind === 'union', indent + '  '), indent);
  }

  objectOf(fields: readonly Field[], indent: string): string {
    if (fields.length === 0) return '{}';
    const lines = fields.map((f) => `${indent}  ${key(f.name)}${f.optional ? '?' : ''}: ${f.type};${f.comment ? ` // ${f.comment}` : ''}`);
    return `{\n${lines.join('\n')}\n${indent}}`;
  }

  /**
   * The fields of a struct (optional = false) or a union (true): anonymous struct members at this
   * level, anonymous union members too and optional (encode takes one or more of a union's members,
   * decode gives all), other unnamed members (padding) left out — compile.ts's #flatten/#choices.
   */
  fields(members: readonly CodecMember[], optional: boolean, indent: string): Field[] {
    const out: Field[] = [];
    for (const m of members) {
      const t = this.#resolve(m.type);
      if (m.name === '' && (t.kind === 'struct' || t.kind === 'union')) out.push(...this.fields(t.members, optional || t.kind === 'union', indent));
      else if (m.name !== '') out.push(this.#member(m, optional, indent));
    }
    return out;
  }

  /** compile.ts #decMember: a bitfield is a number (bigint of a 64-bit type, boolean of a _Bool) */
  #member(m: CodecMember, optional: boolean, indent: string): Field {
    const t = this.#resolve(m.type);
    const bits = bitfieldBits(m, t);
    let type: string;
    if (bits !== undefined && t.kind === 'int') type = t.bool ? 'boolean' : t.size >= 8 ? 'bigint' : 'number';
    else type = this.type(m.type, indent);
    // the C type where the TS type does not say it (scalars, arrays of them, bitfields)
    const c = this.#cName(m.type);
    const named = this.#names.get(m.type) === type || t.kind === 'struct' || t.kind === 'union' && !t.name;
    const comment = bits !== undefined ? `${c} : ${bits}` : named || c === type ? '' : c;
    return { name: m.name, type, optional, comment };
  }

  /** the C spelling of a type for comments (qualifiers left out) */
  #cName(id: number): string {
    const t = this.#src.get(id);
    switch (t.kind) {
      case 'alias': return t.name ?? this.#cName(t.type);
      case 'int': case 'float': return t.name;
      case 'ptr': return 'pointer';
      case 'enum': return t.name ? `enum ${t.name}` : 'enum';
      case 'struct': case 'union': return t.name ? `${t.kind} ${t.name}` : t.kind;
      case 'array': {
        let dims = `[${t.count}]`;
        let elem = t.type;
        for (let e = this.#src.get(elem); e.kind === 'array'; e = this.#src.get(elem)) {
          dims += `[${e.count}]`;
          elem = e.type;
        }
        return `${this.#cName(elem)}${dims}`;
      }
      case 'void': return 'void';
      default: return t.what;
    }
  }
}

/** compile.ts #bitfield: the width of a member stored as a bitfield, undefined for whole bytes */
function bitfieldBits(m: CodecMember, t: CodecType): number | undefined {
  if (t.kind === 'int') {
    const bits = m.bitSize || t.bits;
    const off = m.bitOffset + (m.bitSize ? 0 : t.bitOffset);
    return bits === t.size * 8 && off % 8 === 0 ? undefined : bits;
  }
  if (m.bitSize === 0 && m.bitOffset % 8 === 0) return undefined;
  return m.bitSize || (t.kind === 'enum' ? t.size * 8 : undefined);
}

/** `: RED = 1, GREEN = 2` for an enum's doc comment (the first 16) */
function enumerators(t: Enum): string {
  if (t.values.length === 0) return '';
  const shown = t.values.slice(0, 16).map((v) => `${v.name} = ${v.value}`);
  return `: ${shown.join(', ')}${t.values.length > 16 ? `, … (${t.values.length})` : ''}`;
}

/** The codec loadObject would give one side of a map, or why it gives raw bytes. */
function sideCodec(src: CodecTypeSource | undefined, id: number, size: number | undefined, o: CodecOptions): { ok: true } | { ok: false; why: string } {
  if (!src || !id) return { ok: false, why: 'no BTF type' };
  try {
    const c = compileCodec(src, id, o);
    return size === undefined || c.size === size ? { ok: true } : { ok: false, why: `its BTF type is ${c.size} bytes, the map's ${size}` };
  } catch (e) {
    return { ok: false, why: `its BTF type has no codec (${(e as Error).message})` };
  }
}

/**
 * The TypeScript module declaring what `spec`'s maps and global data decode to in JS, for the
 * typedMaps options given: an interface or type per named C type reached, `Maps` (each map as the
 * BpfMap<K, V> loadObject gives) and `Globals` (each global-data section's variables as a BTF codec
 * of the section decodes them). Maps without BTF types are Uint8Array both ways.
 */
export function generateTypes(spec: ObjectSpec, o: GenerateTypesOptions = {}): string {
  const opts: CodecOptions = { strings: o.strings === true, enumNames: o.enumNames === true };
  const btf = spec.source.btf;
  const src = btf ? btfCodecSource(btf) : undefined;
  const w = new TypeWriter(src ?? { get: () => ({ kind: 'void' }) }, opts);
  const maps: string[] = [];
  const globals: string[] = [];
  const sections: string[] = [];
  const first = spec.maps.keys().next().value;
  let example = first === undefined ? undefined : `const map = obj.map<Uint8Array, Uint8Array>('${first}');`;
  let typedExample = false;
  for (const m of spec.maps.values()) {
    maps.push(mapEntry(w, src, m, opts, (k, v) => {
      const name = IDENT.test(m.name) && !RESERVED.has(m.name) ? m.name : 'map';
      if (typedExample || `${k}${v}`.includes('\n')) return;
      example = `const ${name} = obj.map<${k}, ${v}>('${m.name}');`;
      typedExample = true;
    }));
    // a section's BTF (DATASEC) has its layout filled in at load; its variables' types are here already
    const ds = m.kind === 'data' && src && m.valueTypeId ? src.get(m.valueTypeId) : undefined;
    if (ds?.kind === 'struct' && sideCodec(src, m.valueTypeId, undefined, opts).ok) {
      globals.push(`  ${key(m.name)}: ${w.objectOf(w.fields(ds.members, false, '    '), '  ')};`);
      sections.push(m.name);
    }
  }
  const from = o.from ?? `${spec.name}.o`;
  const shown = `{ strings: ${opts.strings}, enumNames: ${opts.enumNames} }`;
  const head = [
    `// Generated by \`tsbpf gen types\` from ${from} with ${shown}. Do not edit.`,
    '//',
    ...(btf ? [
      '// The keys and values this object\'s maps give in JS once loaded with the same options',
      `// (loadObject(path, { typedMaps: ${shown} }); networkOrder changes values, not these types):`,
      '// named C types by their names, union members optional (encode takes one or more, decode gives all),',
      '// maps without BTF key/value types as raw bytes.',
    ] : ['// The object has no BTF: every map\'s keys and values are raw bytes.']),
    '//',
    '//   import { loadObject } from \'tsbpf\';',
    `//   const obj = loadObject('${from}'${btf ? `, { typedMaps: ${shown} }` : ''});`,
    ...(example ? [`//   ${example}`] : []),
  ];
  const out = [head.join('\n')];
  if (spec.maps.size > 0) out.push('import type { BpfMap } from \'tsbpf\';');
  out.push(...w.decls);
  out.push(`/** ${spec.name}'s maps by name, as loadObject types them */\nexport interface Maps ${maps.length ? `{\n${maps.join('\n')}\n}` : '{}'}`);
  if (globals.length === 0) out.push(`/** ${spec.name} has no global variables with BTF */\nexport interface Globals {}`);
  else out.push([
    '/**',
    ` * ${spec.name}'s global variables by section, as a BTF codec of the loaded section decodes them (the`,
    ' * kernel\'s copy of the object\'s BTF has the section laid out):',
    ` *   const data = obj.map('${sections[0]}'), kb = mapBtf(data.info())!;`,
    ` *   withBtfCodecs<Uint8Array, Globals['${sections[0]}']>(data, btfCodecSource(kb.btf), 0, kb.valueTypeId, ${shown}).lookup(0);`,
    ' * loadObject leaves global-data maps raw; obj.globals.get(name) gives integers up to 64 bits, floats',
    ' * and _Bool as here, enums as numbers, the rest as bytes.',
    ' */',
    `export interface Globals {\n${globals.join('\n')}\n}`,
  ].join('\n'));
  return `${out.join('\n\n')}\n`;
}

/** One line of the Maps interface (with its doc comment); `typed` is told a map's K and V when it has a codec. */
function mapEntry(w: TypeWriter, src: CodecTypeSource | undefined, m: MapSpec, o: CodecOptions, typed: (k: string, v: string) => void): string {
  const perCpu = isPerCpu(m.type);
  const notes = [`${m.typeName}, max_entries ${m.maxEntries}`];
  let k = 'Uint8Array';
  let v = 'Uint8Array';
  if (m.kind === 'data') {
    notes.push('global data, left raw by loadObject (see Globals)');
  } else {
    const kc = m.keySize === 0 ? undefined : sideCodec(src, m.keyTypeId, m.keySize, { ...o, what: 'key' });
    const vc = sideCodec(src, m.valueTypeId, m.valueSize, { ...o, what: 'value' });
    if (kc?.ok) k = w.type(m.keyTypeId, '  ');
    if (vc.ok) v = w.type(m.valueTypeId, '  ');
    if (m.keySize === 0) notes.push('no keys');
    const rawKeys = kc && !kc.ok ? kc.why : undefined;
    const rawValues = !vc.ok && m.valueSize > 0 ? vc.why : undefined;
    if (rawKeys && rawKeys === rawValues) notes.push(`raw keys and values: ${rawKeys}`);
    else {
      if (rawKeys) notes.push(`raw keys: ${rawKeys}`);
      if (rawValues) notes.push(`raw values: ${rawValues}`);
    }
    if (kc?.ok || vc.ok) typed(k, perCpu ? arrayOf(v) : v);
  }
  if (perCpu) notes.push('one value per possible CPU');
  return `  /** ${notes.join('; ')} */\n  ${key(m.name)}: BpfMap<${k}, ${perCpu ? arrayOf(v) : v}>;`;
}
