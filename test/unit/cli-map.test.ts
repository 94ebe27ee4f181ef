// The pure parts behind `tsbpf map dump` and `tsbpf export`: bpftool's JSON writer (compact and
// pretty, its escaping), the btf_dumper rules on clang's BTF and hand-built types, fprint_hex's
// layout, and how map entries become Prometheus samples. Expected texts are bpftool 7.1's output
// for the same bytes (the privileged tests compare with bpftool live).
import { expect } from 'chai';
import { JsonWriter, quote } from '../../lib/cli/json-writer.js';
import { dumpType } from '../../lib/cli/btf-dumper.js';
import { hexBytes, keyword } from '../../lib/cli/bpf-objects.js';
import { Btf } from '../../lib/btf/btf.js';
import { entrySamples, keyLabels, numericLeaves, sanitizeName } from '../../lib/export/samples.js';
import { parseListen, ExportError } from '../../lib/export/exporter.js';
import { objectTypes } from '../helpers/object-types.js';
import { BtfBlob, KIND } from '../helpers/btf-blob.js';

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));

function dump(btf: Btf, id: number, b: Uint8Array, plain: boolean, pretty = plain): string {
  const w = new JsonWriter(pretty);
  dumpType({ btf, w, plain }, id, b);
  return w.text();
}

describe('CLI map output (bpftool 7.1 formats)', () => {
  const types = objectTypes('bpf/codec_conns.o');
  const btf = types.btf;
  const connKey = bytes('0100000a 0200000a 11 000000');

  it('pretty writer: bpftool map dump\'s layout (4-space indent, array elements on one line)', () => {
    const w = new JsonWriter(true);
    w.startArray().startObject().name('key');
    dumpType({ btf, w, plain: true }, types.byName('STRUCT', 'conn_key'), connKey);
    w.name('value');
    dumpType({ btf, w, plain: true }, types.byName('STRUCT', 'conn_val'), bytes('0300000000000000 b400000000000000'));
    w.endObject().endArray();
    expect(w.finish()).to.equal([
      '[{',
      '        "key": {',
      '            "saddr": 167772161,',
      '            "daddr": 167772162,',
      '            "proto": 17,',
      '            "pad": [0,0,0',
      '            ]',
      '        },',
      '        "value": {',
      '            "packets": 3,',
      '            "bytes": 180',
      '        }',
      '    }',
      ']',
      '',
    ].join('\n'));
  });

  it('compact writer and bpftool\'s escaping (\\ becomes \\n, \' stays as it is)', () => {
    const w = new JsonWriter();
    w.startObject().field('a', 1).field('s', 'x"y\ttab').name('e').startArray().endArray().field('n', null).field('b', true).endObject();
    expect(w.finish()).to.equal('{"a":1,"s":"x\\"y\\ttab","e":[],"n":null,"b":true}\n');
    expect(quote('a\\b\'c')).to.equal('"a\\nb\'c"');
    expect(JSON.parse(quote('it\'s'))).to.equal('it\'s');
  });

  it('kitchen struct: bitfields as hex (signed too), enum names, char[] strings, 64-bit exact, anonymous union as ""', () => {
    const k = bytes('aa 00 feff 8d 7d 0000 02000000 6869000000000000 00000000 8877665544332211 fbffffffffffffff 0000003f 00000000 000000000000f4bf 01020304 01 000000');
    const id = types.byName('STRUCT', 'kitchen');
    expect(dump(btf, id, k, false)).to.equal('{"a":170,"b":-2,"flags":"0x5","level":"0x11","delta":"0x7d","color":"GREEN","comm":"hi","big":1234605616436508552,"neg":-5,"ratio":0.5,"mean":-1.25,"":{"ip4":67305985,"ip6":[1,2,3,4]},"ok":true}');
    expect(dump(btf, id, k, true, false)).to.match(/"flags":0x5,"level":0x11,"delta":0x7d,"color":"GREEN"/);
    // a value no enumerator has: the number; a char array without a NUL or with control bytes: an array
    const k2 = k.slice();
    k2[8] = 7;
    k2.set(bytes('6869016a00000000'), 12);
    expect(dump(btf, id, k2, false)).to.match(/"color":7,"comm":\[104,105,1,106,0,0,0,0\]/);
    k2.set(bytes('6162636465666768'), 12);
    expect(dump(btf, id, k2, false)).to.match(/"comm":\[97,98,99,100,101,102,103,104\]/);
    // floats that are not finite: C's spelling, and JSON that parses
    const k3 = k.slice();
    new DataView(k3.buffer).setFloat32(40, NaN, true);
    new DataView(k3.buffer).setFloat64(48, -Infinity, true);
    const j = dump(btf, id, k3, false);
    expect(j).to.match(/"ratio":"nan","mean":"-inf"/);
    expect(JSON.parse(j)).to.include({ ratio: 'nan', mean: '-inf' });
    expect(dump(btf, id, k3, true, false)).to.match(/"ratio":nan,"mean":-inf/);
  });

  it('hand-built types: pointers (%p plain, decimal JSON), chars, bool, 128-bit and odd-width ints, fwd', () => {
    const b = new BtfBlob();
    const u64 = b.type('unsigned long', KIND.INT, 0, false, 8, 64);
    const ptr = b.type('', KIND.PTR, 0, false, u64);
    const u128 = b.type('__int128 unsigned', KIND.INT, 0, false, 16, 128);
    const u24 = b.type('u24', KIND.INT, 0, false, 4, 24);
    const fwd = b.type('later', KIND.FWD, 0, false, 0);
    // BTF_INT_ENCODING (bits 24-27): SIGNED 1, CHAR 2, BOOL 4
    const boolT = b.type('_Bool', KIND.INT, 0, false, 1, (4 << 24) | 8);
    const charT = b.type('char', KIND.INT, 0, false, 1, (2 << 24) | 8);
    const t = Btf.parse(b.build());
    expect(dump(t, ptr, bytes('0000000000000000'), true)).to.equal('(nil)');
    expect(dump(t, ptr, bytes('efbeadde00000000'), true)).to.equal('0xdeadbeef');
    expect(dump(t, ptr, bytes('efbeadde00000000'), false)).to.equal('3735928559');
    expect(dump(t, u128, bytes('0100000000000000 0200000000000000'), true)).to.equal('0x20000000000000001');
    expect(dump(t, u128, bytes('ff00000000000000 0000000000000000'), false)).to.equal('"0xff"');
    expect(dump(t, u24, bytes('563412ff'), true)).to.equal('0x123456');
    expect(dump(t, fwd, bytes('00'), true)).to.equal('(fwd-kind-invalid)');
    expect(dump(t, boolT, bytes('01'), true)).to.equal('true');
    expect(dump(t, charT, bytes('41'), false)).to.equal('"A"');
    expect(dump(t, charT, bytes('07'), true)).to.equal('0x7');
    expect(dump(t, charT, bytes('07'), false)).to.equal('"\\u0007"');
  });

  it('fprint_hex: a double space every 8 bytes, a new line every 16; keywords match by prefix', () => {
    const b = Uint8Array.from({ length: 18 }, (_, i) => i);
    expect(hexBytes(b)).to.equal('00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n10 11');
    expect(keyword('pin', 'pinned')).to.equal(true);
    expect(keyword('', 'pinned')).to.equal(false);
    expect(keyword('pinnedx', 'pinned')).to.equal(false);
  });
});

