// fdFromProcess: another process's file descriptor duplicated into this one (pidfd_getfd), as the
// sk_lookup test and the port-range example take a server's sockets; typed errors for a process or
// fd that is not there and for bad arguments, and no pidfd left open.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { requirePrivileged } from '../helpers/privileged.js';
import { fdFromProcess, BpfError, BpfArgumentError } from '../../lib/index.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('fdFromProcess (pidfd_getfd)', function () {
  this.timeout(20_000);
  before(function () { requirePrivileged(this); });

  it('duplicates a socket of another process: the same open file, owned and closed here', async () => {
    // a child with a UDP socket, alive until its stdin closes
    const child = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(("127.0.0.1",0))\nprint(s.fileno(),flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const fd = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
        child.once('exit', (c) => reject(new Error(`child exited (${c})`)));
      });
      const before = openFds();
      const theirs = readlinkSync(`/proc/${child.pid}/fd/${fd}`);
      expect(theirs).to.match(/^socket:\[\d+\]$/);
      const ours = fdFromProcess(child.pid!, fd);
      expect(readlinkSync(`/proc/self/fd/${ours.value}`)).to.equal(theirs);
      expect(openFds()).to.equal(before + 1); // the pidfd was closed
      ours.close();
      expect(openFds()).to.equal(before);
      expect(readlinkSync(`/proc/${child.pid}/fd/${fd}`)).to.equal(theirs); // theirs stays open
      // a number the process does not have: EBADF, said plainly
      expect(() => fdFromProcess(child.pid!, 999)).to.throw(BpfError, `pidfd_getfd: EBADF (Bad file descriptor): process ${child.pid} has no fd 999`);
      expect(openFds()).to.equal(before);
    } finally {
      child.stdin!.end();
      child.kill();
    }
  });

  it('a process that is not there is ESRCH; bad arguments are refused before any system call', () => {
    const fds = openFds();
    const gone = 0x3ffffff0; // above any pid_max this machine allows
    expect(() => fdFromProcess(gone, 0)).to.throw(BpfError, `pidfd_open: ESRCH (No such process): no process ${gone}`);
    for (const [pid, fd, re] of [[0, 1, /pid must be a positive process id, got 0/], [1.5, 1, /pid must be/], [1, -1, /fd must be a non-negative file descriptor number, got -1/], [1, Number.NaN, /fd must be/]] as const) {
      expect(() => fdFromProcess(pid, fd)).to.throw(BpfArgumentError, re);
    }
    expect(openFds()).to.equal(fds);
  });
});
