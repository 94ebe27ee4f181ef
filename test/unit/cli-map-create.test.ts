// `tsbpf map create` argument parsing, which finds its mistakes before any bpf() call (dev and
// inner_map, which ask the kernel, are in the privileged test).
import { expect } from 'chai';
import { parseMapCreate } from '../../lib/cli/map-create.js';

describe('CLI map create (arguments)', () => {
  it('takes bpftool\'s words in any order, by prefix, numbers as strtoul reads them', () => {
    expect(parseMapCreate(['/sys/fs/bpf/m', 'name', 'm', 'ent', '0x10', 'v', '010', 'k', '4', 'ty', 'percpu_hash', 'fl', '1'])).to.deep.equal({
      file: '/sys/fs/bpf/m', name: 'm', maxEntries: 16, valueSize: 8, keySize: 4, type: 5, flags: 1,
    });
    expect(parseMapCreate(['P', 'type', 'arena', 'name', 'a']).type).to.equal(33); // newer than bpftool 7.1's table
  });

  for (const [args, msg] of [
    [[], /^usage: tsbpf map create FILE type TYPE/],
    [['P', 'type', 'hashy', 'name', 'x'], /^unrecognized map type: hashy$/],
    [['P', 'type', 'unspec', 'name', 'x'], /^unrecognized map type: unspec$/],
    [['P', 'type', 'hash', 'type', 'array', 'name', 'x'], /^map type already specified$/],
    [['P', 'type', 'hash', 'key', '0', 'key', '4', 'name', 'x'], /^key size already specified$/],
    [['P', 'type', 'hash', 'entries', '4294967296', 'name', 'x'], /^can't parse 4294967296 as max entries$/],
    [['P', 'type', 'hash', 'value', '8k', 'name', 'x'], /^can't parse 8k as value size$/],
    [['P', 'type', 'hash', 'key'], /^expected a value after 'key'$/],
    [['P', 'type', 'hash', 'key', '4'], /^map name not specified$/],
    [['P', 'key', '4', 'name', 'x'], /^map type not specified$/],
    [['P', 'type', 'hash', 'name', 'x', 'pinmaps', 'd'], /^unknown arg pinmaps$/],
  ] as const) {
    it(`map create ${args.join(' ')}: ${msg.source}`, () => {
      expect(() => parseMapCreate([...args])).to.throw(msg);
    });
  }
});
