// attachIter: BPF iterators run by reading. The TCP socket table of this namespace and of a test
// namespace, the threads of this process, the BPF maps, a cgroup walk; pinned iterators read with
// readFileSync; typed errors; no link or fd left behind.
import { expect } from 'chai';
import { join } from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { createTestNetwork, waitFor, type TestNetwork } from '../helpers/netns.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { loadObject, AttachArgumentError, BpfError, type BpfObject } from '../../lib/index.js';
import { attachIter, IterAttachment } from '../../lib/attach/iter.js';
import { allIds } from '../../lib/syscall/obj.js';

const openFds = () => readdirSync('/proc/self/fd').length;
const TCP_LISTEN = 10;
const TCP_ESTABLISHED = 1;

/** dump_tcp's lines as records */
function tcpLines(text: string) {
  return text.split('\n').filter(Boolean).map((l) => {
    const [local, remote, state, uid] = l.split(' ');
    return { local, remote, state: Number(state), uid: Number(uid) };
  });
}

describe('attachIter', function () {
  this.timeout(30_000);
  let obj: BpfObject;
  let linksBefore: Set<number>;
  before(function () {
    requirePrivileged(this);
    obj = loadObject('bpf/iter_dump.o');
    linksBefore = new Set(allIds('link'));
  });
  after(() => obj?.close());
  afterEach(async () => {
    // every test detaches or closes what it made: no iterator link of ours is left (a link whose last
    // reference went is freed by a kernel work item a moment later: wait for that, bounded)
    const left = await waitFor(() => allIds('link').filter((id) => !linksBefore.has(id)), (l) => l.length === 0);
    expect(left, 'links left by the test').to.deep.equal([]);
  });

  const prog = (name: string) => obj.programs.get(name)!;

  it('iter/tcp lists this namespace\'s listener and both ends of a connection, once per read', async () => {
    const srv = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as net.AddressInfo).port;
    const it = attachIter({ program: prog('dump_tcp') });
    try {
      expect(it).to.be.instanceOf(IterAttachment);
      expect(it.info).to.include({ kind: 'iter', target: 'tcp', programName: 'dump_tcp' });
      expect(it.info.linkId).to.be.greaterThan(0);
      const listen = tcpLines(it.text()).filter((r) => r.local === `127.0.0.1:${port}`);
      expect(listen).to.deep.equal([{ local: `127.0.0.1:${port}`, remote: '0.0.0.0:0', state: TCP_LISTEN, uid: process.getuid!() }]);

      const client = net.connect(port, '127.0.0.1');
      await new Promise((r) => client.once('connect', r));
      try {
        const cport = client.localPort!;
        // each read is a new walk: the connection is there now
        const rows = tcpLines(it.text());
        expect(rows.filter((r) => r.local === `127.0.0.1:${cport}`)).to.deep.equal([{ local: `127.0.0.1:${cport}`, remote: `127.0.0.1:${port}`, state: TCP_ESTABLISHED, uid: 0 }]);
        const accepted = await waitFor(() => tcpLines(it.text()).filter((r) => r.local === `127.0.0.1:${port}` && r.remote === `127.0.0.1:${cport}`), (r) => r.length === 1);
        expect(accepted[0].state).to.equal(TCP_ESTABLISHED);
      } finally {
        client.destroy();
      }
    } finally {
      it.detach();
      srv.close();
    }
  });

  describe('in another network namespace', () => {
    let tn: TestNetwork;
    before(() => { tn = createTestNetwork('iter'); });
    after(() => tn?.cleanup());

    it('read({ netns }) walks the sockets of that namespace, not this one', async () => {
      // a listener inside nsA, alive until its stdin closes
      const py = spawn('ip', ['netns', 'exec', tn.nsA, 'python3', '-c',
        `import socket,sys\ns=socket.socket()\ns.bind(('${tn.addrA}',0))\ns.listen()\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()`],
      { stdio: ['pipe', 'pipe', 'inherit'] });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          py.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
          py.once('exit', (c) => reject(new Error(`listener exited (${c})`)));
        });
        const it = attachIter({ program: prog('dump_tcp') });
        try {
          // the namespace holds nothing else: exactly the listener
          expect(tcpLines(it.text({ netns: tn.nsA }))).to.deep.equal([{ local: `${tn.addrA}:${port}`, remote: '0.0.0.0:0', state: TCP_LISTEN, uid: 0 }]);
          expect(tcpLines(it.text({ netns: tn.nsB }))).to.deep.equal([]);
          expect(tcpLines(it.text()).filter((r) => r.local === `${tn.addrA}:${port}`)).to.deep.equal([]);
          // a namespace that is not there: a typed error, the thread stays home
          expect(() => it.text({ netns: 'tsbpf-no-such-ns' })).to.throw(/tsbpf-no-such-ns/);
          expect(tcpLines(it.text()).some((r) => r.local === `${tn.addrA}:${port}`)).to.equal(false);
        } finally {
          it.detach();
        }
      } finally {
        py.stdin!.end();
        py.kill();
      }
    });
  });

  it('iter/task with { pid } walks exactly this process\'s threads; without it, every task', () => {
    const mine = attachIter({ program: prog('dump_task'), task: { pid: process.pid } });
    const all = attachIter({ program: prog('dump_task') });
    try {
      expect(mine.info.task).to.deep.equal({ pid: process.pid });
      const tids = () => readdirSync('/proc/self/task').map(Number).sort((a, b) => a - b);
      const before = tids();
      const lines = mine.text().split('\n').filter(Boolean);
      const after = tids();
      const rows = lines.map((l) => l.split(' ').map((x, i) => (i < 2 ? Number(x) : x)));
      expect(rows.every(([tgid]) => tgid === process.pid), 'only our threads').to.equal(true);
      const seen = rows.map(([, tid]) => tid as number).sort((a, b) => a - b);
      // our thread list did not change in between (Node's pool is started): the walk saw exactly it
      expect(before).to.deep.equal(after);
      expect(seen).to.deep.equal(before);
      // every task: kernel threads (kthreadd is pid 2 everywhere) and ours
      const everyone = all.text().split('\n');
      expect(everyone).to.include.members([`2 2 ${readFileSync('/proc/2/comm', 'utf8').trim()}`, ...lines]);
    } finally {
      mine.detach();
      all.detach();
    }
  });

  it('iter/bpf_map writes binary records that read() returns as bytes: our map is among them', () => {
    const seen = obj.maps.get('iter_seen')!;
    const it = attachIter({ program: prog('dump_maps') });
    try {
      const b = it.read();
      expect(b.length % 24).to.equal(0);
      const recs = [];
      for (let o = 0; o < b.length; o += 24) recs.push({ id: b.readUInt32LE(o), maxEntries: b.readUInt32LE(o + 4), name: b.subarray(o + 8, o + 24).toString().replace(/\0+$/, '') });
      expect(recs).to.deep.include({ id: seen.info().id, maxEntries: 1234, name: 'iter_seen' });
      // ids come in increasing order, once each (the kernel walks its map idr)
      const ids = recs.map((r) => r.id);
      expect(ids).to.deep.equal([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).to.equal(ids.length);
    } finally {
      it.detach();
    }
  });

  describe('a cgroup walk', () => {
    let cg: TestCgroup;
    before(() => {
      cg = createTestCgroup('iter');
      mkdirSync(join(cg.path, 'child'));
    });
    after(() => {
      try { rmdirSync(join(cg.path, 'child')); } catch { /* not made */ }
      cg?.cleanup();
    });

    it('starts at the given cgroup and goes in the given order', () => {
      const id = (p: string) => statSync(p).ino; // a cgroup's id is its kernfs inode number
      const walk = (order?: 'self_only' | 'descendants_pre' | 'descendants_post' | 'ancestors_up') => {
        const it = attachIter({ program: prog('dump_cgroup'), cgroup: { cgroup: cg.path, order } });
        try {
          return it.text().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
        } finally {
          it.detach();
        }
      };
      const [self, child] = [id(cg.path), id(join(cg.path, 'child'))];
      expect(walk('self_only')).to.deep.equal([self]);
      expect(walk()).to.deep.equal([self, child]); // descendants_pre is the default
      expect(walk('descendants_post')).to.deep.equal([child, self]);
      const up = walk('ancestors_up');
      expect(up[0]).to.equal(self);
      expect(up.at(-1)).to.equal(id(join(cg.path, '..')) === self ? self : up.at(-1));
      expect(up.length).to.be.greaterThan(1);
    });
  });

  describe('pinned', () => {
    let fs: TestBpffs;
    before(() => { fs = createTestBpffs(); });
    after(() => fs?.cleanup());

    it('a pinned iterator is read like a file, outlives close(), and ends with its pin', async () => {
      const it = attachIter({ program: prog('dump_task'), task: { pid: process.pid } });
      const path = join(fs.dir, 'threads');
      const linkId = it.info.linkId;
      try {
        it.pin(path);
      } catch (e) {
        it.detach();
        throw e;
      }
      it.close();
      expect(allIds('link')).to.include(linkId);
      const text = readFileSync(path, 'utf8');
      expect(text.split('\n').filter(Boolean).every((l) => l.startsWith(`${process.pid} `))).to.equal(true);
      expect(text).to.include(`${process.pid} ${process.pid} `);
      unlinkSync(path);
      // the last reference goes with the pin, but the kernel frees the link from a work item: poll
      await waitFor(() => allIds('link').includes(linkId), (there) => !there);
      expect(allIds('link')).to.not.include(linkId);
    });
  });

  it('detach() ends the link; reading afterwards is a typed error', async () => {
    const it = attachIter({ program: prog('dump_task'), task: { pid: process.pid } });
    const linkId = it.info.linkId;
    it.detach();
    expect(await waitFor(() => allIds('link').includes(linkId), (there) => !there)).to.equal(false);
    expect(() => it.read()).to.throw(AttachArgumentError, /detached/);
  });

  it('more output than maxBytes is a typed error, and the iterator fd is closed', () => {
    const it = attachIter({ program: prog('dump_task'), maxBytes: 64 });
    try {
      const fds = openFds();
      expect(() => it.read()).to.throw(BpfError, /EFBIG.*more than 64 bytes/);
      expect(openFds()).to.equal(fds);
    } finally {
      it.detach();
    }
  });

  it('bad input is refused before the kernel is asked', () => {
    const tc = loadObject('bpf/attach_trace.o');
    try {
      const cases: Array<[() => unknown, RegExp]> = [
        [() => attachIter(undefined as never), /options \{ program \} are required/],
        [() => attachIter({ program: tc.programs.values().next().value! }), /of type tracepoint.*takes tracing/],
        [() => attachIter({ program: prog('dump_tcp'), map: obj.maps.get('iter_seen')! }), /a tcp iterator takes no map/],
        [() => attachIter({ program: prog('dump_tcp'), task: { pid: 1 } }), /a tcp iterator takes no task/],
        [() => attachIter({ program: prog('dump_cgroup') }), /starts from a cgroup: give \{ cgroup/],
        [() => attachIter({ program: prog('dump_task'), task: { pid: 0 } }), /task.pid must be a positive/],
        [() => attachIter({ program: prog('dump_task'), task: { pid: 1, tid: 1 } as never }), /task must be \{ pid \} or \{ tid \}/],
        [() => attachIter({ program: prog('dump_task'), task: { pid: 1 }, map: obj.maps.get('iter_seen')! }), /give one of map, task and cgroup, not map and task/],
        [() => attachIter({ program: prog('dump_cgroup'), cgroup: { cgroup: '/tmp', order: 'sideways' as never } }), /cgroup.order must be one of self_only/],
        [() => attachIter({ program: prog('dump_cgroup'), cgroup: { cgroup: '/tmp' } }), /\/tmp.*is not a cgroup/],
        [() => attachIter({ program: prog('dump_task'), maxBytes: 0 }), /maxBytes must be a positive integer/],
      ];
      const fds = openFds();
      for (const [f, re] of cases) expect(f).to.throw(AttachArgumentError, re);
      expect(openFds()).to.equal(fds);
    } finally {
      tc.close();
    }
  });
});
