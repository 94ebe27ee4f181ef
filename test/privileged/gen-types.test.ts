// `tsbpf gen types` against a loaded object: each map of bpf/gen_shapes.o gives, through loadObject's
// typed maps, what its line in the generated Maps says (the codec's value where it names a type,
// Uint8Array where it says raw, one value per possible CPU for a per-CPU map), and the generated
// Globals' recipe (the kernel's BTF of a section through mapBtf + withBtfCodecs) gives the
// variables Globals lists. The unit test checks those codec values against the types with tsc.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { readObject } from '../../lib/object/read.js';
import { loadObject } from '../../lib/object/load.js';
import { generateTypes } from '../../lib/codec/ts-types.js';
import { compileCodec } from '../../lib/codec/compile.js';
import { btfCodecSource } from '../../lib/codec/btf-source.js';
import { withBtfCodecs } from '../../lib/codec/typed-map.js';
import { mapBtf } from '../../lib/export/map-btf.js';
import { possibleCpus } from '../../lib/map/cpus.js';

const OPTS = { strings: true, enumNames: true };

/** bytes 1, 2, 3, … (mod 251) */
const bytes = (n: number, from = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);

describe('gen types against the loader', () => {
  before(function () { requirePrivileged(this); });

  it('gen_shapes.o: the maps give what Maps says, the Globals recipe gives the variables Globals lists', () => {
    const spec = readObject('bpf/gen_shapes.o');
    const text = generateTypes(spec, OPTS);
    const line = (map: string): string => new RegExp(`\\n  '?${map.replace('.', '\\.')}'?: (BpfMap<.*>);\\n`).exec(text)![1];
    const src = btfCodecSource(spec.source.btf!);
    const decode = (id: number, b: Uint8Array): unknown => compileCodec(src, id, OPTS).decode(b);
    const ms = (name: string) => spec.maps.get(name)!;
    const obj = loadObject('bpf/gen_shapes.o', { typedMaps: OPTS });
    try {
      expect(line('records')).to.equal('BpfMap<pair_t, record>');
      const records = obj.map('records');
      const [k, v] = [bytes(8), bytes(ms('records').valueSize, 40)];
      records.update(k, v);
      expect([...records.entries()]).to.deep.equal([[decode(ms('records').keyTypeId, k), decode(ms('records').valueTypeId, v)]]);

      expect(line('per_node')).to.equal('BpfMap<node, bigint[]>');
      const perNode = obj.map('per_node');
      const cpus = Array.from({ length: possibleCpus() }, (_, c) => bytes(8, c + 7));
      perNode.update(bytes(4), cpus);
      const got = perNode.lookup(bytes(4)) as unknown[];
      expect(got).to.have.length(possibleCpus());
      expect(got).to.deep.equal(cpus.map((b) => decode(ms('per_node').valueTypeId, b)));
      expect(got.every((x) => typeof x === 'bigint')).to.equal(true);

      expect(line('untyped_keys')).to.equal('BpfMap<Uint8Array, node>');
      const untyped = obj.map('untyped_keys');
      untyped.update(2, bytes(4, 9));
      const keys = [...untyped.keys()];
      expect(keys.every((x) => x instanceof Uint8Array)).to.equal(true);
      expect(untyped.lookup(2)).to.deep.equal(decode(ms('untyped_keys').valueTypeId, bytes(4, 9)));

      expect(line('states')).to.equal('BpfMap<number, state_t>');
      obj.map('states').update(1, 'ST_BUSY');
      expect([...obj.map('states').entries()]).to.deep.equal([[0, 'ST_IDLE'], [1, 'ST_BUSY']]);

      expect(line('pending')).to.equal('BpfMap<Uint8Array, node>');
      obj.map('pending').push(bytes(4, 3));
      expect(obj.map('pending').pop()).to.deep.equal(decode(ms('pending').valueTypeId, bytes(4, 3)));
      expect(line('seen_ids')).to.equal('BpfMap<Uint8Array, number>');
      obj.map('seen_ids').push(77);
      expect(obj.map('seen_ids').contains(77)).to.equal(true);

      // global data stays raw in obj.maps
      expect(line('.bss')).to.equal('BpfMap<Uint8Array, Uint8Array>');
      expect(obj.map('.bss').lookup(0)).to.be.instanceOf(Uint8Array);
      expect([...obj.map('.data').keys()].every((x) => x instanceof Uint8Array)).to.equal(true);

      // Globals: the recipe in its doc comment, per section
      const globals = text.slice(text.indexOf('export interface Globals {'));
      for (const section of ['.rodata', '.data', '.bss']) {
        const block = new RegExp(`\\n  '${section.replace('.', '\\.')}': \\{\\n([\\s\\S]*?)\\n  \\};`).exec(globals)![1];
        const fields = [...block.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]);
        const map = obj.map(section);
        const kb = mapBtf(map.info())!;
        const value = withBtfCodecs(map, btfCodecSource(kb.btf), 0, kb.valueTypeId, OPTS).lookup(0) as Record<string, unknown>;
        expect(Object.keys(value), section).to.deep.equal(fields);
      }
      const data = obj.map('.data').lookup(0) as Record<string, unknown>;
      expect(data.touches).to.equal(obj.globals.get('touches')).and.equal(1n);
      expect((obj.map('.rodata').lookup(0) as Record<string, unknown>).default_state).to.equal('ST_BUSY');
      expect(obj.globals.get('default_state')).to.equal(5); // obj.globals: enums as numbers, as Globals' doc says
      expect(obj.globals.get('last_record')).to.be.instanceOf(Uint8Array);
    } finally {
      obj.close();
    }
  });
});
