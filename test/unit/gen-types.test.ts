// `tsbpf gen types`: the TypeScript module of an object's map and global types (lib/codec/ts-types.ts).
// Exact text for the codec objects' types; every object the project builds gives a module tsc takes;
// values the codecs really decode (from bytes, through the loader's own typedMap) and union values the
// encoders really take are checked against the generated types by tsc, and the check is shown to
// fail on a wrong type; the CLI prints what the function gives.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readObject, type ObjectSpec } from '../../lib/object/read.js';
import type { MapSpec } from '../../lib/object/spec.js';
import { typedMap } from '../../lib/object/typed.js';
import { isPerCpu } from '../../lib/map/cpus.js';
import type { BpfMap, Codec } from '../../lib/map/map.js';
import { generateTypes, type GenerateTypesOptions } from '../../lib/codec/ts-types.js';
import { compileCodec } from '../../lib/codec/compile.js';
import { btfCodecSource } from '../../lib/codec/btf-source.js';
import type { CodecType, CodecTypeSource } from '../../lib/codec/types.js';
import { builtObjects } from '../helpers/bpf-objects.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BOTH: GenerateTypesOptions = { strings: true, enumNames: true };

/** tsc (strict) over `files` in a fresh directory, 'tsbpf' being this checkout's lib/index.ts: the error lines per file */
function typecheck(files: Record<string, string>): Map<string, string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-gen-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'ESNext.Disposable'],
        types: ['node'], typeRoots: [path.join(root, 'node_modules/@types')], skipLibCheck: true, isolatedModules: true, verbatimModuleSyntax: true,
        paths: { tsbpf: [path.join(root, 'lib/index.ts')] },
      },
      files: Object.keys(files),
    }));
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) throw r.error;
    const out = new Map<string, string[]>(Object.keys(files).map((f) => [f, []]));
    // errors of the files given (lib's own, from other work in the checkout, are not this test's)
    for (const line of `${r.stdout}${r.stderr}`.split('\n')) {
      const m = /^([\w.-]+\.ts)\(\d+,\d+\): error /.exec(line);
      if (m && out.has(m[1])) out.get(m[1])!.push(line);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** a TypeScript literal of a decoded value */
function lit(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (typeof x === 'string' || typeof x === 'boolean') return JSON.stringify(x);
  if (x instanceof Uint8Array) return `new Uint8Array([${x.join(', ')}])`;
  if (Array.isArray(x)) return `[${x.map(lit).join(', ')}]`;
  if (x !== null && typeof x === 'object') return `{ ${Object.entries(x).map(([k, v]) => `${JSON.stringify(k)}: ${lit(v)}`).join(', ')} }`;
  throw new Error(`no literal for ${String(x)}`);
}

/** bytes to decode: zeros, ones, words of 1 (enumerators, small numbers), letters (strings), seeded noise */
function samples(size: number): Uint8Array[] {
  let seed = 0x2545f491 ^ size;
  const noise = (): Uint8Array => Uint8Array.from({ length: size }, () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 24;
  });
  return [
    new Uint8Array(size),
    new Uint8Array(size).fill(0xff),
    Uint8Array.from({ length: size }, (_, i) => (i % 4 === 0 ? 1 : 0)),
    Uint8Array.from({ length: size }, (_, i) => 0x61 + (i % 26)),
    noise(), noise(), noise(),
  ];
}

/** The codecs loadObject gives a map: lib/object/typed.ts run on a stand-in for the live map (global data stays raw, as load.ts leaves it). */
function loaderCodecs(spec: ObjectSpec, m: MapSpec, o: GenerateTypesOptions): { key?: Codec<unknown>; value?: Codec<unknown> } {
  const btf = spec.source.btf;
  let got: { key?: Codec<unknown>; value?: Codec<unknown> } = {};
  if (!btf || m.kind === 'data' || !(m.keyTypeId || m.valueTypeId)) return got;
  const stand = { keySize: m.keySize, valueSize: m.valueSize, withCodecs(c: typeof got) { got = c; return stand; } };
  typedMap(stand as unknown as BpfMap, btf, m, o);
  return got;
}

