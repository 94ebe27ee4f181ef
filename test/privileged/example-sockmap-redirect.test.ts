// examples/sockmap-redirect.ts as a user runs it: on a cgroup given with --cgroup (the test's
// connection's bytes go through the redirect, counted exactly), and on its own throwaway cgroup.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, type ExampleRun } from '../helpers/example-run.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { queryCgroup } from '../../lib/index.js';

// one connection: 1000 bytes there, 500 back; prints the sizes received and whether they are intact
const TCP = `
import socket
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
c = socket.socket(); c.settimeout(5); c.connect(l.getsockname())
s, _ = l.accept(); s.settimeout(5)
def take(sock, n):
    got = b''
    while len(got) < n:
        b = sock.recv(65536)
        if not b: break
        got += b
    return got
c.sendall(b'a' * 1000); a = take(s, 1000); s.sendall(b'b' * 500); b = take(c, 500)
print(len(a), len(b), a == b'a' * 1000 and b == b'b' * 500)
`;

describe('example sockmap-redirect', function () {
  this.timeout(60_000);
  let cg: TestCgroup | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; cg?.cleanup(); cg = undefined; });

  it('redirects a connection of the --cgroup socket to socket and counts it exactly; SIGINT detaches', async () => {
    cg = createTestCgroup('exsm');
    run = runExample('sockmap-redirect', ['--cgroup', cg.path]);
    await run.waitForLine(/^attached add_socket \(cgroup_sock_ops, link\) to /);
    expect(cg.python(TCP).trim()).to.equal('1000 500 True');
    await run.waitForLine(/^sockets 2 messages 2 bytes 1500 redirected 2$/);
    expect(await run.stop()).to.equal(0);
    expect(queryCgroup(cg.path, 'sock_ops').progIds).to.deep.equal([]);
    // without the example, the same connection works through TCP
    expect(cg.python(TCP).trim()).to.equal('1000 500 True');
  });

  it('runs demo connections in its own throwaway cgroup and removes it', async () => {
    run = runExample('sockmap-redirect', ['--seconds', '3']);
    const [, dir] = await run.waitForLine(/^demo cgroup: (\S+)$/);
    expect(await run.exited()).to.equal(0);
    const m = /^sockets (\d+) messages (\d+) bytes (\d+) redirected (\d+) \(demo connections: (\d+) intact, (\d+) damaged\)$/.exec(run.lines.at(-1)!);
    expect(m, run.output()).to.not.equal(null);
    const [sockets, messages, bytes, redirected, intact, damaged] = m!.slice(1).map(Number);
    expect(intact).to.be.greaterThan(0);
    expect(damaged).to.equal(0);
    expect(redirected).to.equal(messages);
    expect(messages).to.be.at.least(2 * intact);
    expect(bytes).to.be.at.least(1500 * intact);
    expect(sockets).to.be.at.least(2 * intact);
    expect(existsSync(dir)).to.equal(false);
  });
});
