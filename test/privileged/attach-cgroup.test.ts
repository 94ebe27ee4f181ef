// attachCgroup on a throwaway cgroup v2 directory: cgroup_skb drops and counts what the cgroup's
// processes send, connect4 rewrites a destination port, sockops sees both ends of a connection, sysctl
// refuses reads; links and PROG_ATTACH both detach; bad cgroups and programs are typed errors.
import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { counter } from '../helpers/attach-fixtures.js';
import { loadObject, attachCgroup, queryCgroup, CgroupError, AttachArgumentError, LinkAttachment, ProgAttachment, type BpfObject } from '../../lib/index.js';

const K = { egress: 0, egressDrop: 1, ingress: 2, connect: 3, active: 4, passive: 5, sysctl: 6, sockCreate: 7, setsockopt: 8, device: 9 };

// sends 5 datagrams to `drop` and 3 to `pass` (both bound by the script on 127.0.0.1), then reports
// the sends the kernel refused and what arrived on each port
const udpScript = (drop: number, pass: number) => `
import socket, errno
rx = {}
for p in (${drop}, ${pass}):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(('127.0.0.1', p)); r.settimeout(0.05); rx[p] = r
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
refused = 0
for p, n in ((${drop}, 5), (${pass}, 3)):
    for i in range(n):
        try: s.sendto(b'x' * 8, ('127.0.0.1', p))
        except OSError as e: refused += 1
got = {}
for p, r in rx.items():
    got[p] = 0
    while True:
        try: r.recv(64); got[p] += 1
        except socket.timeout: break
print(refused, got[${drop}], got[${pass}])
`;

