// `tsbpf iter pin OBJ PATH [map MAP]` as a user runs it: the pinned iterator is read with cat, it is
// the link bpftool lists (the same `link show` line from both tools), removing the pin ends it, and
// mistakes are one Error: line with nothing loaded, attached or pinned.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { allIds } from '../../lib/syscall/obj.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });

describe('tsbpf iter pin', function () {
  this.timeout(60_000);
  let fs: TestBpffs | undefined;
  let links: Set<number>;
  let preloaded: string[] = []; // a fresh bpffs can come with the kernel's maps.debug and progs.debug
  before(function () {
    requirePrivileged(this);
    fs = createTestBpffs();
    preloaded = readdirSync(fs.dir);
  });
  after(() => fs?.cleanup());
  beforeEach(() => { links = new Set(allIds('link')); });
  afterEach(() => {
    for (const f of fs ? readdirSync(fs.dir) : []) if (!preloaded.includes(f)) unlinkSync(join(fs!.dir, f));
  });
  const newLinks = () => allIds('link').filter((id) => !links.has(id));

  it('pins the first program as an iterator that cat runs, listed as bpftool lists it, gone with its pin', async () => {
    const srv = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as net.AddressInfo).port;
    const path = join(fs!.dir, 'tcp');
    try {
      const r = tsbpf('iter', 'pin', 'bpf/iter_dump.o', path);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal('');
      expect(r.status).to.equal(0);
      // the object's first program is dump_tcp: a walk of this namespace's TCP sockets at each read
      const text = execFileSync('cat', [path], { encoding: 'utf8' });
      expect(text.split('\n')).to.include(`127.0.0.1:${port} 0.0.0.0:0 10 0`);
      const [id] = newLinks();
      expect(newLinks()).to.have.length(1);
      const show = tsbpf('link', 'show', 'id', String(id));
      expect(show.stdout).to.equal(execFileSync('bpftool', ['link', 'show', 'id', String(id)], { encoding: 'utf8' }));
      expect(show.stdout).to.match(new RegExp(`^${id}: iter  prog \\d+  target_name tcp  \\n$`));
    } finally {
      srv.close();
    }
    unlinkSync(path);
    // the link goes with its last holder (released by a kernel work item: poll with a deadline)
    const deadline = Date.now() + 5000;
    while (newLinks().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(newLinks()).to.deep.equal([]);
  });

  it('-j prints null, as bpftool', () => {
    const r = tsbpf('-j', 'iter', 'pin', 'bpf/iter_dump.o', join(fs!.dir, 'j'));
    expect(r.stdout).to.equal('null\n');
    expect(r.status).to.equal(0);
    expect(existsSync(join(fs!.dir, 'j'))).to.equal(true);
  });

  it('mistakes are one Error: line; nothing is attached or pinned', () => {
    const taken = join(fs!.dir, 'taken');
    expect(tsbpf('iter', 'pin', 'bpf/iter_dump.o', taken).status).to.equal(0);
    links = new Set(allIds('link'));
    const cases: Array<[string[], string]> = [
      [['iter', 'pin', 'bpf/iter_dump.o'], 'Error: usage: tsbpf iter pin OBJ PATH [map MAP]  (MAP: id N | pinned PATH | name NAME)\n'],
      [['iter', 'pin', 'bpf/iter_dump.o', taken], `Error: can't pin the object (${taken}): File exists\n`],
      [['iter', 'pin', 'bpf/iter_dump.o', '/tmp/tsbpf-no-such-dir/x'], "Error: can't pin the object (/tmp/tsbpf-no-such-dir/x): directory /tmp/tsbpf-no-such-dir does not exist\n"],
      [['iter', 'pin', 'bpf/attach_trace.o', join(fs!.dir, 'x')], 'Error: attach_iter failed for program tp_getppid: attachIter: program tp_getppid is of type tracepoint; an iterator takes tracing\n'],
      [['iter', 'pin', 'bpf/iter_dump.o', join(fs!.dir, 'x'), 'map', 'pinned', taken], `Error: incorrect object type: link (${taken} is a pinned link, not a map)\n`],
      [['iter', 'pin', 'bpf/iter_dump.o', join(fs!.dir, 'x'), 'map'], "Error: expected a map after 'map' (id N | pinned PATH | name NAME)\n"],
      [['iter', 'pin', 'bpf/iter_dump.o', join(fs!.dir, 'x'), 'maps', 'id', '1'], "Error: expected 'map', got: 'maps'?\n"],
    ];
    for (const [args, err] of cases) {
      const r = tsbpf(...args);
      expect(r.stderr, args.join(' ')).to.equal(err);
      expect(r.status, args.join(' ')).to.equal(1);
    }
    expect(newLinks()).to.deep.equal([]);
    expect(readdirSync(fs!.dir).filter((f) => !preloaded.includes(f))).to.deep.equal(['taken']);
  });
});
