// sanitizeBtf: one test per libbpf rule (bpf_object__sanitize_btf), each checking the rewritten
// type and that the result still encodes to BTF that lib/btf parses and validates.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { readElf } from '../../lib/elf/index.js';
import { Btf } from '../../lib/btf/btf.js';
import { encodeBtf } from '../../lib/btf/encode.js';
import { sanitizeBtf, btfNeedsSanitizing, btfFeaturesFromKinds, ALL_BTF_FEATURES, type BtfKernelFeatures } from '../../lib/btf/sanitize.js';
import type { BtfType } from '../../lib/btf/types.js';

const INT: BtfType = { id: 1, kind: 'int', name: 'int', size: 4, bitOffset: 0, bits: 32, signed: true, char: false, bool: false };
const without = (k: keyof BtfKernelFeatures): BtfKernelFeatures => ({ ...ALL_BTF_FEATURES, [k]: false });

/** Sanitize, then encode and re-parse: the output must be valid BTF with the same ids. */
function run(types: BtfType[], f: BtfKernelFeatures) {
  const r = sanitizeBtf(types, f);
  const btf = Btf.parse(encodeBtf(r.types));
  btf.validate();
  const back: BtfType[] = [];
  for (let id = 1; id < btf.typeCount; id++) back.push(btf.type(id));
  expect(back).to.deep.equal(r.types);
  return r;
}