/** The object's BTF with each global-data section laid out as at load (the kernel's copy of it). */
function laidOut(spec: ObjectSpec): CodecTypeSource {
  const btf = spec.source.btf!;
  const src = btfCodecSource(btf);
  const fixed = new Map(spec.source.datasecs.map((f) => [f.id, f]));
  return {
    get(id: number): CodecType {
      const f = fixed.get(id);
      if (!f) return src.get(id);
      const members = f.vars.flatMap((v) => {
        const t = btf.type(v.type);
        return t.kind === 'var' ? [{ name: t.name, type: t.type, bitOffset: v.offset * 8, bitSize: 0 }] : [];
      });
      return { kind: 'struct', name: '', size: f.size, members };
    },
  };
}

/** values of one union choice that the encoders take, with the members to leave out (the rest of the decoded value stays) */
const ONE_CHOICE: Record<string, { map: string; drop: string[]; nested?: Record<string, string[]> }[]> = {
  'codec_conns.o': [{ map: 'kitchen', drop: ['ip6'] }],
  'codec_shapes.o': [{ map: 'in', drop: ['ip6', 'lo', 'hi'] }, { map: 'puns', drop: ['fbits', 'byte', 'low'], nested: { named: ['dbits'] } }],
  'gen_shapes.o': [{ map: 'records', drop: ['whole', 'shigh'] }],
};

/**
 * A program assigning to the generated types (module `types`): what the loader's codecs decode for
 * each map from each sample (per-CPU: one value per CPU), what a codec of each section laid out
 * decodes from the section's own bytes and the samples, and one-choice union values the encoders take.
 */
function conformance(spec: ObjectSpec, file: string, o: GenerateTypesOptions, types: string): string {
  const lines = [
    'import type { BpfMap } from \'tsbpf\';',
    `import type { Maps, Globals } from './${types}.js';`,
    'type K<M> = M extends BpfMap<infer A, unknown> ? A : never;',
    'type V<M> = M extends BpfMap<unknown, infer B> ? B : never;',
  ];
  let n = 0;
  const out = (t: string, x: unknown): void => { lines.push(`export const v${n++}: ${t} = ${lit(x)};`); };
  for (const m of spec.maps.values()) {
    const c = loaderCodecs(spec, m, o);
    const entry = `Maps[${JSON.stringify(m.name)}]`;
    for (const b of samples(m.keySize)) if (m.keySize > 0) out(`K<${entry}>`, c.key ? c.key.decode(b) : b);
    const vs = samples(m.valueSize).map((b) => (c.value ? c.value.decode(b) : b));
    for (let i = 0; i < vs.length; i++) out(`V<${entry}>`, isPerCpu(m.type) ? [vs[i], vs[(i + 1) % vs.length]] : vs[i]);
    for (const one of ONE_CHOICE[file] ?? []) {
      if (one.map !== m.name) continue;
      const codec = compileCodec(btfCodecSource(spec.source.btf!), m.valueTypeId, o);
      for (const b of samples(m.valueSize)) {
        const x = { ...(codec.decode(b) as Record<string, unknown>) };
        for (const k of one.drop) delete x[k];
        for (const [k, drop] of Object.entries(one.nested ?? {})) {
          x[k] = { ...(x[k] as Record<string, unknown>) };
          for (const d of drop) delete (x[k] as Record<string, unknown>)[d];
        }
        codec.encode(x); // the encoder takes it
        out(`V<${entry}>`, x);
      }
    }
  }
  const sections = spec.source.btf ? laidOut(spec) : undefined;
  for (const m of spec.maps.values()) {
    if (m.kind !== 'data' || !m.valueTypeId || !sections) continue;
    const codec = compileCodec(sections, m.valueTypeId, o);
    for (const b of [m.data!, ...samples(m.valueSize)]) out(`Globals[${JSON.stringify(m.name)}]`, codec.decode(b));
  }
  return `${lines.join('\n')}\n`;
}