describe('attachCgroup', function () {
  this.timeout(60_000);
  let cg: TestCgroup | undefined;
  let obj: BpfObject | undefined;
  const port = () => 20000 + randomInt(20000);
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    obj?.close();
    obj = undefined;
    cg?.cleanup();
    cg = undefined;
  });

  const load = (constants: Record<string, number> = {}) => (obj = loadObject('bpf/attach_cgroup.o', { constants }));
  const count = (k: number) => counter(obj!.maps.get('counts'), k);

  it('cgroup_skb/egress through a link: drops and counts what the cgroup sends; detach ends it', () => {
    cg = createTestCgroup('skb');
    const [drop, pass] = [port(), port()];
    load({ drop_port: drop });
    const fds = readdirSync('/proc/self/fd').length;
    const a = attachCgroup({ program: obj!.programs.get('cg_egress')!, cgroup: cg.path });
    expect(a).to.be.instanceOf(LinkAttachment);
    expect(a.info).to.include({ kind: 'cgroup', mode: 'link', cgroup: cg.path, attachTypeName: 'cgroup_inet_egress', programName: 'cg_egress' });
    expect(queryCgroup(cg.path, 'egress').progIds).to.deep.equal([a.info.programId]);
    const out = cg.python(udpScript(drop, pass)).trim();
    // every datagram to the dropped port refused at sendto (EPERM), none arrived; the others all did
    expect(out).to.equal('5 0 3');
    expect(count(K.egress)).to.equal(8n);
    expect(count(K.egressDrop)).to.equal(5n);
    a.detach();
    expect(a.detached).to.equal(true);
    expect(readdirSync('/proc/self/fd').length).to.equal(fds); // link and cgroup fds closed
    expect(queryCgroup(cg.path, 'egress').progIds).to.deep.equal([]);
    expect(cg.python(udpScript(drop, pass)).trim()).to.equal('0 5 3');
    expect(count(K.egress)).to.equal(8n);
  });

  it("mode 'attach' uses PROG_ATTACH with BPF_F_ALLOW_MULTI; Symbol.dispose detaches", () => {
    cg = createTestCgroup('multi');
    const [drop, pass] = [port(), port()];
    load({ drop_port: drop });
    const fds = readdirSync('/proc/self/fd').length;
    const copy = loadObject('bpf/attach_cgroup.o');
    const prog = obj!.programs.get('cg_ingress')!;
    const x = attachCgroup({ program: prog, cgroup: cg.path, mode: 'attach' });
    // ALLOW_MULTI: a second program (here a link, from a second copy of the object) joins the first
    const y = attachCgroup({ program: copy.programs.get('cg_ingress')!, cgroup: cg.path });
    try {
      expect(x).to.be.instanceOf(ProgAttachment);
      expect(x.info).to.include({ mode: 'attach', attachTypeName: 'cgroup_inet_ingress' });
      expect(y.info).to.include({ mode: 'link', attachTypeName: 'cgroup_inet_ingress' });
      const q = queryCgroup(cg.path, 'ingress');
      expect(q.progIds).to.have.members([prog.id, copy.programs.get('cg_ingress')!.id]);
      expect(q.attachFlags).to.equal(2); // BPF_F_ALLOW_MULTI
      expect(cg.python(udpScript(drop, pass)).trim()).to.equal('0 5 3');
      expect(count(K.ingress)).to.equal(8n);
      expect(counter(copy.maps.get('counts'), K.ingress)).to.equal(8n);
    } finally {
      x[Symbol.dispose]();
      y[Symbol.dispose]();
      copy.close();
    }
    expect(readdirSync('/proc/self/fd').length).to.equal(fds); // PROG_ATTACH's duplicated fds too
    expect(queryCgroup(cg.path, 'ingress').progIds).to.deep.equal([]);
  });

  it('connect4 rewrites the destination port, sockops sees both ends, sysctl refuses reads', () => {
    cg = createTestCgroup('sock');
    const [from, to] = [port(), port()];
    load({ from_port: from, to_port: to });
    const script = `
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1', ${to})); l.listen(1)
c = socket.socket()
try:
    c.connect(('127.0.0.1', ${from})); s, _ = l.accept(); c.send(b'hi'); print('connected', c.getpeername()[1], s.recv(2).decode())
except OSError as e: print('refused', e.errno)
`;
    expect(cg.python(script).trim()).to.match(/^refused \d+$/);
    const fd = openDir(cg.path);
    const links = [
      attachCgroup({ program: obj!.programs.get('cg_connect4')!, cgroup: fd }), // an fd works as well as a path
      attachCgroup({ program: obj!.programs.get('cg_sockops')!, cgroup: cg.path }),
      attachCgroup({ program: obj!.programs.get('cg_sysctl')!, cgroup: cg.path, mode: 'attach' }),
    ];
    try {
      expect(links[0].info.cgroup).to.equal(cg.path);
      expect(links.map((l) => l.info.attachTypeName)).to.deep.equal(['cgroup_inet4_connect', 'cgroup_sock_ops', 'cgroup_sysctl']);
      expect(cg.python(script).trim()).to.equal(`connected ${to} hi`);
      expect(count(K.connect)).to.equal(1n);
      expect(count(K.active)).to.equal(1n);
      expect(count(K.passive)).to.equal(1n);
      expect(cg.run(['cat', '/proc/sys/kernel/ostype'])).to.match(/^ERR .*Operation not permitted/);
      expect(count(K.sysctl) > 0n).to.equal(true);
    } finally {
      for (const l of links) l.detach();
      closeFd(fd);
    }
    expect(cg.run(['cat', '/proc/sys/kernel/ostype']).trim()).to.equal('Linux');
    expect(cg.python(script).trim()).to.match(/^refused \d+$/);
    expect(queryCgroup(cg.path, 'connect4').progIds).to.deep.equal([]);
    expect(queryCgroup(cg.path, 'sysctl').progIds).to.deep.equal([]);
  });

  it('sock_create refuses UDP sockets, setsockopt refuses SO_PRIORITY, dev refuses /dev/null', () => {
    cg = createTestCgroup('hooks');
    load();
    const script = `
import socket
def attempt(f):
    try: f(); return 'ok'
    except OSError as e: return 'errno%d' % e.errno
t = socket.socket()
print(attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)), attempt(lambda: t.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, 3)),
      attempt(lambda: t.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)), attempt(lambda: open('/dev/null').close()), attempt(lambda: open('/dev/zero').close()))
`;
    expect(cg.python(script).trim()).to.equal('ok ok ok ok ok');
    const hooks = ['cg_sock_create', 'cg_setsockopt', 'cg_dev'].map((p) => attachCgroup({ program: obj!.programs.get(p)!, cgroup: cg!.path }));
    try {
      expect(hooks.map((h) => h.info.attachTypeName)).to.deep.equal(['cgroup_inet_sock_create', 'cgroup_setsockopt', 'cgroup_device']);
      expect(cg.python(script).trim()).to.equal('errno1 errno1 ok errno1 ok'); // EPERM where refused
      expect([count(K.sockCreate), count(K.setsockopt)]).to.deep.equal([1n, 1n]);
      expect(count(K.device) >= 1n).to.equal(true); // python's own start-up may look at /dev/null too
    } finally {
      for (const h of hooks) h.detach();
    }
    expect(cg.python(script).trim()).to.equal('ok ok ok ok ok');
  });

  it('bad cgroups, hooks and programs are typed errors naming what failed; nothing is left attached', () => {
    const bad = cg = createTestCgroup('bad');
    load();
    const egress = obj!.programs.get('cg_egress')!;
    const missing = join(bad.path, 'no-such-child');
    expect(() => attachCgroup({ program: egress, cgroup: missing })).to.throw(CgroupError, `cgroup ${missing}: does not exist`);
    const plain = mkdtempSync(join(tmpdir(), 'tsbpf-notcg-'));
    try {
      expect(() => attachCgroup({ program: egress, cgroup: plain })).to.throw(CgroupError, /is not a cgroup/);
    } finally {
      rmdirSync(plain);
    }
    expect(() => attachCgroup({ program: egress, cgroup: '/proc/self/status' })).to.throw(CgroupError, /is not a directory/);
    // a cgroup v1 hierarchy (hybrid machines have them beside the v2 one)
    const v1 = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup')?.[1];
    if (v1) expect(() => attachCgroup({ program: egress, cgroup: v1 })).to.throw(CgroupError, /is a cgroup v1 hierarchy; BPF programs attach to cgroup v2 \(cgroup v2 is mounted at /);
    // a sockops program on a connect4 hook, a connect4 program on bind4
    expect(() => attachCgroup({ program: obj!.programs.get('cg_sockops')!, cgroup: bad.path, attachType: 'connect4' }))
      .to.throw(AttachArgumentError, /cg_sockops is of type sock_ops; the cgroup_inet4_connect hook takes cgroup_sock_addr/);
    expect(() => attachCgroup({ program: obj!.programs.get('cg_connect4')!, cgroup: bad.path, attachType: 'bind4' }))
      .to.throw(AttachArgumentError, /loaded for cgroup_inet4_connect, not cgroup_inet4_bind/);
    expect(() => attachCgroup({ program: egress, cgroup: bad.path, attachType: 'xdp' })).to.throw(AttachArgumentError, /xdp is not a cgroup hook/);
    expect(() => attachCgroup({ program: egress, cgroup: bad.path, attachType: 'nonsense' })).to.throw(AttachArgumentError, /unknown attach type nonsense/);
    // an exclusive PROG_ATTACH refuses a second program: the kernel's EPERM, explained
    const copy = loadObject('bpf/attach_cgroup.o');
    // programs at one cgroup hook share one PROG_ATTACH mode: an exclusive one after a multi one is EPERM
    const one = attachCgroup({ program: egress, cgroup: bad.path, mode: 'attach' });
    try {
      expect(() => attachCgroup({ program: copy.programs.get('cg_egress')!, cgroup: bad.path, mode: 'attach', attachFlags: 'exclusive' }))
        .to.throw(new RegExp(`PROG_ATTACH: EPERM .*: cgroup ${bad.path}, cgroup_inet_egress, program cg_egress \\(id ${copy.programs.get('cg_egress')!.id}\\); attachFlags 'exclusive'`));
      expect(queryCgroup(bad.path, 'egress').progIds).to.deep.equal([egress.id]);
      // the same program twice in a multi hook: the kernel's EINVAL, said as such
      expect(() => attachCgroup({ program: egress, cgroup: bad.path, mode: 'attach' }))
        .to.throw(/PROG_ATTACH: EINVAL .*; the program is attached at this hook already, or was loaded for another hook/);
      expect(() => attachCgroup({ program: egress, cgroup: bad.path, attachFlags: 'constructor' as never }))
        .to.throw(AttachArgumentError, /attachFlags must be 'multi', 'override' or 'exclusive', got constructor/);
    } finally {
      one.detach();
    }
    // an exclusive (or override) hook holds one program and PROG_DETACH removes whichever it is: a
    // handle whose program another replaced leaves the replacement alone
    try {
      const a = attachCgroup({ program: egress, cgroup: bad.path, mode: 'attach', attachFlags: 'exclusive' });
      const b = attachCgroup({ program: copy.programs.get('cg_egress')!, cgroup: bad.path, mode: 'attach', attachFlags: 'exclusive' });
      expect(queryCgroup(bad.path, 'egress').progIds).to.deep.equal([copy.programs.get('cg_egress')!.id]);
      // a link joins a multi list: refused beside an exclusive program, with the reason
      expect(() => attachCgroup({ program: egress, cgroup: bad.path, mode: 'link' }))
        .to.throw(/LINK_CREATE: EPERM .*; an exclusive or override program at this hook \(or an ancestor's\) forbids more/);
      a.detach();
      expect(a.detached).to.equal(true);
      expect(queryCgroup(bad.path, 'egress').progIds).to.deep.equal([copy.programs.get('cg_egress')!.id]);
      b.detach();
    } finally {
      copy.close();
    }
    for (const t of ['egress', 'ingress', 'connect4', 'bind4', 'sock_ops']) expect(queryCgroup(bad.path, t).progIds, t).to.deep.equal([]);
  });
});

function openDir(p: string): number {
  return openSync(p, constants.O_RDONLY | constants.O_DIRECTORY);
}
function closeFd(fd: number): void {
  closeSync(fd);
}
