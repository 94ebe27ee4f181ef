// openTcpListener and openUdpSocket: IPv4 and IPv6 sockets opened through the FFI, served by Node
// (net.Server.listen({ fd }) on a duplicate of the listener's fd) or by the UDP socket's own
// recvFrom/sendTo. The port the kernel chose is the one reported; a socket made with `netns` lives in
// that namespace (reachable from inside it, not from here, and its port free here); failures are
// typed SocketErrors naming the call and the address; a closed socket refuses use; no fd is left.
import { expect } from 'chai';
import { fstatSync, readdirSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, waitFor, type TestNetwork } from '../helpers/netns.js';
import { portRequestsAsync } from '../../examples/lib/traffic.js';
import { ClosedError, NetnsError, SocketError } from '../../lib/index.js';
import { openTcpListener, type TcpListener } from '../../lib/socket/listen.js';
import { openUdpSocket, type UdpSocket } from '../../lib/socket/socket.js';

const openFds = () => readdirSync('/proc/self/fd').length;

/** Node serving `l`: each connection gets "hello PORT" (the local port it reached), then the end. */
async function serve(l: TcpListener): Promise<Server> {
  const server = createServer((c) => {
    c.on('error', () => { /* the client went away */ });
    c.end(`hello ${c.localPort}\n`);
  });
  // net.Server closes the fd it listens on: it gets a duplicate
  server.listen({ fd: l.fd.dup().release() });
  await once(server, 'listening');
  return server;
}

