// attachSocketFilter on sockets opened through the FFI: a UDP socket on loopback and an AF_PACKET
// socket on a test veth; the filter keeps UDP datagrams to one port unless their payload starts with
// 'd' and counts its verdicts; what the socket receives is checked against what was sent.
import { expect } from 'chai';
import dgram from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, waitFor, type TestNetwork } from '../helpers/netns.js';
import { counter } from '../helpers/attach-fixtures.js';
import {
  loadObject, attachSocketFilter, NotASocketError, SocketFilterAttachment, AttachArgumentError, openPacketSocket, openUdpSocket,
  type BpfObject, type RawSocket,
} from '../../lib/index.js';

const V = { kept: 0, dropped: 1, other: 2 };

async function sendTo(port: number, payloads: string[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  try {
    for (const p of payloads) await new Promise<void>((res, rej) => s.send(p, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
  } finally {
    s.close();
  }
}

describe('attachSocketFilter', function () {
  this.timeout(30_000);
  let obj: BpfObject | undefined;
  let sock: RawSocket | undefined;
  let net: TestNetwork | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    sock?.close();
    sock = undefined;
    obj?.close();
    obj = undefined;
    net?.cleanup();
    net = undefined;
  });

  const verdict = (k: number) => counter(obj!.maps.get('verdicts'), k);
  const text = (d: Uint8Array) => Buffer.from(d).toString();

  it('filters a UDP socket: dropped datagrams never arrive, kept ones do; detach lets all through', async () => {
    sock = openUdpSocket();
    const port = sock.port;
    expect(port).to.be.greaterThan(0);
    obj = loadObject('bpf/attach_socket.o', { constants: { port } });
    const prog = obj.programs.get('udp_filter')!;
    const a = attachSocketFilter({ program: prog, socket: sock });
    expect(a).to.be.instanceOf(SocketFilterAttachment);
    expect(a.info).to.include({ kind: 'socket_filter', socketFd: sock.fd.value, programId: prog.id, programName: 'udp_filter' });
    await sendTo(port, ['d1', 'k1', 'd2', 'k2', 'k3']);
    await waitFor(() => verdict(V.kept) + verdict(V.dropped), (n) => n === 5n);
    expect(verdict(V.kept)).to.equal(3n);
    expect(verdict(V.dropped)).to.equal(2n);
    expect(sock.drain().map(text)).to.deep.equal(['k1', 'k2', 'k3']);
    a.detach();
    await sendTo(port, ['d3', 'k4']);
    const after: string[] = [];
    await waitFor(() => after.push(...sock!.drain().map(text)), (n) => n >= 2);
    expect(after).to.deep.equal(['d3', 'k4']);
    expect(verdict(V.kept) + verdict(V.dropped)).to.equal(5n);
  });

  it('filters an AF_PACKET socket on a veth: only the UDP frames to the port reach it', async () => {
    net = createTestNetwork('sockf');
    const n = net;
    sock = n.inNs('B', () => openPacketSocket({ interface: n.vethB }));
    const port = 20000 + Math.floor(Math.random() * 20000);
    obj = loadObject('bpf/attach_socket.o', { constants: { port } });
    const a = attachSocketFilter({ program: obj.programs.get('udp_filter')!, socket: sock.fd });
    try {
      sock.drain(); // anything that arrived before the filter
      n.sendUdp({ count: 4, port, from: 'A' });
      await waitFor(() => verdict(V.kept), (k) => k === 4n);
      const frames = sock.drain();
      expect(frames).to.have.length(4);
      for (const f of frames) {
        const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
        expect(v.getUint16(12)).to.equal(0x0800); // IPv4
        expect(f[14 + 9]).to.equal(17); // UDP
        expect(v.getUint16(14 + (f[14] & 0xf) * 4 + 2)).to.equal(port);
      }
      // the ICMP port-unreachable answers B sends go out on vethB: seen by the filter and dropped
      expect(verdict(V.other) > 0n).to.equal(true);
    } finally {
      a.detach();
    }
    n.sendUdp({ count: 2, port, from: 'A' });
    const udp = (fs: Uint8Array[]) => fs.filter((f) => f[12] === 8 && f[13] === 0 && f[14 + 9] === 17).length;
    let seen = 0;
    await waitFor(() => (seen += udp(sock!.drain())), (k) => k >= 2);
    expect(seen).to.equal(2); // and unfiltered frames (ICMP, ARP) may come along
    expect(verdict(V.kept)).to.equal(4n);
  });

  it('a fd that is not a socket, a closed fd and a program of the wrong type are typed errors', async () => {
    const udp = sock = openUdpSocket();
    obj = loadObject('bpf/attach_socket.o', { constants: { port: udp.port } });
    const prog = obj.programs.get('udp_filter')!;
    const file = openSync('/proc/self/status', 'r');
    try {
      expect(() => attachSocketFilter({ program: prog, socket: file })).to.throw(NotASocketError, `fd ${file} is not a socket (ENOTSOCK)`);
    } finally {
      closeSync(file);
    }
    expect(() => attachSocketFilter({ program: prog, socket: file })).to.throw(NotASocketError, `fd ${file} is not an open file descriptor (EBADF)`);
    expect(() => attachSocketFilter({ program: prog, socket: -1 })).to.throw(AttachArgumentError, /socket must be a socket fd/);
    const other = loadObject('bpf/attach_cgroup.o');
    try {
      expect(() => attachSocketFilter({ program: other.programs.get('cg_egress')!, socket: udp }))
        .to.throw(AttachArgumentError, /cg_egress is of type cgroup_skb; a socket takes socket_filter/);
    } finally {
      other.close();
    }
    // nothing was attached: a datagram the filter would drop arrives
    await sendTo(sock.port, ['d-unfiltered']);
    expect((await waitFor(() => sock!.drain(), (l) => l.length > 0)).map(text)).to.deep.equal(['d-unfiltered']);
    expect(verdict(V.dropped)).to.equal(0n);
  });
});
