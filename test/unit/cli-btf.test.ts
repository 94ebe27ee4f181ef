// The kernel-free parts of `tsbpf btf show|dump`: the order bpftool's libbpf hashmap gives the ids
// of one key (btf show's prog_ids/map_ids, show -f's pins), and argument mistakes, which are found
// before any bpf() call.
import { expect } from 'chai';
import { IdTable } from '../../lib/cli/libbpf-hashmap.js';
import { btfDump, btfShow } from '../../lib/cli/btf.js';

describe('CLI btf (kernel-free)', () => {
  it('IdTable: values of a key in libbpf hashmap order (newest first, reversed again by each growth)', () => {
    // bpftool 7.1 `btf show` for obj_globals.o: maps 226042…226046 appended in id order under one BTF id
    const t = new IdTable<number>();
    for (let id = 226042; id <= 226046; id++) t.append(160262, id);
    expect(t.get(160262)).to.deep.equal([226046, 226045, 226042, 226043, 226044]);
    expect(t.size).to.equal(5);
    expect(t.get(1)).to.deep.equal([]);
    expect(new IdTable<string>().get(7)).to.deep.equal([]);
    // newest first in 4 buckets; the 4th entry (of any key) grows the table to 8, reversing the chain
    const u = new IdTable<string>();
    for (const p of ['a', 'b', 'c']) u.append(9, p);
    expect(u.get(9)).to.deep.equal(['c', 'b', 'a']);
    u.append(10, 'x');
    expect(u.get(9)).to.deep.equal(['a', 'b', 'c']);
    expect(u.get(10)).to.deep.equal(['x']);
  });

  for (const [words, msg] of [
    [[], /^usage: tsbpf btf dump/],
    [['id'], /^usage: tsbpf btf dump/],
    [['map', 'id'], /^usage: tsbpf btf dump/],
    [['bogus', '1'], /^unrecognized BTF source specifier: 'bogus'$/],
    [['id', '1x'], /^can't parse 1x as ID$/],
    [['id', '4294967296'], /^can't parse 4294967296 as ID$/],
    [['id', '1', 'format'], /^expecting value for 'format' option$/],
    [['id', '1', 'format', 'xml'], /^unrecognized format specifier: 'xml', possible values: raw, c$/],
    [['id', '1', 'key'], /^unrecognized option: 'key'$/],
    [['map', 'bogus', '1'], /^expected 'id', 'name' or 'pinned', got: 'bogus'\?$/],
    [['prog', 'tag', 'xyz'], /^can't parse tag$/],
  ] as const) {
    it(`btf dump ${words.join(' ')}: ${msg.source}`, () => {
      expect(() => btfDump([...words], {})).to.throw(msg);
    });
  }

  it('btf show: only "id N" names a BTF object', () => {
    expect(() => btfShow(['name', 'x'], {})).to.throw(/^expected 'id', got: 'name'\?$/);
    expect(() => btfShow(['id'], {})).to.throw(/expected a BTF id after 'id'/);
    expect(() => btfShow(['id', 'x'], {})).to.throw(/^can't parse x as ID$/);
    expect(() => btfShow(['id', '1', '2'], {})).to.throw(/^unexpected arguments: 2$/);
  });
});
