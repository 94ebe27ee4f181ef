// The kernel's verdict on encodeBtf + sanitizeBtf: for every object the project builds, its BTF
// (DATASECs completed as the loader does) encoded as-is, and sanitized for kernels lacking each
// feature in turn, all of them at once, and as lib/features finds this kernel, is accepted by BPF_BTF_LOAD on this kernel.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { readElf } from '../../lib/elf/index.js';
import { Btf } from '../../lib/btf/btf.js';
import { encodeBtf } from '../../lib/btf/encode.js';
import { sanitizeBtf, btfFeaturesFromKinds, ALL_BTF_FEATURES, type BtfKernelFeatures } from '../../lib/btf/sanitize.js';
import type { BtfType } from '../../lib/btf/types.js';
import { datasecFixups } from '../../lib/object/datasec.js';
import { btfLoad } from '../../lib/syscall/btf.js';
import { VerifierError } from '../../lib/syscall/errors.js';
import { probe } from '../../lib/features/index.js';

const objects = [
  ...readdirSync('bpf').filter((f) => f.endsWith('.o')).map((f) => `bpf/${f}`),
  ...readdirSync('bpf/build/clang19').filter((f) => f.endsWith('.o')).map((f) => `bpf/build/clang19/${f}`),
];

const NONE: BtfKernelFeatures = { func: false, funcLinkage: false, datasec: false, float: false, declTag: false, typeTag: false, enum64: false, qmarkDatasec: false };
const FEATURE_SETS: [string, BtfKernelFeatures][] = [
  ['all features', ALL_BTF_FEATURES],
  ...(Object.keys(NONE) as (keyof BtfKernelFeatures)[]).map((k): [string, BtfKernelFeatures] => [`no ${k}`, { ...ALL_BTF_FEATURES, [k]: false }]),
  ['no feature at all', NONE],
];

/** The object's BTF types with the loader's DATASEC completion applied, and its string section. */
function objectTypes(path: string): { types: BtfType[]; strings: Uint8Array } {
  const elf = readElf(readFileSync(path));
  const raw = elf.section('.BTF')!.data;
  const btf = Btf.parse(raw);
  const types: BtfType[] = [];
  for (let id = 1; id < btf.typeCount; id++) types.push(btf.type(id));
  for (const f of datasecFixups(elf, btf)) {
    const t = types[f.id - 1]!;
    if (t.kind === 'datasec') types[f.id - 1] = { ...t, size: f.size, vars: f.vars };
  }
  const h = btf.header;
  return { types, strings: raw.subarray(h.hdrLen + h.strOff, h.hdrLen + h.strOff + h.strLen) };
}

describe('BTF_LOAD of encoded and sanitized object BTF', () => {
  before(function () { requirePrivileged(this); });

  it('an unresolved extern VAR (linkage 2) is refused by the kernel: resolving externs is the loader\'s job', () => {
    const { types } = objectTypes('bpf/obj_bad_extern.o');
    expect(types.some((t) => t.kind === 'var' && t.linkage === 2)).to.equal(true);
    expect(() => btfLoad(encodeBtf(types))).to.throw(VerifierError, /Linkage not supported/);
    // libbpf marks resolved extern VARs global-allocated; then the kernel takes the blob
    const resolved = types.map((t) => (t.kind === 'var' && t.linkage === 2 ? { ...t, linkage: 1 } : t));
    btfLoad(encodeBtf(resolved)).fd.close();
  });

  // objects with externs (extern VARs or FUNCs: kfuncs, ksyms, kconfig) are left out: their BTF is
  // taken only once the loader has resolved them (lib/object/externs.ts); obj_mergeable's clang 14 BTF
  // is one the kernel refuses on purpose (VARs outside their DATASEC)
  const hasExterns = (path: string) => objectTypes(path).types.some((t) => (t.kind === 'var' || t.kind === 'func') && t.linkage === 2);
  for (const path of objects.filter((p) => !/\/obj_mergeable\.o$/.test(p) && !hasExterns(p))) {
    it(`${path}: accepted as encoded and sanitized for every feature set`, () => {
      const { types, strings } = objectTypes(path);
      const probed: [string, BtfKernelFeatures] = ['probed features of this kernel', btfFeaturesFromKinds(probe().btfKinds)];
      for (const [what, features] of [probed, ...FEATURE_SETS]) {
        const r = sanitizeBtf(types, features);
        for (const blob of [encodeBtf(r.types, { strings }), encodeBtf(r.types)]) {
          let fd;
          try {
            fd = btfLoad(blob).fd;
          } catch (e) {
            throw new Error(`${path}, ${what}: ${(e as Error).message}\n${r.changed.join('\n')}`, { cause: e });
          }
          fd.close();
        }
      }
    });
  }
});
