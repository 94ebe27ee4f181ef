// lib/externs without a kernel: kernel config parsing and libbpf's value rules, LINUX_KERNEL_VERSION,
// kallsyms lookup, the extern layout (.kconfig offsets in libbpf's order), resolution against
// hand-made vmlinux and module BTF (kfuncs, typed ksyms, weak ones), and the BTF rewrite for upload.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { Btf } from '../../lib/btf/btf.js';
import { encodeBtf } from '../../lib/btf/encode.js';
import type { BtfType } from '../../lib/btf/types.js';
import {
  collectExterns, ExternError, kernelVersionCode, linuxKernelVersion, parseKallsyms, parseKernelConfig, resolveExterns, setKconfigValue,
  type ExternSpec,
} from '../../lib/externs/index.js';
import { readObject } from '../../lib/object/read.js';
import { externBtfTypes, objectExterns } from '../../lib/object/externs.js';

const kc = (type: NonNullable<ExternSpec['kconfig']>['type'], size: number, signed = false): ExternSpec => ({
  name: 'CONFIG_X', essentialName: 'CONFIG_X', weak: false, section: '.kconfig', btfId: 1, func: false, typeId: 1,
  kconfig: { type, size, align: Math.min(size, 8), signed, offset: 0 },
});
const store = (e: ExternSpec, raw: string): number[] => {
  const out = new Uint8Array(e.kconfig!.size);
  setKconfigValue(e, out, raw, true);
  return [...out];
};

