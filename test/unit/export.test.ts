// The exporter's pure rules (lib/export/samples.ts) on plain values and hand-made codec types:
// label names that stay distinct, exact per-CPU sums, parts of values that are no quantity.
import { expect } from 'chai';
import { entrySamples, entrySamplesExact, keyLabels, networkOrderKeys, notQuantities } from '../../lib/export/samples.js';
import type { CodecType, CodecTypeSource } from '../../lib/codec/types.js';
import type { Labels } from '../../lib/export/samples.js';
import { EXPOSITION_CONTENT_TYPE, formatFamily } from '../../lib/export/exposition.js';
import { acceptsGzip, ExportError, failureKind, mapErrorWarner, ReadingCache } from '../../lib/export/exporter.js';
import { BpfError } from '../../lib/syscall/errors.js';

const source = (types: Record<number, CodecType>): CodecTypeSource => ({ get: (id) => types[id] ?? { kind: 'void' } });

describe('exporter samples: edge cases', () => {
  it('key fields whose label names coincide once flattened keep both values (a_b and a.b)', () => {
    expect(keyLabels({ a_b: 1, a: { b: 2 } })).to.deep.equal({ a_b: '1', a_b_2: '2' });
    expect(keyLabels({ 'x-y': 1, x_y: 2, x: { y: 3 } })).to.deep.equal({ x_y: '1', x_y_2: '2', x_y_3: '3' });
    // names an Object has by inheritance are free label names; path and index are the exporter's own
    expect(entrySamples('m', { path: 'm' }, { constructor: 1, toString: 2, path: 3, key_path: 4 }, 5, false)[0].labels)
      .to.deep.equal({ constructor: '1', toString: '2', key_path: '3', key_path_2: '4', path: 'm' });
  });

  it('a key array of structs gives each element labels of its own (all elements were "[object Object]": distinct keys merged)', () => {
    expect(keyLabels({ p: [{ a: 1, b: 2 }, { a: 3, b: 4 }], q: [0, 0] })).to.deep.equal({ p_0_a: '1', p_0_b: '2', p_1_a: '3', p_1_b: '4', q: '0,0' });
    expect(keyLabels([{ a: 1 }, { a: 2 }])).to.deep.equal({ key_0_a: '1', key_1_a: '2' });
    expect(keyLabels({ m: [[{ a: 1 }], [{ a: 2 }]], mm: [[1, 2], [3, 4]] })).to.deep.equal({ m_0_0_a: '1', m_1_0_a: '2', mm: '1,2,3,4' });
  });

  it('value fields that flatten to one name are two series, not one sum; array elements by index', () => {
    expect(entrySamples('m', { path: 'm' }, 0, { rx_bytes: 1n, rx: { bytes: 2n }, h: [{ n: 1 }, { n: 2 }] }, false).map((s) => [s.metric, s.labels.index, s.value])).to.deep.equal([
      ['m_rx_bytes', undefined, 1], ['m_rx_bytes_2', undefined, 2], ['m_h_n', '0', 1], ['m_h_n', '1', 2],
    ]);
  });

  it('per-CPU 64-bit values are summed exactly and rounded once', () => {
    // float64 additions would give 2^53: 2^53+1 rounds down, then each +1 is lost
    const s = entrySamples('m', { path: 'm' }, 0, [2n ** 53n + 1n, 1n, 0n], true);
    expect(s).to.deep.equal([{ metric: 'm', labels: { key: '0', path: 'm' }, value: 2 ** 53 + 2 }]);
  });

  it('char arrays and pointers are no quantity (through typedefs, arrays, anonymous members, at the top)', () => {
    const src = source({
      1: { kind: 'int', name: 'char', size: 1, signed: true, char: true, bool: false, bitOffset: 0, bits: 8 },
      2: { kind: 'int', name: 'unsigned char', size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 },
      3: { kind: 'array', type: 1, count: 16 },
      4: { kind: 'array', type: 2, count: 6 },
      5: { kind: 'ptr' },
      6: { kind: 'alias', type: 3 },
      7: { kind: 'struct', name: 'inner', size: 24, members: [{ name: 'comm', type: 6, bitOffset: 0, bitSize: 0 }, { name: 'owner', type: 5, bitOffset: 128, bitSize: 0 }] },
      8: { kind: 'array', type: 7, count: 2 },
      9: { kind: 'union', name: '', size: 8, members: [{ name: 'p', type: 5, bitOffset: 0, bitSize: 0 }, { name: 'mac', type: 4, bitOffset: 0, bitSize: 0 }] },
      10: { kind: 'struct', name: 'v', size: 64, members: [
        { name: 'procs', type: 8, bitOffset: 0, bitSize: 0 },
        { name: '', type: 9, bitOffset: 384, bitSize: 0 },
        { name: 'tag-x', type: 3, bitOffset: 448, bitSize: 0 },
      ] },
    });
    // u8 arrays are numbers (the codecs read them so, whatever the bytes)
    expect([...notQuantities(src, 10)].sort()).to.deep.equal(['p', 'procs_comm', 'procs_owner', 'tag_x']);
    expect([...notQuantities(src, 3)]).to.deep.equal(['']);
  });

  it('padding fields (pad, _pad, __pad1, pad_2, padding) are no label and no series; keys differing only there are one series', () => {
    expect(keyLabels({ saddr: 1, proto: 17, pad: [0, 0, 0] })).to.deep.equal({ saddr: '1', proto: '17' });
    expect(keyLabels({ a: 1, _pad: 0, __pad1: 0, pad_2: 0, padding: [0], inner: { b: 2, Pad: 9 }, paddr: 3, spad: 4 })).to.deep.equal({ a: '1', inner_b: '2', paddr: '3', spad: '4' });
    const [x] = entrySamplesExact('m', { path: 'm' }, { a: 1, pad: [0, 0] }, 5, false);
    const [y] = entrySamplesExact('m', { path: 'm' }, { a: 1, pad: [7, 7] }, 6, false);
    expect(x.labels).to.deep.equal(y.labels);
    const u8: CodecType = { kind: 'int', name: 'unsigned char', size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 };
    const u64: CodecType = { kind: 'int', name: 'unsigned long long', size: 8, signed: false, char: false, bool: false, bitOffset: 0, bits: 64 };
    const src = source({ 1: u8, 2: { kind: 'array', type: 1, count: 4 }, 3: u64, 4: { kind: 'struct', name: 'val', size: 24, members: [
      { name: 'packets', type: 3, bitOffset: 0, bitSize: 0 }, { name: '__pad', type: 2, bitOffset: 64, bitSize: 0 }, { name: 'pad2', type: 3, bitOffset: 128, bitSize: 0 },
    ] } });
    expect([...notQuantities(src, 4)].sort()).to.deep.equal(['__pad', 'pad2']);
    expect(entrySamplesExact('m', {}, 0, { packets: 3n, __pad: [1, 2, 3, 4], pad2: 9n }, false, {}, notQuantities(src, 4)).map((s) => s.metric)).to.deep.equal(['m_packets']);
  });

  it('__be16/__be32/__be64 key fields are found through typedefs, nested and anonymous structs; --ipv4 shows such an address most significant byte first', () => {
    const int = (size: number): CodecType => ({ kind: 'int', name: `u${size * 8}`, size, signed: false, char: false, bool: false, bitOffset: 0, bits: size * 8 });
    const src = source({
      1: int(2), 2: { kind: 'alias', name: '__be16', type: 1 }, 3: int(4), 4: { kind: 'alias', name: '__u32', type: 3 }, 5: { kind: 'alias', name: '__be32', type: 4 },
      6: { kind: 'alias', type: 5 }, // const __be32
      7: { kind: 'struct', name: 'ports', size: 4, members: [{ name: 'sport', type: 2, bitOffset: 0, bitSize: 0 }, { name: 'raw', type: 1, bitOffset: 16, bitSize: 0 }] },
      8: { kind: 'struct', name: '', size: 2, members: [{ name: 'x', type: 2, bitOffset: 0, bitSize: 0 }] },
      9: { kind: 'struct', name: 'k', size: 16, members: [
        { name: 'saddr', type: 6, bitOffset: 0, bitSize: 0 }, { name: 'daddr', type: 4, bitOffset: 32, bitSize: 0 },
        { name: 'p', type: 7, bitOffset: 64, bitSize: 0 }, { name: '', type: 8, bitOffset: 96, bitSize: 0 },
      ] },
    });
    expect([...networkOrderKeys(src, 9)].sort()).to.deep.equal(['p_sport', 'saddr', 'x']);
    expect([...networkOrderKeys(src, 5)]).to.deep.equal(['key']);
    expect([...networkOrderKeys(src, 4)]).to.deep.equal([]);
    // saddr decoded from network order (10.0.0.1 is 0x0a000001); daddr a plain __u32 holding network-order bytes
    const key = { saddr: 0x0a000001, daddr: 0x0200000a, p: { sport: 8080, raw: 1 }, x: 53 };
    expect(keyLabels(key, { ipv4: true }, networkOrderKeys(src, 9))).to.deep.equal({ saddr: '10.0.0.1', daddr: '10.0.0.2', p_sport: '8080', p_raw: '1', x: '53' });
    expect(keyLabels(0x0a000001, { ipv4: true }, new Set(['key']))).to.deep.equal({ key: '167772161' }); // a scalar key is no named address
  });
});

