// examples/sockops-tuner.ts as a user runs it: the options it sets are read back with getsockopt on
// both ends of a connection made in the --cgroup, and are gone once it stopped; demo mode cleans up.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, type ExampleRun } from '../helpers/example-run.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { queryCgroup } from '../../lib/index.js';

// TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE of the connecting and the accepting socket
const OPTS = `
import socket
def opts(s):
    return '%d %d %d' % (s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0, s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
c = socket.socket(); c.connect(l.getsockname()); s, _ = l.accept()
print(opts(c) + ' / ' + opts(s))
`;

describe('example sockops-tuner', function () {
  this.timeout(60_000);
  let cg: TestCgroup | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; cg?.cleanup(); cg = undefined; });

  it('sets TCP_NODELAY and keepalive on both ends of connections in --cgroup; nothing after SIGINT', async () => {
    cg = createTestCgroup('exst');
    // the kernel's defaults first
    expect(cg.python(OPTS).trim()).to.equal('0 0 7200 / 0 0 7200');
    run = runExample('sockops-tuner', ['--cgroup', cg.path, '--keepidle', '77']);
    await run.waitForLine(/^attached tune \(cgroup_sock_ops, link\) to /);
    expect(cg.python(OPTS).trim()).to.equal('1 1 77 / 1 1 77');
    await run.waitForLine(/^tuned 2 failed 0$/);
    expect(await run.stop()).to.equal(0);
    expect(queryCgroup(cg.path, 'sock_ops').progIds).to.deep.equal([]);
    expect(cg.python(OPTS).trim()).to.equal('0 0 7200 / 0 0 7200');
  });

  it('--no-nodelay leaves Nagle alone', async () => {
    cg = createTestCgroup('exst');
    run = runExample('sockops-tuner', ['--cgroup', cg.path, '--keepidle', '30', '--no-nodelay']);
    await run.waitForLine(/^attached tune /);
    expect(cg.python(OPTS).trim()).to.equal('0 1 30 / 0 1 30');
    expect(await run.stop()).to.equal(0);
  });

  it('runs demo connections in its own throwaway cgroup and removes it', async () => {
    run = runExample('sockops-tuner', ['--seconds', '2']);
    const [, dir] = await run.waitForLine(/^demo cgroup: (\S+)$/);
    expect(await run.exited()).to.equal(0);
    expect(run.lines.filter((l) => l.startsWith('demo connection: ')).at(-1))
      .to.equal('demo connection: client nodelay 1 keepalive 1 keepidle 60; server nodelay 1 keepalive 1 keepidle 60');
    expect(run.lines.filter((l) => /^tuned \d+ failed 0$/.test(l)).length).to.be.greaterThan(0);
    expect(existsSync(dir)).to.equal(false);
  });
});