describe('lib/externs: kernel config', () => {
  it('parses CONFIG_ lines, skipping comments ("is not set") and other lines', () => {
    const c = parseKernelConfig('# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nOTHER=1\nCONFIG_D=0x10\n');
    expect([...c]).to.deep.equal([['CONFIG_A', 'y'], ['CONFIG_C', '"x y"'], ['CONFIG_D', '0x10']]);
    expect(() => parseKernelConfig('CONFIG_A\n')).to.throw(ExternError, /no '=' separator/);
    expect(() => parseKernelConfig('CONFIG_A=\n')).to.throw(ExternError, /CONFIG_A.*no value/);
  });

  it('stores values by the extern\'s type as libbpf does', () => {
    expect(store(kc('bool', 1), 'y')).to.deep.equal([1]);
    expect(store(kc('bool', 1), 'n')).to.deep.equal([0]);
    expect(() => store(kc('bool', 1), 'm')).to.throw(ExternError, /implies a tristate or char/);
    expect(store(kc('tristate', 4), 'm')).to.deep.equal([2, 0, 0, 0]);
    expect(store(kc('tristate', 4), 'y')).to.deep.equal([1, 0, 0, 0]);
    expect(store(kc('char', 1), 'm')).to.deep.equal(['m'.charCodeAt(0)]);
    expect(store(kc('int', 4, true), '250')).to.deep.equal([250, 0, 0, 0]);
    expect(store(kc('int', 2), '0x1234')).to.deep.equal([0x34, 0x12]);
    expect(store(kc('int', 4, true), '-1')).to.deep.equal([255, 255, 255, 255]);
    expect(store(kc('int', 8), '010')).to.deep.equal([8, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => store(kc('int', 1, false), '256')).to.throw(ExternError, /does not fit in 1 byte/);
    expect(() => store(kc('int', 4), 'abc')).to.throw(ExternError, /not a valid integer/);
    expect(() => store(kc('int', 4), 'y')).to.throw(ExternError, /implies a bool, tristate or char/);
    expect(() => store(kc('tristate', 4), '1')).to.throw(ExternError, /implies an integer type/);
    expect(store(kc('char_array', 4), '"ab"')).to.deep.equal([97, 98, 0, 0]);
    expect(store(kc('char_array', 4), '"abcdef"')).to.deep.equal([97, 98, 99, 0]); // truncated, terminated
    expect(() => store(kc('int', 4), '"ab"')).to.throw(ExternError, /needs a char array/);
  });

  it('LINUX_KERNEL_VERSION: Ubuntu signature, Debian version string, else the release; patch capped at 255', () => {
    expect(linuxKernelVersion('6.18.44-fc', '#1 SMP', '')).to.equal(kernelVersionCode(6, 18, 44));
    expect(linuxKernelVersion('4.19.0-22-amd64', '#1 SMP Debian 4.19.260-1 (2022-09-29)', '')).to.equal(kernelVersionCode(4, 19, 255));
    expect(linuxKernelVersion('5.15.0-91-generic', '#101-Ubuntu SMP', 'Ubuntu 5.15.0-91.101-generic 5.15.131\n')).to.equal(kernelVersionCode(5, 15, 131));
    expect(linuxKernelVersion('weird', '', '')).to.equal(0);
    expect(kernelVersionCode(6, 18, 300)).to.equal((6 << 16) + (18 << 8) + 255);
  });
});

describe('lib/externs: kallsyms', () => {
  const text = [
    'ffffffff81000000 T _stext',
    'ffffffff81524350 T bpf_task_from_pid',
    'ffffffff82000010 d counter.llvm.123456',
    'ffffffffc0001000 t mod_fn\t[some_mod]',
    'ffffffff81000100 t dup',
    'ffffffff81000200 t dup',
    'ffffffff81000300 T bpf_task_from_pid_x',
    '',
  ].join('\n');
  it('finds names exactly, module symbols and .llvm. suffixed data symbols', () => {
    const r = parseKallsyms(text, new Set(['bpf_task_from_pid', 'counter', 'mod_fn', 'absent', 'task_from']));
    expect(r.get('bpf_task_from_pid')).to.equal(0xffffffff81524350n);
    expect(r.get('counter')).to.equal(0xffffffff82000010n);
    expect(r.get('mod_fn')).to.equal(0xffffffffc0001000n);
    expect(r.has('absent')).to.equal(false);
    expect(r.has('task_from')).to.equal(false);
  });
  it('two addresses for one name are an ambiguity', () => {
    expect(() => parseKallsyms(text, new Set(['dup']))).to.throw(ExternError, /dup: ambiguous in kallsyms/);
  });
});

// ---- hand-made BTF -----------------------------------------------------------------------------
type Def = Record<string, unknown> & { kind: BtfType['kind'] };
const build = (defs: Def[]): Btf => Btf.parse(encodeBtf(defs.map((d, i) => ({ name: '', ...d, id: i + 1 })) as unknown as BtfType[]));
const int = (name: string, size: number, signed: boolean): Def => ({ kind: 'int', name, size, bitOffset: 0, bits: size * 8, signed, char: false, bool: false });

describe('lib/externs: layout and resolution', () => {
  // local: bool A (1), u64 B (8), u32 C (4), char D[5] (1), int E (4), kfunc k(int) (ksym), typed var v (ksym), untyped u
  const local = build([
    int('int', 4, true), // 1
    { ...int('_Bool', 1, false), bool: true }, // 2
    int('long long unsigned int', 8, false), // 3
    int('unsigned int', 4, false), // 4
    int('char', 1, true), // 5
    { kind: 'array', type: 5, indexType: 1, nelems: 5 }, // 6
    { kind: 'var', name: 'CONFIG_A', type: 2, linkage: 2 }, // 7
    { kind: 'var', name: 'CONFIG_B', type: 3, linkage: 2 }, // 8
    { kind: 'var', name: 'CONFIG_C', type: 4, linkage: 2 }, // 9
    { kind: 'var', name: 'CONFIG_D', type: 6, linkage: 2 }, // 10
    { kind: 'var', name: 'CONFIG_E', type: 1, linkage: 2 }, // 11
    { kind: 'datasec', name: '.kconfig', size: 0, vars: [7, 8, 9, 10, 11].map((type) => ({ type, offset: 0, size: 0 })) }, // 12
    { kind: 'func_proto', returnType: 1, params: [{ name: '', type: 1 }] }, // 13
    { kind: 'func', name: 'kfn___v2', type: 13, linkage: 2 }, // 14
    { kind: 'struct', name: 'thing', size: 4, kindFlag: false, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }] }, // 15
    { kind: 'var', name: 'tvar', type: 15, linkage: 2 }, // 16
    { kind: 'var', name: 'uvar', type: 0, linkage: 2 }, // 17
    { kind: 'func', name: 'modfn', type: 13, linkage: 2 }, // 18
    { kind: 'datasec', name: '.ksyms', size: 0, vars: [14, 16, 17, 18].map((type) => ({ type, offset: 0, size: 0 })) }, // 19
  ]);
  const names = ['CONFIG_A', 'CONFIG_B', 'CONFIG_C', 'CONFIG_D', 'CONFIG_E', 'kfn___v2', 'tvar', 'uvar', 'modfn'];
  const elf = { symbols: names.map((name, i) => ({ name, type: 0, bind: i === 4 || i === 7 ? 2 : 1, shndx: 0 })) };

  it('lays .kconfig out by alignment descending, size ascending, then name (libbpf\'s order)', () => {
    const l = collectExterns(elf, local);
    const kconfig = [...l.externs.values()].filter((e) => e.kconfig);
    expect(kconfig.map((e) => e.name)).to.deep.equal(['CONFIG_B', 'CONFIG_C', 'CONFIG_E', 'CONFIG_A', 'CONFIG_D']);
    expect(kconfig.map((e) => e.kconfig!.offset)).to.deep.equal([0, 8, 12, 16, 17]);
    expect(l.kconfigSize).to.equal(22);
    expect(kconfig.map((e) => e.kconfig!.type)).to.deep.equal(['int', 'int', 'int', 'bool', 'char_array']);
    expect(l.externs.get('kfn___v2')).to.include({ func: true, essentialName: 'kfn', typeId: 13 });
    expect(l.externs.get('tvar')).to.include({ func: false, typeId: 15 });
    expect(l.externs.get('uvar')).to.include({ typeId: 0, weak: true });
    expect(l.problems.size).to.equal(0);
    // an undefined symbol without a BTF extern is reported, not collected
    const other = collectExterns({ symbols: [...elf.symbols, { name: 'stray', type: 0, bind: 1, shndx: 0 }] }, local);
    expect(other.problems.get('stray')).to.match(/no BTF VAR or FUNC/);
  });

  // target: vmlinux with kfn (compatible) and tvar (struct thing); a module with modfn
  const vmlinux = build([
    int('int', 4, true), // 1
    { kind: 'func_proto', returnType: 1, params: [{ name: 'a', type: 1 }] }, // 2
    { kind: 'func', name: 'kfn', type: 2, linkage: 1 }, // 3
    { kind: 'struct', name: 'thing', size: 8, kindFlag: false, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }] }, // 4
    { kind: 'var', name: 'tvar', type: 4, linkage: 1 }, // 5
  ]);
  // (module BTF is split on vmlinux in the kernel; a standalone blob stands in for it here)
  const module = build([
    int('int', 4, true),
    { kind: 'func_proto', returnType: 1, params: [{ name: 'a', type: 1 }] },
    { kind: 'func', name: 'modfn', type: 2, linkage: 1 },
  ]);
  const config = new Map([['CONFIG_A', 'y'], ['CONFIG_B', '0x100000000'], ['CONFIG_C', '7'], ['CONFIG_D', '"abcdefgh"']]);

  it('resolves kconfig values, kfuncs (flavour dropped, module BTF), typed and untyped ksyms; weak ones left zero', () => {
    const l = collectExterns(elf, local);
    const r = resolveExterns(l, local, {
      vmlinux: () => vmlinux, modules: () => [{ name: 'mod', btf: module }], config,
      kallsyms: (n) => new Map([...n].filter((x) => x === 'nothing').map((x) => [x, 1n])),
    }, true);
    expect([...r.kconfig]).to.deep.equal([0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 97, 98, 99, 100, 0]);
    expect(r.byName.get('CONFIG_E')).to.deep.equal({ kind: 'kconfig', offset: 12, set: false }); // weak, absent: zero
    expect(r.byName.get('kfn___v2')).to.deep.equal({ kind: 'kfunc', btfId: 3, module: undefined });
    expect(r.byName.get('modfn')).to.deep.equal({ kind: 'kfunc', btfId: 3, module: 'mod' });
    expect(r.byName.get('tvar')).to.deep.equal({ kind: 'btf_var', btfId: 5, module: undefined });
    expect(r.byName.get('uvar')).to.deep.equal({ kind: 'address', address: 0n });
  });

  it('a strong extern the kernel lacks, or one of an incompatible type, is an ExternError naming it', () => {
    const l = collectExterns(elf, local);
    const src = { vmlinux: () => vmlinux, modules: () => [], config, kallsyms: () => new Map() };
    expect(() => resolveExterns(l, local, { ...src, config: new Map() }, true)).to.throw(ExternError, /CONFIG_[ABCD]: the kernel config has no value/);
    expect(() => resolveExterns(l, local, src, true)).to.throw(ExternError, /modfn: no such function/);
    expect(() => resolveExterns(l, local, { ...src, vmlinux: () => { throw new Error('cannot open /sys/kernel/btf/vmlinux: ENOENT'); } }, true))
      .to.throw(ExternError, /\(kfunc\) kfn___v2: needs the kernel's BTF, which is unavailable: cannot open/);
    const badVm = build([int('int', 4, true), { kind: 'func_proto', returnType: 1, params: [] }, { kind: 'func', name: 'kfn', type: 2, linkage: 1 }, { kind: 'var', name: 'tvar', type: 1, linkage: 1 }]);
    expect(() => resolveExterns(l, local, { ...src, vmlinux: () => badVm }, true)).to.throw(ExternError, /kfn___v2: its prototype .* incompatible/);
  });

  it('the uploaded BTF: extern VARs allocated, .kconfig at its offsets, .ksyms as ints behind one dummy_ksym VAR', () => {
    const file = 'bpf/core_externs.o';
    if (!existsSync(file)) return;
    const spec = readObject(file);
    const btf = spec.source.btf!;
    const types: BtfType[] = [];
    for (let id = 1; id < btf.typeCount; id++) types.push(btf.type(id));
    const out = externBtfTypes(types, spec.source);
    const l = objectExterns(spec.source);
    expect(out.length).to.equal(types.length + 1);
    const dummy = out[out.length - 1];
    expect(dummy).to.include({ kind: 'var', name: 'dummy_ksym', linkage: 1 });
    const kcfg = out.find((t) => t.kind === 'datasec' && t.name === '.kconfig');
    const ksyms = out.find((t) => t.kind === 'datasec' && t.name === '.ksyms');
    if (kcfg?.kind !== 'datasec' || ksyms?.kind !== 'datasec') throw new Error('no extern DATASECs');
    expect(kcfg.size).to.equal(l.kconfigSize);
    for (const vs of kcfg.vars) {
      const v = out[vs.type - 1];
      expect(v).to.include({ kind: 'var', linkage: 1 });
      expect(vs.offset).to.equal(l.externs.get(v.name)!.kconfig!.offset);
    }
    expect(kcfg.vars.map((v) => v.offset)).to.deep.equal([...kcfg.vars.map((v) => v.offset)].sort((a, b) => a - b));
    expect(ksyms.vars.map((v) => v.offset)).to.deep.equal(ksyms.vars.map((_, i) => 4 * i));
    for (const vs of ksyms.vars) {
      const v = out[vs.type - 1];
      expect(v.kind).to.equal('var');
      expect((v as { linkage: number }).linkage).to.equal(1);
    }
    for (const t of out) if ((t.kind === 'func' || t.kind === 'var') && l.externs.has(t.name)) expect(t.linkage, t.name).to.equal(1);
  });
});