describe('lib/btf: sanitizeBtf', () => {
  it('changes nothing when the kernel has every feature (same array back)', () => {
    const types: BtfType[] = [INT, { id: 2, kind: 'type_tag', name: 'user', type: 1 }];
    expect(btfNeedsSanitizing(ALL_BTF_FEATURES)).to.equal(false);
    const r = sanitizeBtf(types, ALL_BTF_FEATURES);
    expect(r.types).to.equal(types);
    expect(r.changed).to.deep.equal([]);
  });

  it('no DATASEC: VAR → INT size 1 (name kept); DATASEC → STRUCT named with _ for . and ?, members named after the vars', () => {
    const types: BtfType[] = [
      INT,
      { id: 2, kind: 'var', name: 'counter', type: 1, linkage: 1 },
      { id: 3, kind: 'var', name: 'flag', type: 1, linkage: 1 },
      { id: 4, kind: 'datasec', name: '?.data.x', size: 8, vars: [{ type: 2, offset: 0, size: 4 }, { type: 3, offset: 4, size: 4 }] },
    ];
    const r = run(types, without('datasec'));
    expect(r.types[1]).to.deep.equal({ id: 2, kind: 'int', name: 'counter', size: 1, bitOffset: 0, bits: 8, signed: false, char: false, bool: false });
    expect(r.types[3]).to.deep.equal({
      id: 4, kind: 'struct', name: '__data_x', size: 8, kindFlag: false,
      members: [{ name: 'counter', type: 2, bitOffset: 0, bitfieldSize: 0 }, { name: 'flag', type: 3, bitOffset: 32, bitfieldSize: 0 }],
    });
    expect(r.changed).to.have.length(3);
    expect(r.changed[2]).to.match(/type 4 DATASEC '\?\.data\.x' → STRUCT '__data_x'/);
    expect(types[3]!.kind, 'input untouched').to.equal('datasec');
  });

  it("no '?' in DATASEC names: only the first character becomes _", () => {
    const types: BtfType[] = [INT, { id: 2, kind: 'var', name: 'v', type: 1, linkage: 1 }, { id: 3, kind: 'datasec', name: '?.bss', size: 4, vars: [{ type: 2, offset: 0, size: 4 }] }];
    const r = run(types, { ...ALL_BTF_FEATURES, qmarkDatasec: false });
    expect(r.types[2]).to.include({ kind: 'datasec', name: '_.bss' });
    expect(run(types, ALL_BTF_FEATURES).types[2]).to.include({ name: '?.bss' });
  });

  it('no FUNC: FUNC_PROTO → ENUM size 4 (params as enumerators = their type ids), FUNC → TYPEDEF', () => {
    const types: BtfType[] = [
      INT,
      { id: 2, kind: 'func_proto', name: '', returnType: 1, params: [{ name: 'a', type: 1 }, { name: 'b', type: 1 }] },
      { id: 3, kind: 'func', name: 'f', type: 2, linkage: 1 },
    ];
    const r = run(types, without('func'));
    expect(r.types[1]).to.deep.equal({ id: 2, kind: 'enum', name: '', size: 4, signed: false, values: [{ name: 'a', value: 1 }, { name: 'b', value: 1 }] });
    expect(r.types[2]).to.deep.equal({ id: 3, kind: 'typedef', name: 'f', type: 2 });
  });

  it('no FUNC: unnamed parameters get __argN names (the kernel refuses empty enumerator names)', () => {
    const r = run([INT, { id: 2, kind: 'func_proto', name: '', returnType: 0, params: [{ name: '', type: 1 }, { name: 'x', type: 1 }] }], without('func'));
    expect(r.types[1]).to.deep.include({ values: [{ name: '__arg0', value: 1 }, { name: 'x', value: 1 }] });
  });

  it('no global FUNC linkage: global and extern FUNCs become static', () => {
    const types: BtfType[] = [
      INT,
      { id: 2, kind: 'func_proto', name: '', returnType: 1, params: [] },
      { id: 3, kind: 'func', name: 'g', type: 2, linkage: 1 },
      { id: 4, kind: 'func', name: 's', type: 2, linkage: 0 },
    ];
    const r = run(types, without('funcLinkage'));
    expect(r.types[2]).to.include({ kind: 'func', linkage: 0 });
    expect(r.types[3]).to.equal(types[3]);
    expect(r.changed).to.have.length(1);
  });

  it('no FLOAT: FLOAT → anonymous STRUCT of the same size', () => {
    const r = run([{ id: 1, kind: 'float', name: 'double', size: 8 }], without('float'));
    expect(r.types[0]).to.deep.equal({ id: 1, kind: 'struct', name: '', size: 8, kindFlag: false, members: [] });
  });

  it('no DECL_TAG: DECL_TAG → INT size 1 (name kept)', () => {
    const r = run([INT, { id: 2, kind: 'decl_tag', name: 'tag', type: 1, componentIdx: -1 }], without('declTag'));
    expect(r.types[1]).to.include({ kind: 'int', name: 'tag', size: 1, bits: 8, signed: false });
  });

  it('no TYPE_TAG: TYPE_TAG → anonymous CONST of the same type', () => {
    const r = run([INT, { id: 2, kind: 'type_tag', name: 'user', type: 1 }, { id: 3, kind: 'ptr', name: '', type: 2 }], without('typeTag'));
    expect(r.types[1]).to.deep.equal({ id: 2, kind: 'const', name: '', type: 1 });
  });

  it('no ENUM64: signed ENUM loses its sign; ENUM64 → UNION of an appended enum64_placeholder INT', () => {
    const types: BtfType[] = [
      { id: 1, kind: 'enum', name: 'e', size: 4, signed: true, values: [{ name: 'NEG', value: -1 }] },
      { id: 2, kind: 'enum64', name: 'big', size: 8, signed: false, values: [{ name: 'A', value: 1n << 40n }, { name: 'B', value: 2n }] },
      { id: 3, kind: 'enum64', name: 'big2', size: 8, signed: true, values: [{ name: 'C', value: -5n }] },
    ];
    const r = run(types, without('enum64'));
    // the value keeps its bits; read back unsigned it is 2^32 - 1
    expect(r.types[0]).to.deep.include({ kind: 'enum', signed: false, values: [{ name: 'NEG', value: 0xffffffff }] });
    expect(r.types).to.have.length(4);
    expect(r.types[3]).to.deep.equal({ id: 4, kind: 'int', name: 'enum64_placeholder', size: 1, bitOffset: 0, bits: 8, signed: false, char: false, bool: false });
    expect(r.types[1]).to.deep.equal({
      id: 2, kind: 'union', name: 'big', size: 8, kindFlag: false,
      members: [{ name: 'A', type: 4, bitOffset: 0, bitfieldSize: 0 }, { name: 'B', type: 4, bitOffset: 0, bitfieldSize: 0 }],
    });
    expect(r.types[2]).to.include({ kind: 'union', name: 'big2' });
  });

  it('rules apply in libbpf order: with neither FUNC nor global linkage, a FUNC becomes a TYPEDEF', () => {
    const types: BtfType[] = [INT, { id: 2, kind: 'func_proto', name: '', returnType: 1, params: [] }, { id: 3, kind: 'func', name: 'f', type: 2, linkage: 1 }];
    const r = run(types, { ...ALL_BTF_FEATURES, func: false, funcLinkage: false });
    expect(r.types[2]!.kind).to.equal('typedef');
  });

  it('btfFeaturesFromKinds maps lib/features btfKinds (its func blob is a global FUNC)', () => {
    const kinds = { func_proto: true, func: false, var: true, datasec: true, float: true, decl_tag: false, type_tag: true, enum64: false };
    expect(btfFeaturesFromKinds(kinds)).to.deep.equal({ func: true, funcLinkage: false, datasec: true, float: true, declTag: false, typeTag: true, enum64: false });
  });

  it("every object's BTF sanitized for a kernel with none of the features still encodes and parses", () => {
    const none: BtfKernelFeatures = { func: false, funcLinkage: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false, qmarkDatasec: false };
    for (const path of ['bpf/obj_globals.o', 'bpf/obj_subprog.o', 'bpf/obj_tracing.o', 'bpf/codec_conns.o']) {
      const btf = Btf.parse(readElf(readFileSync(path)).section('.BTF')!.data);
      const types: BtfType[] = [];
      for (let id = 1; id < btf.typeCount; id++) types.push(btf.type(id));
      const r = run(types, none);
      const kinds = new Set(r.types.map((t) => t.kind));
      for (const k of ['var', 'datasec', 'func', 'func_proto', 'float', 'decl_tag', 'type_tag', 'enum64']) expect(kinds.has(k as BtfType['kind']), `${path}: ${k}`).to.equal(false);
    }
  });
});
