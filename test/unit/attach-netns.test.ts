// The `netns` option's argument checking: what is no network namespace is a NetnsError naming it,
// found before the program is looked at or anything attached, with no fd left open. These need no
// privileges: the only namespace entered is the test's own, which is never setns'd into.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, NetnsError, inNetns, setSetnsForTesting } from '../../lib/netlink/netns-enter.js';
import { InterfaceNotFoundError } from '../../lib/netlink/errors.js';
import { attachTc, attachTcx, attachXdp, attachXdpLink, AttachArgumentError } from '../../lib/attach/index.js';
import { Fd } from '../../lib/syscall/fd.js';
import { netAttach, netDetach, netShow } from '../../lib/cli/net.js';

const openFds = () => readdirSync('/proc/self/fd').length;
const ownNet = () => statSync('/proc/thread-self/ns/net');
/** not a loaded program: the attach functions refuse it, but only after the namespace */
const fakeProgram = { name: 'fake' } as never;

describe('netns option: argument checking', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-netns-'));
    file = join(dir, 'plain');
    writeFileSync(file, 'not a namespace');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused: [string, () => unknown, RegExp][] = [
    ['an empty string', () => Netns.open(''), /^Netns\.open: network namespace "" cannot be: give a path/],
    ['a path with a NUL', () => Netns.open('/run/netns/a\0b'), /a path holds no NUL byte$/],
    ['a fractional fd', () => Netns.open(3.5), /network namespace 3\.5 cannot be: an fd is an integer 0 … 2147483647/],
    ['a negative fd', () => Netns.open(-1), /network namespace -1 cannot be/],
    ['an fd past the s32 range', () => Netns.open(2 ** 31), /cannot be: an fd is an integer/],
    ['null', () => Netns.open(null as never), /network namespace null cannot be: give a path/],
    ['an object', () => Netns.open({} as never), /network namespace \(an object: Object\) cannot be/],
    ['a boolean', () => Netns.open(true as never), /network namespace \(boolean true\) cannot be/],
    ['a bare name nobody made', () => Netns.open('tsbpf-no-such-ns'), /^Netns\.open: network namespace \/run\/netns\/tsbpf-no-such-ns does not exist \(no namespace named tsbpf-no-such-ns: `ip netns list` shows them\)$/],
    ['a missing path', () => Netns.open('/nonexistent/ns'), /network namespace \/nonexistent\/ns does not exist$/],
    ['a directory', () => Netns.open(tmpdir()), /is a directory, not a network namespace$/],
    ['a device (never opened)', () => Netns.open('/dev/null'), /\/dev\/null is a device, not a network namespace$/],
    ['a regular file', () => Netns.open(file), /is not a namespace file \(a namespace is \/run\/netns\/NAME while `ip netns` holds it, or \/proc\/PID\/ns\/net\)$/],
    ['a namespace of another kind', () => Netns.open('/proc/self/ns/mnt'), /\/proc\/self\/ns\/mnt is a mount namespace, not a network namespace$/],
    ['another kind through /proc/PID', () => Netns.open(`/proc/${process.pid}/ns/uts`), /is a uts namespace, not a network namespace$/],
  ];
  for (const [what, run, msg] of refused) {
    it(`refuses ${what}`, () => {
      const fds = openFds();
      expect(run).to.throw(NetnsError, msg);
      expect(openFds()).to.equal(fds);
    });
  }

  it('refuses a FIFO without blocking on it', function () {
    const fifo = join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) this.skip();
    expect(() => Netns.open(fifo)).to.throw(NetnsError, /is a FIFO, not a network namespace$/);
  });

  it('refuses fds and Fds that are no network namespace, and leaves them open', () => {
    const fd = openSync(file, 'r');
    try {
      expect(() => Netns.open(fd)).to.throw(NetnsError, new RegExp(`^Netns\\.open: network namespace fd ${fd} is not a namespace file`))
        .with.property('errno', 'ENOTTY');
      // an fd of a device or a pipe is refused without an ioctl on it
      const dev = openSync('/dev/null', 'r');
      try {
        expect(() => Netns.open(dev)).to.throw(NetnsError, new RegExp(`fd ${dev} is a device, not a network namespace$`));
      } finally {
        closeSync(dev);
      }
      const wrapped = new Fd(openSync(file, 'r'));
      expect(() => Netns.open(wrapped)).to.throw(NetnsError, /is not a namespace file/);
      expect(wrapped.closed).to.equal(false);
      wrapped.close();
      expect(() => Netns.open(wrapped)).to.throw(NetnsError, /Fd\(closed\) cannot be used: the Fd is closed$/);
      expect(statSync(`/proc/self/fd/${fd}`).isFile()).to.equal(true); // borrowed: still open
    } finally {
      closeSync(fd);
    }
    // an fd number nothing is open on
    let unused = 4000;
    while (readdirSync('/proc/self/fd').includes(String(unused))) unused++;
    expect(() => Netns.open(unused)).to.throw(NetnsError, new RegExp(`fd ${unused} is not usable \\(fstat: EBADF`)).with.property('errno', 'EBADF');
  });

  it('opens a network namespace by path and by fd: its inode, the fd owned or borrowed', () => {
    const fds = openFds();
    const byPath = Netns.open(`/proc/${process.pid}/task/${process.pid}/ns/net`);
    expect(byPath.inode).to.equal(ownNet().ino);
    expect(byPath.label).to.equal(`/proc/${process.pid}/task/${process.pid}/ns/net`);
    const borrowed = Netns.open(byPath);
    expect(borrowed).to.include({ label: byPath.label, inode: byPath.inode });
    borrowed.close(); // a borrowed Netns leaves the fd to its owner
    expect(byPath.fd).to.be.a('number');
    const byFd = Netns.open(byPath.fd);
    expect(byFd.label).to.equal(`fd ${byPath.fd}`);
    byFd.close();
    expect(statSync(`/proc/self/fd/${byPath.fd}`).ino).to.equal(byPath.inode);
    byPath.close();
    byPath.close(); // idempotent
    expect(byPath.closed).to.equal(true);
    expect(() => Netns.open(byPath)).to.throw(NetnsError, /its Netns is closed/);
    expect(openFds()).to.equal(fds);
  });

  it('runs a step "in" the thread\'s own namespace without setns, returning its value or its error', () => {
    let calls = 0;
    setSetnsForTesting(() => { calls++; return -1; });
    try {
      expect(inNetns(undefined, 'test', () => 7)).to.equal(7);
      const own = Netns.open('/proc/thread-self/ns/net');
      try {
        expect(inNetns(own, 'test', () => 'x')).to.equal('x');
        expect(() => inNetns(own, 'test', () => { throw new RangeError('inside'); })).to.throw(RangeError, 'inside');
      } finally {
        own.close();
      }
    } finally {
      setSetnsForTesting(undefined);
    }
    expect(calls).to.equal(0);
  });

  it('every attach function checks the namespace before the program, and opens nothing it keeps', () => {
    const fds = openFds();
    const attaches = {
      attachTc: (netns: unknown) => attachTc({ program: fakeProgram, interface: 'veth0', direction: 'ingress', netns: netns as string }),
      attachXdp: (netns: unknown) => attachXdp({ program: fakeProgram, interface: 'veth0', netns: netns as string }),
      attachXdpLink: (netns: unknown) => attachXdpLink({ program: fakeProgram, interface: 'veth0', netns: netns as string }),
      attachTcx: (netns: unknown) => attachTcx({ program: fakeProgram, interface: 'veth0', direction: 'egress', netns: netns as string }),
    };
    for (const [op, attach] of Object.entries(attaches)) {
      expect(() => attach('tsbpf-no-such-ns'), op).to.throw(NetnsError, new RegExp(`^${op}: network namespace /run/netns/tsbpf-no-such-ns does not exist`)).with.property('op', op);
      expect(() => attach(file), op).to.throw(NetnsError, /is not a namespace file/);
      expect(() => attach(''), op).to.throw(NetnsError, /cannot be/);
      // a namespace that is one (the test's own): on to the program, which is refused
      expect(() => attach('/proc/self/ns/net'), op).to.throw(AttachArgumentError, /program must be a loaded program/);
    }
    // the option checks that need nothing open still come first
    expect(() => attachTc({ program: fakeProgram, interface: 'veth0', direction: 'sideways' as never, netns: 'tsbpf-no-such-ns' })).to.throw(AttachArgumentError, /direction must be/);
    expect(openFds()).to.equal(fds);
  });

  it('CLI: --netns is checked before the program is opened', () => {
    const fds = openFds();
    expect(() => netAttach('tc', ['pinned', '/nonexistent/pin', 'dev', 'veth0', 'ingress'], { netns: 'tsbpf-no-such-ns' }))
      .to.throw(NetnsError, /^net attach: network namespace \/run\/netns\/tsbpf-no-such-ns does not exist/);
    expect(() => netDetach('tcx', ['pinned', '/nonexistent/pin', 'dev', 'veth0', 'ingress'], { netns: file })).to.throw(NetnsError, /^net detach: .* is not a namespace file/);
    expect(() => netShow(undefined, { netns: '/proc/self/ns/mnt' })).to.throw(NetnsError, /^net show: network namespace \/proc\/self\/ns\/mnt is a mount namespace/);
    // argument mistakes still come before the namespace
    expect(() => netAttach('tc', ['dev', 'veth0', 'ingress'], { netns: 'tsbpf-no-such-ns' })).to.throw(/^a program is required/);
    expect(openFds()).to.equal(fds);
  });

  it('InterfaceNotFoundError names the namespace it looked in', () => {
    expect(new InterfaceNotFoundError('eth0', { netns: '/run/netns/pod1' })).to.include({ netns: '/run/netns/pod1', interface: 'eth0' })
      .and.have.property('message', 'interface lookup: ENODEV (No such device): no interface "eth0" in network namespace /run/netns/pod1');
    expect(new InterfaceNotFoundError(7).message).to.equal('interface lookup: ENODEV (No such device): no interface with index 7 in this network namespace');
    expect(new InterfaceNotFoundError(7).netns).to.equal(undefined);
  });
});
