// examples/lib/format.ts: addresses and ports in the byte order the example programs keep them,
// and the command-line parsers' errors.
import { expect } from 'chai';
import { ipv4ToU32, u32ToIpv4, htons, parseService, parseAddrPort, parseProtocol, sumCpus, serviceKey } from '../../examples/lib/format.js';

describe('examples/lib/format', () => {
  it('keeps IPv4 addresses in network order: the first octet in the low byte of the host integer', () => {
    const n = ipv4ToU32('198.19.2.10');
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, n, true);
    expect([...bytes]).to.deep.equal([198, 19, 2, 10]);
    expect(u32ToIpv4(n)).to.equal('198.19.2.10');
    expect(u32ToIpv4(ipv4ToU32('255.255.255.255'))).to.equal('255.255.255.255');
  });

  it('swaps port bytes (htons) and back', () => {
    expect(htons(80)).to.equal(0x5000);
    expect(htons(htons(54321))).to.equal(54321);
    expect(serviceKey('10.0.0.1', 443, 6)).to.deep.equal({ addr: ipv4ToU32('10.0.0.1'), port: htons(443), proto: 6, pad: 0 });
  });

  it('parses services, defaulting to UDP, and rejects malformed ones with the text given', () => {
    expect(parseService('10.0.0.1:80=10.0.0.2:8080')).to.deep.equal({ proto: 17, vip: { addr: '10.0.0.1', port: 80 }, backend: { addr: '10.0.0.2', port: 8080 } });
    expect(parseService('10.0.0.1:80=10.0.0.2:8080/tcp').proto).to.equal(6);
    expect(() => parseService('10.0.0.1:80')).to.throw(/VIP:PORT=BACKEND:PORT/);
    expect(() => parseAddrPort('10.0.0.256:80')).to.throw(/not an IPv4 address: 10\.0\.0\.256/);
    expect(() => parseAddrPort('10.0.0.1:70000')).to.throw(/ADDR:PORT/);
    expect(parseProtocol('tcp')).to.equal(6);
    expect(() => parseProtocol('foo')).to.throw(/not a protocol: foo/);
  });

  it('sums per-CPU values of numbers or bigints', () => {
    expect(sumCpus([1n, 2n, 3n], (v) => v)).to.equal(6n);
    expect(sumCpus([{ p: 1n }, { p: 5n }], (v) => v.p)).to.equal(6n);
  });
});
