// attachReuseport: bpf/attach_reuseport.o on SO_REUSEPORT groups of UDP sockets on 127.0.0.1 (the
// test's own sockets; datagrams from this process). An sk_reuseport program picks each datagram's
// socket by its first byte through a REUSEPORT_SOCKARRAY, or drops it; a socket filter program
// picks by the group's join order (UDP, and TCP listeners served by Node); detach() gives the group back to the kernel's hash. Refusals
// are typed and leave the group as it was.
import { expect } from 'chai';
import { createSocket, type Socket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { closeSync, openSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { waitFor } from '../helpers/netns.js';
import { loadObject, AttachArgumentError, BpfError, type BpfObject } from '../../lib/index.js';
import { openUdpSocket, SocketError, type UdpSocket } from '../../lib/socket/socket.js';
import { openTcpListener, type TcpListener } from '../../lib/socket/listen.js';
import { attachReuseport, detachReuseport, ReuseportAttachment } from '../../lib/attach/reuseport.js';
import { NotASocketError } from '../../lib/attach/socket-filter.js';

const VERDICT = { selected: 0, dropped: 1, hashed: 2, selectFailed: 3 } as const;

describe('attachReuseport: a program picks the socket of a SO_REUSEPORT group', function () {
  this.timeout(30_000);
  let obj: BpfObject | undefined;
  let group: UdpSocket[] = [];
  let senders: Socket[] = [];
  let listeners: TcpListener[] = [];
  let servers: Server[] = [];
  const handles: ReuseportAttachment[] = [];
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    for (const h of handles.splice(0)) h.close();
    for (const s of group) s.close();
    group = [];
    for (const s of senders) s.close();
    senders = [];
    for (const s of servers) s.close();
    servers = [];
    for (const l of listeners) l.close();
    listeners = [];
    obj?.close();
    obj = undefined;
  });

  /** n UDP sockets on one 127.0.0.1 port, joined in this order */
  function makeGroup(n: number): UdpSocket[] {
    const first = openUdpSocket({ address: '127.0.0.1', reusePort: true });
    group = [first, ...Array.from({ length: n - 1 }, () => openUdpSocket({ address: '127.0.0.1', port: first.port, reusePort: true }))];
    return group;
  }
  /** a sender of its own (one flow: one source port) */
  async function sender(): Promise<(payloads: string[]) => Promise<void>> {
    const s = createSocket('udp4');
    senders.push(s);
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
    return async (payloads) => {
      for (const p of payloads) await new Promise<void>((res, rej) => s.send(p, group[0].port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    };
  }
  /** what each socket of the group received so far (payloads, in order), accumulated */
  function receiver(): () => string[][] {
    const got: string[][] = group.map(() => []);
    return () => {
      group.forEach((s, i) => {
        for (let d = s.recvFrom(); d; d = s.recvFrom()) got[i].push(Buffer.from(d.data).toString());
      });
      return got;
    };
  }
  const total = (got: string[][]) => got.reduce((n, g) => n + g.length, 0);
  const verdicts = () => Object.fromEntries(Object.entries(VERDICT).map(([k, i]) => [k, obj!.map<number, bigint>('verdicts').lookup(i)]));

  it('sk_reuseport: the first byte picks the socket through a REUSEPORT_SOCKARRAY, d is dropped; detach() gives the group back to the hash', async () => {
    obj = loadObject('bpf/attach_reuseport.o');
    const [a, b, c] = makeGroup(3);
    const socks = obj.map('socks');
    [a, b, c].forEach((s, i) => socks.update(i, s));
    const r = attachReuseport({ program: obj.program('select_by_payload'), socket: b });
    handles.push(r);
    expect(r.info).to.deep.equal({ kind: 'reuseport', socketFd: b.fd.value, programId: obj.program('select_by_payload').id, programName: 'select_by_payload' });

    const send = await sender();
    const got = receiver();
    await send(['0', '1', '2', '2', '1', '2', 'd', 'd', '0x']);
    expect(total(await waitFor(got, (g) => total(g) >= 7))).to.equal(7);
    expect(got()).to.deep.equal([['0', '0x'], ['1', '1'], ['2', '2', '2']]);
    expect(verdicts()).to.deep.equal({ selected: 7n, dropped: 2n, hashed: 0n, selectFailed: 0n });

    r.detach();
    expect(r.detached).to.equal(true);
    // the hash: one flow's datagrams all go to one socket of the group, and 'd' is delivered now
    const before = got().map((g) => g.length);
    await send(Array.from({ length: 10 }, () => 'd'));
    const after = await waitFor(got, (g) => total(g) >= 7 + 10);
    const gained = after.map((g, i) => g.length - before[i]);
    expect(gained.filter((n) => n > 0)).to.deep.equal([10]);
    expect(verdicts().dropped).to.equal(2n);
    r.detach(); // idempotent
  });

  it('a socket filter program returns the index of the socket in the group (join order)', async () => {
    obj = loadObject('bpf/attach_reuseport.o');
    makeGroup(3);
    handles.push(attachReuseport({ program: obj.program('pick_second'), socket: group[2] }));
    const got = receiver();
    for (const send of [await sender(), await sender()]) await send(['x', 'y', 'z']);
    expect(total(await waitFor(got, (g) => total(g) >= 6))).to.equal(6);
    expect(got()).to.deep.equal([[], ['x', 'y', 'z', 'x', 'y', 'z'], []]);
  });

  it('a TCP group: connections go to the listener the program picks, each served by Node on its own listener', async () => {
    obj = loadObject('bpf/attach_reuseport.o');
    const first = openTcpListener({ address: '127.0.0.1', reusePort: true });
    listeners.push(first, ...[1, 2].map(() => openTcpListener({ address: '127.0.0.1', port: first.port, reusePort: true })));
    const accepted = listeners.map(() => 0);
    for (const [i, l] of listeners.entries()) {
      const srv = createServer((c) => { accepted[i]++; c.end(`${i}\n`); });
      servers.push(srv);
      await new Promise<void>((res) => srv.listen({ fd: l.fd.dup().release() }, res));
    }
    handles.push(attachReuseport({ program: obj.program('pick_second'), socket: listeners[0] }));
    const answers: string[] = [];
    for (let n = 0; n < 5; n++) {
      answers.push(await new Promise<string>((res, rej) => {
        let got = '';
        const c = connect(first.port, '127.0.0.1');
        c.on('data', (b) => { got += b.toString(); }).on('end', () => res(got.trim())).on('error', rej);
      }));
    }
    expect(answers).to.deep.equal(['1', '1', '1', '1', '1']);
    expect(accepted).to.deep.equal([0, 5, 0]);
  });

  it('refuses what cannot work with typed errors, and detaches through another member once its socket is closed', async () => {
    obj = loadObject('bpf/attach_reuseport.o');
    const select = obj.program('select_by_payload');
    const loner = openUdpSocket({ address: '127.0.0.1' });
    group.push(loner);
    expect(() => attachReuseport({ program: select, socket: loner })).to.throw(SocketError, /SO_ATTACH_REUSEPORT_EBPF\): EINVAL .*the socket needs SO_REUSEPORT \(reusePort: true\)/);
    // the kernel takes no socket outside a reuseport group into the array either
    expect(() => obj!.map('socks').update(0, loner)).to.throw(BpfError, /EINVAL/);
    const file = openSync('/dev/null', 'r');
    try {
      expect(() => attachReuseport({ program: select, socket: file })).to.throw(NotASocketError, `fd ${file} is not a socket (ENOTSOCK)`);
    } finally {
      closeSync(file);
    }
    const other = loadObject('bpf/attach_lwt.o');
    try {
      expect(() => attachReuseport({ program: other.program('count_out'), socket: loner }))
        .to.throw(AttachArgumentError, /program count_out is of type lwt_out; a SO_REUSEPORT group takes sk_reuseport or socket_filter/);
    } finally {
      other.close();
    }

    const [, b, c] = [loner, ...makeGroup(2)];
    group.push(loner);
    const r = attachReuseport({ program: obj.program('pick_second'), socket: b });
    handles.push(r);
    b.close();
    expect(() => r.detach()).to.throw(AttachArgumentError, /is closed: detach through another socket of the group with detachReuseport/);
    detachReuseport(c);
    detachReuseport(c); // none there: not an error
    expect(() => detachReuseport(loner)).to.throw(SocketError, /not in a SO_REUSEPORT group/);
  });
});