describe('exporter: exposition text', () => {
  it("is prom-client's text, with every label set its own series where prom-client's Gauge merged two", async () => {
    const { Gauge, Registry } = await import('prom-client');
    const registry = new Registry();
    const help = 'a \\ help\nover two lines';
    const g = new Gauge({ name: 'm', help, labelNames: ['a', 'b', 'path'], registers: [registry] });
    const series: [Labels, number][] = [
      [{ a: 'x"y', b: 'back\\slash', path: 'p' }, 1], [{ a: 'line\nfeed', b: '\t', path: 'p' }, -2.5],
      [{ a: '', path: 'q' }, 2 ** 53 + 2], [{ a: 'ü €', b: '=,:{}', path: 'q' }, 1e21], [{ path: 'r' }, Infinity], [{ a: '-', b: '-', path: 'r' }, -Infinity],
    ];
    for (const [l, v] of series) g.set(l, v);
    const samples = series.map(([labels, value]) => ({ labels, value }));
    expect(await formatFamily('m', help, 'gauge', samples)).to.equal(await registry.getSingleMetricAsString('m'));
    expect(EXPOSITION_CONTENT_TYPE).to.equal(Registry.PROMETHEUS_CONTENT_TYPE);
    // prom-client's Gauge keys series by 'name:value,' joined: these two are one series there
    const merging = [{ labels: { a: 'x,b:y', b: 'z' }, value: 1 }, { labels: { a: 'x', b: 'y,b:z' }, value: 2 }];
    const g2 = new Gauge({ name: 'c', help: 'h', labelNames: ['a', 'b'], registers: [registry] });
    for (const s of merging) g2.set(s.labels, s.value);
    expect((await registry.getSingleMetricAsString('c')).split('\n')).to.have.length(3);
    expect((await formatFamily('c', 'h', 'counter', merging)).split('\n')).to.deep.equal([
      '# HELP c h', '# TYPE c counter', 'c{a="x,b:y",b="z"} 1', 'c{a="x",b="y,b:z"} 2',
    ]);
  });
});