const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/** one TCP connection from this process: the reply's first line, or the error's code */
function ask(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host, port, timeout: 3000 });
    let text = '';
    c.on('data', (b) => { text += b.toString(); });
    c.on('end', () => resolve(text.trim()));
    c.on('timeout', () => { c.destroy(); resolve('timeout'); });
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** answer every datagram with "pong PORT" (the port it was sent to) until the socket is closed */
async function pong(s: UdpSocket): Promise<void> {
  for await (const d of s.datagrams()) s.sendTo(`pong ${d.to.port}`, d.from);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('openTcpListener / openUdpSocket (FFI inet sockets)', function () {
  this.timeout(60_000);
  let net: TestNetwork | undefined;
  let fdsBefore = 0;
  const opened: { close(): void }[] = [];
  const servers: Server[] = [];
  const keep = <T extends { close(): void }>(s: T): T => {
    opened.push(s);
    return s;
  };

  before(function () {
    requirePrivileged(this);
    fdsBefore = openFds();
    net = createTestNetwork('lsn');
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await closeServer(s);
    for (const s of opened.splice(0)) s.close();
  });

  after(async () => {
    net?.cleanup();
    net = undefined;
    // a UDP socket's epoll waiter lets its fds go once its worker thread has exited: waited for, bounded
    if (fdsBefore) expect(await waitFor(openFds, (n) => n <= fdsBefore, 5000), 'fds of this process').to.be.at.most(fdsBefore);
  });

  for (const [address, v6] of [['127.0.0.1', false], ['::1', true]] as const) {
    it(`TCP on ${address}: the port the kernel chose is reported, Node serves it, closing leaves no fd`, async () => {
      const fds = openFds();
      const l = openTcpListener({ address });
      expect(l.local).to.deep.equal({ family: v6 ? 6 : 4, address, port: l.port });
      expect(l.port).to.be.within(1024, 65535);
      expect(l.address).to.equal(address);
      const server = await serve(l);
      expect(server.address()).to.include({ port: l.port, address });
      expect(await ask(address, l.port)).to.equal(`hello ${l.port}`);
      // the server closed its duplicate: the listener's own fd is still open, and closing it is the last
      await closeServer(server);
      expect(fstatSync(l.fd.value).isSocket()).to.equal(true);
      l.close();
      expect(l.closed).to.equal(true);
      expect(openFds()).to.be.at.most(fds);
      expect(await ask(address, l.port)).to.equal('ECONNREFUSED');
    });
  }

  it('a fixed port; v6 alone means ::1; "::" takes IPv4 too unless v6Only', async () => {
    const fixed = keep(openTcpListener({ address: '127.0.0.1', port: 0 }));
    const port = fixed.port;
    fixed.close();
    const again = keep(openTcpListener({ address: '127.0.0.1', port, backlog: 8 }));
    expect(again.port).to.equal(port);
    expect(keep(openTcpListener({ v6: true })).local).to.include({ family: 6, address: '::1' });
    expect(keep(openTcpListener()).local).to.include({ family: 4, address: '127.0.0.1' });

    const dual = keep(openTcpListener({ address: '::' }));
    servers.push(await serve(dual));
    expect(await ask('127.0.0.1', dual.port)).to.equal(`hello ${dual.port}`);
    const only = keep(openTcpListener({ address: '::', v6Only: true }));
    servers.push(await serve(only));
    expect(await ask('::1', only.port)).to.equal(`hello ${only.port}`);
    expect(await ask('127.0.0.1', only.port)).to.equal('ECONNREFUSED');
  });

  it('netns: the listener lives in that namespace (served from here, reached from inside it, not from here)', async () => {
    const n = net!;
    const l = keep(openTcpListener({ address: '127.0.0.1', netns: n.nsA }));
    servers.push(await serve(l));
    expect(await portRequestsAsync(n.nsA, '127.0.0.1', [`tcp:${l.port}`])).to.deep.equal([`hello ${l.port}`]);
    // here the same address and port are free: nothing listens, and they can be bound
    expect(await ask('127.0.0.1', l.port)).to.equal('ECONNREFUSED');
    keep(openTcpListener({ address: '127.0.0.1', port: l.port })).close();
    // and from the other end of the veth, to A's address
    const wide = keep(openTcpListener({ address: n.addrA, netns: `/run/netns/${n.nsA}` }));
    servers.push(await serve(wide));
    expect(await portRequestsAsync(n.nsB, n.addrA, [`tcp:${wide.port}`])).to.deep.equal([`hello ${wide.port}`]);
    // A's address is not this namespace's: it cannot be bound here
    const e = thrown(() => openTcpListener({ address: n.addrA })) as SocketError;
    expect(e).to.be.instanceOf(SocketError);
    expect(e).to.include({ op: 'bind', errno: 'EADDRNOTAVAIL', address: `${n.addrA}:0` });
  });

  it('netns: a UDP socket there answers from inside it, from the port asked', async () => {
    const n = net!;
    const u = keep(openUdpSocket({ address: '127.0.0.1', netns: n.nsA }));
    const served = pong(u);
    expect(await portRequestsAsync(n.nsA, '127.0.0.1', [`udp:${u.port}`, `udp:${u.port}`])).to.deep.equal([`pong ${u.port}`, `pong ${u.port}`]);
    u.close();
    await served;
  });

  it('address in use: a typed SocketError naming bind and the address; reusePort lets two listen', () => {
    const a = keep(openTcpListener({ address: '127.0.0.1' }));
    const e = thrown(() => openTcpListener({ address: '127.0.0.1', port: a.port })) as SocketError;
    expect(e).to.be.instanceOf(SocketError);
    expect(e).to.include({ op: 'bind', errno: 'EADDRINUSE', address: `127.0.0.1:${a.port}` });
    expect(e.message).to.match(new RegExp(`^bind: EADDRINUSE .*TCP socket 127\\.0\\.0\\.1:${a.port}$`));
    const v6 = keep(openTcpListener({ address: '::1' }));
    expect(() => openTcpListener({ address: '::1', port: v6.port })).to.throw(SocketError, `[::1]:${v6.port}`);
    const r1 = keep(openTcpListener({ address: '127.0.0.1', reusePort: true }));
    const r2 = keep(openTcpListener({ address: '127.0.0.1', port: r1.port, reusePort: true }));
    expect(r2.port).to.equal(r1.port);
    const u = keep(openUdpSocket({ address: '127.0.0.1' }));
    expect(() => openUdpSocket({ address: '127.0.0.1', port: u.port })).to.throw(SocketError, /^bind: EADDRINUSE .*UDP socket 127\.0\.0\.1:/);
  });

  it('arguments that cannot be right: SocketError(EINVAL) before any socket; a missing namespace is a NetnsError', () => {
    const fds = openFds();
    const cases: [() => unknown, RegExp][] = [
      [() => openTcpListener({ address: 'localhost' }), /^openTcpListener: EINVAL .*"localhost" is not an IPv4 or IPv6 address/],
      [() => openTcpListener({ address: 'fe80::1%lo' }), /a zone such as %eth0 is not taken/],
      [() => openTcpListener({ address: '127.0.0.1', port: 70000 }), /port 70000 is out of range/],
      [() => openTcpListener({ address: '127.0.0.1', v6: true }), /v6 was asked for but 127\.0\.0\.1 is an IPv4 address/],
      [() => openTcpListener({ address: '127.0.0.1', v6Only: true }), /v6Only is for IPv6 sockets/],
      [() => openTcpListener({ backlog: -1 }), /backlog -1 must be a non-negative integer/],
      [() => openUdpSocket({ address: '1.2.3' }), /^openUdpSocket: EINVAL/],
    ];
    for (const [fn, re] of cases) {
      const e = thrown(fn) as SocketError;
      expect(e, String(fn)).to.be.instanceOf(SocketError);
      expect(e.errno).to.equal('EINVAL');
      expect(e.message).to.match(re);
    }
    expect(() => openTcpListener({ netns: 'tsbpf-no-such-netns' })).to.throw(NetnsError, /does not exist/);
    expect(openFds()).to.be.at.most(fds);
  });

  it('UDP on IPv4 and IPv6: recvFrom says who sent and where to, sendTo answers; datagrams() ends at abort and at close', async () => {
    for (const [address, type] of [['127.0.0.1', 'udp4'], ['::1', 'udp6']] as const) {
      const u = keep(openUdpSocket({ address }));
      expect(u.local).to.deep.equal({ family: type === 'udp4' ? 4 : 6, address, port: u.port });
      expect(u.recvFrom()).to.equal(null);
      const client = createSocket(type);
      try {
        client.bind(0, address);
        await once(client, 'listening');
        const got = once(client, 'message');
        client.send('ping', u.port, address);
        const ac = new AbortController();
        for await (const d of u.datagrams(ac.signal)) {
          expect(Buffer.from(d.data).toString()).to.equal('ping');
          expect(d.from).to.deep.equal({ family: u.local.family, address, port: client.address().port });
          expect(d.to).to.deep.equal(u.local);
          u.sendTo('pong', d.from);
          ac.abort();
        }
        const [msg, rinfo] = await got as [Buffer, { address: string; port: number }];
        expect([msg.toString(), rinfo.address, rinfo.port]).to.deep.equal(['pong', address, u.port]);
      } finally {
        client.close();
      }
      // a wait in progress ends when the socket is closed
      const ending = (async () => {
        let n = 0;
        for await (const _ of u.datagrams()) n++;
        return n;
      })();
      await new Promise((r) => setImmediate(r));
      u.close();
      expect(await ending).to.equal(0);
    }
  });

  it('a closed socket refuses use: ClosedError from its fd, recvFrom and sendTo; close() twice is fine', async () => {
    const l = openTcpListener();
    l.close();
    l.close();
    expect(l.closed).to.equal(true);
    expect(() => l.fd.value).to.throw(ClosedError);
    expect(() => l.fd.dup()).to.throw(ClosedError);
    expect(String(l)).to.match(/^TcpListener\(127\.0\.0\.1:\d+, closed\)$/);
    const u = openUdpSocket({ address: '::1' });
    u[Symbol.dispose]();
    expect(u.closed).to.equal(true);
    expect(() => u.recvFrom()).to.throw(ClosedError);
    expect(() => u.recv()).to.throw(ClosedError);
    expect(() => u.sendTo('x', { address: '::1', port: 9 })).to.throw(ClosedError);
    const it = u.datagrams()[Symbol.asyncIterator]();
    expect(await it.next()).to.deep.equal({ value: undefined, done: true });
    u.close();
  });
});