describe('lib/externs: crafted .kconfig types', () => {
  /** One strong .kconfig extern per VAR type id given (names CONFIG_0…), on `defs`. */
  const layout = (defs: Def[], types: number[]) => {
    const first = defs.length + 1;
    const all: Def[] = [...defs, ...types.map((type, i): Def => ({ kind: 'var', name: `CONFIG_${i}`, type, linkage: 2 }))];
    all.push({ kind: 'datasec', name: '.kconfig', size: 0, vars: types.map((_, i) => ({ type: first + i, offset: 0, size: 0 })) });
    return collectExterns({ symbols: types.map((_, i) => ({ name: `CONFIG_${i}`, type: 0, bind: 1, shndx: 0 })) }, build(all));
  };
  const char = int('char', 1, true);

  it('an array whose element is itself is no .kconfig type (no endless recursion)', () => {
    const l = layout([char, { kind: 'array', type: 2, indexType: 1, nelems: 4 }], [2]);
    expect(l.externs.size).to.equal(0);
    expect(l.problems.get('CONFIG_0')).to.match(/not one a \.kconfig value can have/);
    // a char array through a typedef and const is still one; an array of bool or of arrays is not
    const ok = layout([char, { kind: 'typedef', name: 'c_t', type: 1 }, { kind: 'const', type: 2 }, { kind: 'array', type: 3, indexType: 1, nelems: 4 },
      { ...int('_Bool', 1, false), bool: true }, { kind: 'array', type: 5, indexType: 1, nelems: 4 }, { kind: 'array', type: 4, indexType: 1, nelems: 2 }], [4, 6, 7]);
    expect(ok.externs.get('CONFIG_0')!.kconfig).to.include({ type: 'char_array', size: 4 });
    expect([...ok.problems.keys()]).to.deep.equal(['CONFIG_1', 'CONFIG_2']);
  });

  it('a size-0 enum64 libbpf_tristate is no tristate (no NaN layout); a 4-byte one is', () => {
    const e64 = (size: number): Def => ({ kind: 'enum64', name: 'libbpf_tristate', size, signed: false, values: [{ name: 'TRI_NO', value: 0n }] });
    const bad = layout([int('int', 4, true), e64(0)], [2, 1]);
    expect(bad.problems.get('CONFIG_0')).to.match(/not one a \.kconfig value can have/);
    expect(bad.kconfigSize).to.equal(4);
    expect(bad.externs.get('CONFIG_1')!.kconfig!.offset).to.equal(0);
    expect(layout([e64(4)], [1]).externs.get('CONFIG_0')!.kconfig).to.include({ type: 'tristate', size: 4, align: 4 });
  });

  it('externs that would make the .kconfig value larger than an array map value are left out, with the reason', () => {
    // 0x7fffffff chars alone; then three of 200 MiB: the third would end past 512 MiB
    const big = layout([char, { kind: 'array', type: 1, indexType: 1, nelems: 0x7fffffff }, { kind: 'array', type: 1, indexType: 1, nelems: 200 << 20 }], [2, 3, 3, 3, 1]);
    expect(big.problems.get('CONFIG_0')).to.match(/2147483647 bytes, more than the \.kconfig map's value can hold \(536870912\)/);
    // libbpf's order: alignment (all 1) descending, then size ascending: CONFIG_4 first
    expect([...big.externs.keys()]).to.deep.equal(['CONFIG_4', 'CONFIG_1', 'CONFIG_2']);
    expect(big.problems.get('CONFIG_3')).to.match(/at offset 419430401 with its 209715200 bytes, .* would exceed 536870912/);
    expect(big.kconfigSize).to.equal((400 << 20) + 1);
  });
});
