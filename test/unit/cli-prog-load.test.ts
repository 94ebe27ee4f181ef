// `tsbpf prog load|loadall` option words, parsed before anything is loaded (maps named for reuse
// are opened there too: those cases are in the privileged loader-cli test).
import { expect } from 'chai';
import { parseLoadArgs } from '../../lib/cli/prog-load.js';

describe('CLI prog load (arguments)', () => {
  it('type and pinmaps by prefix, as bpftool takes them', () => {
    expect(parseLoadArgs(['ty', 'classifier', 'pinm', '/sys/fs/bpf/m'])).to.deep.equal({ maps: [], type: 'classifier', pinMaps: '/sys/fs/bpf/m' });
    expect(parseLoadArgs([])).to.deep.equal({ maps: [] });
  });

  for (const [words, msg] of [
    [['type', 'xdp', 'type', 'xdp'], /^program type already specified$/],
    [['type'], /^expected a program type after 'type'$/],
    [['pinmaps'], /^expected a directory after 'pinmaps'$/],
    [['map', 'idx', '0', 'id'], /^'map' needs \{idx IDX \| name NAME\} and a map/],
    [['map', 'key', '0', 'id', '1'], /^expected 'idx' or 'name', got: 'key'\?$/],
    [['map', 'idx', '0x', 'id', '1'], /^can't parse 0x as IDX$/],
    [['map', 'idx', '0', 'bogus', '1'], /^expected 'id', 'name' or 'pinned', got: 'bogus'\?$/],
    [['dev', 'eth0'], /^'dev' \(hardware offload\) is not supported by tsbpf$/],
    [['autoattach'], /^'autoattach' is not supported by tsbpf/],
    [['bogus'], /^expected no more arguments, 'type', 'map' or 'pinmaps', got: 'bogus'\?$/],
  ] as const) {
    it(`${words.join(' ')}: ${msg.source}`, () => {
      expect(() => parseLoadArgs([...words])).to.throw(msg);
    });
  }
});