describe('exporter samples', () => {
  it('metric names and labels are sanitized', () => {
    expect(sanitizeName('tc-counter.v2')).to.equal('tc_counter_v2');
    expect(sanitizeName('9lives')).to.equal('_9lives');
    expect(keyLabels({ 'a-b': 1, __x: 2 })).to.deep.equal({ a_b: '1', k__x: '2' });
  });

  it('keys: scalars as key, structs as field labels (nested a_b, arrays joined), raw bytes as hex, optional IPv4', () => {
    expect(keyLabels(5)).to.deep.equal({ key: '5' });
    expect(keyLabels(5n)).to.deep.equal({ key: '5' });
    expect(keyLabels('GREEN')).to.deep.equal({ key: 'GREEN' });
    expect(keyLabels(Uint8Array.from([1, 0xab]))).to.deep.equal({ key: '01ab' });
    const k = { saddr: 0x0100000a, daddr: 0x0200000a, proto: 17, ports: [0, 7, 0], inner: { port: 53, ok: true } };
    expect(keyLabels(k)).to.deep.equal({ saddr: '16777226', daddr: '33554442', proto: '17', ports: '0,7,0', inner_port: '53', inner_ok: '1' });
    expect(keyLabels(k, { ipv4: true })).to.include({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: '17' });
  });

  it('values: numeric leaves become series (struct fields by name, arrays by index); strings are skipped', () => {
    expect(numericLeaves({ packets: 3n, bytes: 180n, comm: 'hi', hist: [1, 2], nested: { x: 1.5, y: false } })).to.deep.equal([
      ['packets', undefined, 3], ['bytes', undefined, 180], ['hist', '0', 1], ['hist', '1', 2], ['nested_x', undefined, 1.5], ['nested_y', undefined, 0],
    ]);
  });

  it('per-CPU values are summed per series', () => {
    const s = entrySamples('tsbpf_map_stats', { path: 'stats' }, 0, [{ packets: 1n, bytes: 10n }, { packets: 2n, bytes: 20n }], true);
    expect(s).to.deep.equal([
      { metric: 'tsbpf_map_stats_packets', labels: { key: '0', path: 'stats' }, value: 3 },
      { metric: 'tsbpf_map_stats_bytes', labels: { key: '0', path: 'stats' }, value: 30 },
    ]);
    expect(entrySamples('tsbpf_map_c', { path: 'c' }, 1, 7n, false)).to.deep.equal([{ metric: 'tsbpf_map_c', labels: { key: '1', path: 'c' }, value: 7 }]);
    // key fields named like the pin path or index labels keep their value under key_<name>
    expect(entrySamples('tsbpf_map_c', { path: 'c' }, { path: 3, index: 4 }, [9], false)).to.deep.equal([
      { metric: 'tsbpf_map_c', labels: { key_path: '3', key_index: '4', path: 'c', index: '0' }, value: 9 },
    ]);
  });

  it('--listen parsing', () => {
    expect(parseListen('127.0.0.1:9435')).to.deep.equal(['127.0.0.1', 9435]);
    expect(parseListen('[::1]:0')).to.deep.equal(['::1', 0]);
    expect(parseListen('localhost:9435')).to.deep.equal(['localhost', 9435]);
    // :PORT is every address, as Go exporters take it (Node listens on :: dual-stack)
    expect(parseListen(':80')).to.deep.equal([undefined, 80]);
    for (const bad of ['127.0.0.1', '1.2.3.4:99999', 'host:port', ':', '', ':abc', '9435', '[::1]', '[::1:9435', '127.0.0.1:', '::9435']) expect(() => parseListen(bad), bad).to.throw(ExportError, /expected HOST:PORT|over 65535/);
    expect(() => parseListen('::1:9435')).to.throw(ExportError, /^--listen "::1:9435": an IPv6 address goes in brackets: \[::1\]:9435$/);
  });
});