describe('exporter: read failures', () => {
  it('one warning per map and kind of failure; another kind, another map: another line', () => {
    const lines: string[] = [];
    const warn = mapErrorWarner((l) => lines.push(l));
    const eperm = () => new BpfError('MAP_LOOKUP_ELEM', 1);
    warn('/b/m', eperm());
    warn('/b/m', eperm());
    warn('/b/m', new BpfError('MAP_LOOKUP_ELEM', 13));
    warn('/b/m', new BpfError('BTF_GET_FD_BY_ID', 1));
    warn('/b/n', eperm());
    warn('/b/n', Object.assign(new Error('readdir'), { code: 'EACCES' }));
    warn('/b/n', Object.assign(new Error('readdir again'), { code: 'EACCES' }));
    expect(lines.map((l) => l.slice(0, l.indexOf(' (not repeated')))).to.deep.equal([
      'warning: /b/m: MAP_LOOKUP_ELEM: EPERM (Operation not permitted)',
      'warning: /b/m: MAP_LOOKUP_ELEM: EACCES (Permission denied)',
      'warning: /b/m: BTF_GET_FD_BY_ID: EPERM (Operation not permitted)',
      'warning: /b/n: MAP_LOOKUP_ELEM: EPERM (Operation not permitted)',
      'warning: /b/n: readdir',
    ]);
    expect(lines.every((l) => l.endsWith(' (not repeated: tsbpf_export_map_read_errors_total counts them)\n'))).to.equal(true);
  });

  it('the kind of a failure: the bpf() command and errno (through an ExportError), a file system code, else the class', () => {
    expect(failureKind(new ExportError('wrapped', { cause: new BpfError('OBJ_GET', 13) }))).to.equal('OBJ_GET: EACCES');
    expect(failureKind(Object.assign(new Error('x'), { code: 'ENOTDIR' }))).to.equal('ENOTDIR');
    expect(failureKind(new TypeError('x'))).to.equal('TypeError');
    expect(failureKind('a string')).to.equal('string');
  });
});

describe('exporter: Accept-Encoding', () => {
  it('gzip when named or under *, not with q=0', () => {
    for (const h of ['gzip', 'gzip, deflate', 'deflate, GZIP;q=0.5', '*', 'identity, *;q=1', '*;q=0, gzip']) expect(acceptsGzip(h), h).to.equal(true);
    for (const h of [undefined, '', 'identity', 'deflate, br', 'gzip;q=0', 'gzip;q=0, *', '*;q=0', 'xgzip']) expect(acceptsGzip(h), String(h)).to.equal(false);
  });
});

describe('exporter: codecs kept from scrape to scrape', () => {
  it('made once per BTF key/value pair while maps use it; dropped after a scrape none did', () => {
    const cache = new ReadingCache();
    let made = 0;
    const make = () => { made++; return { key: undefined, value: undefined, skip: undefined, networkOrder: undefined }; };
    const a1 = cache.get('7:1:2:0', make);
    expect(cache.get('7:1:2:0', make)).to.equal(a1);
    cache.get('8:1:2:0', make);
    cache.endScrape();
    expect([made, cache.size]).to.deep.equal([2, 2]);
    expect(cache.get('7:1:2:0', make)).to.equal(a1); // next scrape: only map 7's types are still pinned
    cache.endScrape();
    expect(cache.size).to.equal(1);
    cache.get('8:1:2:0', make);
    expect(made).to.equal(3);
  });
});