/** The module's usage lines (header and Globals doc) as a program of their own, with the module's types in scope. */
function usage(text: string, types: string): string {
  const names = [...text.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]);
  const snippet = [...text.matchAll(/^(?:\/\/| \*) {3}(.*)$/gm)].map((m) => m[1]);
  return [`import type { ${names.join(', ')} } from './${types}.js';`, 'import { mapBtf, withBtfCodecs, btfCodecSource } from \'tsbpf\';', ...snippet, ''].join('\n');
}

function tsbpf(args: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

const CONNS_MODULE = `// Generated by \`tsbpf gen types\` from codec_conns.o with { strings: false, enumNames: false }. Do not edit.
//
// The keys and values this object's maps give in JS once loaded with the same options
// (loadObject(path, { typedMaps: { strings: false, enumNames: false } }); networkOrder changes values, not these types):
// named C types by their names, union members optional (encode takes one or more, decode gives all),
// maps without BTF key/value types as raw bytes.
//
//   import { loadObject } from 'tsbpf';
//   const obj = loadObject('codec_conns.o', { typedMaps: { strings: false, enumNames: false } });
//   const stats = obj.map<number, conn_val[]>('stats');

import type { BpfMap } from 'tsbpf';

/** struct conn_val (16 bytes) */
export interface conn_val {
  packets: bigint; // __u64
  bytes: bigint; // __u64
}

/** struct conn_key (12 bytes) */
export interface conn_key {
  saddr: number; // __u32
  daddr: number; // __u32
  proto: number; // __u8
  pad: [number, number, number]; // __u8[3]
}

/** struct kitchen (64 bytes) */
export interface kitchen {
  a: number; // __u8
  b: number; // s16_t
  flags: number; // __u32 : 3
  level: number; // __u32 : 5
  delta: number; // __s32 : 7
  color: color;
  comm: [number, number, number, number, number, number, number, number]; // char[8]
  big: bigint; // __u64
  neg: bigint; // __s64
  ratio: number; // float
  mean: number; // double
  ip4?: number; // __u32
  ip6?: [number, number, number, number]; // __u8[4]
  ok: boolean; // _Bool
}

/** enum color (4 bytes): RED = 1, GREEN = 2, BLUE = 4294967295 */
export type color = number;

/** codec_conns's maps by name, as loadObject types them */
export interface Maps {
  /** percpu_array, max_entries 1; one value per possible CPU */
  stats: BpfMap<number, conn_val[]>;
  /** lru_hash, max_entries 1024 */
  conns: BpfMap<conn_key, conn_val>;
  /** array, max_entries 1 */
  kitchen: BpfMap<number, kitchen>;
}

/** codec_conns has no global variables with BTF */
export interface Globals {}
`;

/** the declaration `/** doc *\/ export … name …` of a generated module, up to the blank line after it */
function decl(text: string, name: string): string {
  const m = new RegExp(`(?:^|\\n)(/\\*\\*[^\\n]*\\*/\\nexport (?:interface|type) ${name}\\b[\\s\\S]*?)\\n\\n`).exec(`${text}\n`);
  if (!m) throw new Error(`no declaration of ${name} in\n${text}`);
  return m[1];
}

describe('gen types', function () {
  this.timeout(120_000);

  it('codec_conns.o without options: the whole module, exactly', () => {
    expect(generateTypes(readObject('bpf/codec_conns.o'))).to.equal(CONNS_MODULE);
  });

  it('codec_conns.o with strings and enumNames: char arrays may be strings, enums their names (or a number)', () => {
    const text = generateTypes(readObject('bpf/codec_conns.o'), BOTH);
    expect(text.split('\n')[0]).to.equal('// Generated by `tsbpf gen types` from codec_conns.o with { strings: true, enumNames: true }. Do not edit.');
    expect(decl(text, 'color')).to.equal('/** enum color (4 bytes) */\nexport type color = \'RED\' | \'GREEN\' | \'BLUE\' | number;');
    expect(decl(text, 'kitchen')).to.include('\n  comm: string | [number, number, number, number, number, number, number, number]; // char[8]\n');
    // nothing else changes
    expect(text.replace(/true/g, 'false').replace(/'RED' \| 'GREEN' \| 'BLUE' \| number;/, 'number;').replace('comm: string | ', 'comm: ')
      .replace('/** enum color (4 bytes) */', '/** enum color (4 bytes): RED = 1, GREEN = 2, BLUE = 4294967295 */')).to.equal(CONNS_MODULE);
  });

  it('codec_shapes.o: bitfields of each kind, packed enums, 128-bit ints, nested arrays, unions anonymous and named', () => {
    const text = generateTypes(readObject('bpf/codec_shapes.o'), BOTH);
    const shape = decl(text, 'shape');
    for (const line of [
      'a: number; // __u8 : 3', 'sneg: number; // __s8 : 4', 'ebf: e32; // enum e32 : 8', 'flag: boolean; // _Bool : 1', 'wide: bigint; // __s64 : 40',
      'u128: bigint; // unsigned __int128', 'e1: pk_neg;', 'ip4?: number; // __u32', 'lo?: number; // __u16', 'n1: number; // __u8',
      'matrix: [[number, number, number], [number, number, number]]; // __u8[2][3]', 'name: string | [number, number, number, number, number, number]; // char[6]',
      'ps: packed_s;',
    ]) expect(shape).to.include(`\n  ${line}\n`);
    expect(decl(text, 'pk_neg')).to.equal('/** enum pk_neg (1 byte) */\nexport type pk_neg = \'PK_ONE\' | \'PK_NEG\' | number;');
    expect(decl(text, 'puns')).to.equal(`/** struct puns (24 bytes) */
export interface puns {
  f?: number; // float
  fbits?: number; // __u32
  b?: boolean; // _Bool
  byte?: number; // __u8
  named: {
    d?: number; // double
    dbits?: bigint; // __u64
  };
  flag?: boolean; // _Bool : 1
  low?: number; // __u8 : 4
}`);
    expect(text).to.include('\n  /** array, max_entries 1; global data, left raw by loadObject (see Globals) */\n  \'.rodata.str1.1\': BpfMap<Uint8Array, Uint8Array>;\n');
  });

  it('gen_shapes.o: typedefs, clashing and reserved names, long arrays, keyless and untyped-key maps, globals by section', () => {
    const text = generateTypes(readObject('bpf/gen_shapes.o'));
    expect(decl(text, 'pair_t')).to.equal('/** typedef struct { … } pair_t (8 bytes) */\nexport interface pair_t {\n  lo: number; // __u32\n  hi: number; // __u32\n}');
    expect(decl(text, 'state_t')).to.equal('/** typedef enum { … } state_t: ST_IDLE = 0, ST_BUSY = 5 */\nexport type state_t = number;');
    expect(decl(text, 'alias_node')).to.equal('/** typedef struct node alias_node */\nexport type alias_node = node;');
    expect(decl(text, 'other')).to.equal('/** typedef struct node other */\nexport type other = node;');
    expect(decl(text, 'struct_other')).to.equal('/** struct other (4 bytes): named struct_other here */\nexport interface struct_other {\n  a: number; // __u32\n}');
    expect(decl(text, 'struct_string')).to.match(/^\/\*\* struct string \(4 bytes\): named struct_string here \*\//);
    expect(decl(text, 'struct_Maps')).to.match(/^\/\*\* struct Maps \(4 bytes\): named struct_Maps here \*\//);
    expect(decl(text, 'mac_t')).to.equal('/** typedef __u8 mac_t[6] */\nexport type mac_t = [number, number, number, number, number, number];');
    expect(text).to.not.match(/export type node\b/); // `typedef struct node node` is the struct
    const record = decl(text, 'record');
    for (const line of [
      'span: pair_t;', 'head: node;', 'nodes: [alias_node, alias_node, alias_node]; // alias_node[3]', 'twin: other;', 'o: struct_other;',
      'samples: number[]; // __u32[20]', 'path: number[]; // char[24]', 's: struct_string;', 'm: struct_Maps;', 'whole?: bigint; // __u64',
      'low?: number; // __u32', 'shigh?: number; // __s32', 'anon_enum: number; // enum', 'ptr: bigint; // pointer', 'constructor: number; // int',
      'flag: number; // __u32 : 1', 'deep_bits: bigint; // __u64 : 40', 'matrix: [[number, number], [number, number]]; // float[2][2]',
    ]) expect(record).to.include(`\n  ${line}\n`);
    expect(record.split('\n').filter((l) => l.startsWith('  ')).length).to.equal(21); // the unnamed `__u32 : 8` is not a field
    const maps = text.slice(text.indexOf('export interface Maps'));
    for (const line of [
      '/** queue, max_entries 8; no keys */\n  pending: BpfMap<Uint8Array, node>;',
      '/** bloom_filter, max_entries 16; no keys */\n  seen_ids: BpfMap<Uint8Array, number>;',
      '/** array, max_entries 4; raw keys: no BTF type */\n  untyped_keys: BpfMap<Uint8Array, node>;',
      '/** percpu_hash, max_entries 16; one value per possible CPU */\n  per_node: BpfMap<node, bigint[]>;',
      '/** array, max_entries 2 */\n  states: BpfMap<number, state_t>;',
      '/** ringbuf, max_entries 4096; no keys */\n  events: BpfMap<Uint8Array, Uint8Array>;',
      '/** array, max_entries 1; global data, left raw by loadObject (see Globals) */\n  \'.bss\': BpfMap<Uint8Array, Uint8Array>;',
    ]) expect(maps).to.include(`\n  ${line}\n`);
    expect(text).to.include(`export interface Globals {
  '.rodata': {
    default_state: state_t;
  };
  '.data': {
    touches: bigint; // __u64
  };
  '.bss': {
    last_record: record;
  };
}
`);
    const named = generateTypes(readObject('bpf/gen_shapes.o'), BOTH);
    expect(decl(named, 'state_t')).to.equal('/** typedef enum { … } state_t */\nexport type state_t = \'ST_IDLE\' | \'ST_BUSY\' | number;');
    expect(decl(named, 'record')).to.include('\n  path: string | number[]; // char[24]\n');
    expect(decl(named, 'record')).to.include('\n  anon_enum: \'ANON_A\' | \'ANON_B\' | number; // enum\n');
  });

  it('an object without BTF: every map raw, no globals, said in the header', () => {
    const text = generateTypes(readObject('bpf/build/nog/obj_legacy.o'));
    expect(text).to.include('// The object has no BTF: every map\'s keys and values are raw bytes.\n');
    expect(text).to.include('  /** hash, max_entries 16; raw keys and values: no BTF type */\n  legacy_hash: BpfMap<Uint8Array, Uint8Array>;\n');
    expect(text).to.include('export interface Globals {}\n');
  });

  it('for every object the project builds (bpf/*.o and the variants), the module compiles under strict tsc, with and without the options', () => {
    const files: Record<string, string> = {};
    const refused: string[] = [];
    for (const f of builtObjects()) {
      let spec: ObjectSpec;
      try {
        spec = readObject(f);
      } catch {
        refused.push(f); // objects readObject refuses on purpose (obj_bad_*, nog builds of .maps objects)
        continue;
      }
      const base = f.replace(/[/.]/g, '_');
      files[`${base}.ts`] = generateTypes(spec);
      files[`${base}_se.ts`] = generateTypes(spec, BOTH);
    }
    expect(Object.keys(files).length, 'modules generated').to.be.greaterThan(60);
    expect(refused.filter((f) => !/obj_bad_|\/nog\//.test(f)), 'refused objects').to.deep.equal([]);
    const errors = [...typecheck(files).values()].flat();
    expect(errors, errors.slice(0, 20).join('\n')).to.deep.equal([]);
  });

  it('what the codecs decode from bytes, and one-choice union values the encoders take, assign to the generated types; a wrong type fails; the usage comments compile', () => {
    const files: Record<string, string> = {};
    for (const file of ['codec_conns.o', 'codec_shapes.o', 'gen_shapes.o', 'obj_globals.o', 'obj_global_kinds.o']) {
      const spec = readObject(`bpf/${file}`);
      for (const [tag, o] of [['plain', {}], ['se', BOTH]] as const) {
        const types = `types_${file.replace('.o', '')}_${tag}`;
        files[`${types}.ts`] = generateTypes(spec, o);
        files[`check_${file.replace('.o', '')}_${tag}.ts`] = conformance(spec, file, o, types);
        files[`usage_${file.replace('.o', '')}_${tag}.ts`] = usage(files[`${types}.ts`], types);
      }
    }
    const decoded = Object.entries(files).filter(([f]) => f.startsWith('check_')).map(([, t]) => t).join('\n');
    // the samples reach the cases that matter: enumerator names, strings and numbers from char arrays, unions given by one member
    for (const want of ['"RED"', '"PK_ONE"', '"ST_BUSY"', '"comm": "', '"comm": [', '"greeting": "', '"ip4": 1,']) expect(decoded).to.include(want);
    // a wrong module: each mutation of codec_conns' types must make its check fail
    const right = files['types_codec_conns_plain.ts'];
    const mutations: [string, string][] = [
      ['packets: bigint;', 'packets: number;'], // bigint for number
      ['ip6?: [', 'ip6: ['], // a union member required
      ['pad: [number, number, number];', 'pad: [number, number];'], // a tuple one short
      ['comm: [number, number, number, number, number, number, number, number];', 'comm: string;'], // the strings option ignored
      ['stats: BpfMap<number, conn_val[]>;', 'stats: BpfMap<number, conn_val>;'], // per-CPU not an array
    ];
    mutations.forEach(([from, to], i) => {
      expect(right).to.include(from);
      files[`types_mut${i}.ts`] = right.replace(from, to);
      files[`check_mut${i}.ts`] = files['check_codec_conns_plain.ts'].replace('./types_codec_conns_plain.js', `./types_mut${i}.js`);
    });
    const errors = typecheck(files);
    for (const [f, e] of errors) {
      if (f.startsWith('check_mut')) expect(e.length, `${f} (${mutations[Number(f.slice(9, -3))][1]}) should not compile`).to.be.greaterThan(0);
      else expect(e, `${f}:\n${e.slice(0, 10).join('\n')}`).to.deep.equal([]);
    }
  });

  it('CLI: prints what generateTypes gives, -o writes it, --strings --enum-names are the options', () => {
    const plain = tsbpf(['gen', 'types', 'bpf/codec_conns.o']);
    expect(plain.status, plain.err).to.equal(0);
    expect(plain.err).to.equal('');
    expect(plain.out).to.equal(CONNS_MODULE);
    const both = tsbpf(['gen', 'types', '--strings', '--enum-names', 'bpf/gen_shapes.o']);
    expect(both.status, both.err).to.equal(0);
    expect(both.out).to.equal(generateTypes(readObject('bpf/gen_shapes.o'), { ...BOTH, from: 'gen_shapes.o' }));
    const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-gen-'));
    try {
      const file = path.join(dir, 'conntrack.ts');
      const r = tsbpf(['gen', 'types', 'bpf/conntrack.o', '-o', file, '--enum-names']);
      expect(r.status, r.err).to.equal(0);
      expect(r.out + r.err).to.equal('');
      expect(readFileSync(file, 'utf8')).to.equal(generateTypes(readObject('bpf/conntrack.o'), { enumNames: true }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [args, msg] of [
    [['gen', 'types', 'bpf/no_such.o'], /^Error: cannot read object file bpf\/no_such\.o: ENOENT/],
    [['gen', 'types', 'README.md'], /^Error: elf: bad magic/],
    [['gen', 'types', 'bpf/obj_bad_section.o'], /^Error: unknown section "nonsense\/thing"/],
    [['gen', 'types', 'bpf/codec_conns.o', '-o', '/nonexistent/dir/x.ts'], /^Error: cannot write \/nonexistent\/dir\/x\.ts: ENOENT/],
    [['gen', 'types'], /^Error: missing required argument 'object'/],
    [['gen', 'types', 'bpf/codec_conns.o', '--names'], /^Error: unknown option '--names'/],
  ] as const) {
    it(`CLI: ${args.slice(2).join(' ') || '(no object)'}: one Error: line, status 1, nothing on stdout`, () => {
      const r = tsbpf([...args]);
      expect(r.status).to.equal(1);
      expect(r.out).to.equal('');
      expect(r.err).to.match(msg);
      expect(r.err.trimEnd().split('\n'), r.err).to.have.length(1);
    });
  }
});
