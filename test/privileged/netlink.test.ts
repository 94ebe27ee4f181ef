// The rtnetlink client itself against the kernel (socket bound to its namespace, multipart dumps),
// and `tsbpf net show|attach|detach` agreeing with bpftool, tc and ip.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, inNsExec, ipLink, tcFilters, type AttachFixture } from '../helpers/attach-fixtures.js';
import { NetlinkSocket, listInterfaces, interfaceIndex, interfaceName, InterfaceNotFoundError, InvalidInterfaceError, listFilters, ensureClsact, getInterface } from '../../lib/index.js';
import { attachFilter } from '../../lib/netlink/index.js';
import { attachXdp, attachTc } from '../../lib/attach/index.js';
import { netAttach, netDetach } from '../../lib/cli/net.js';
import { CliError } from '../../lib/cli/bpf-objects.js';
import { progQuery, BPF_ATTACH_TYPE } from '../../lib/syscall/index.js';

describe('lib/netlink against the kernel', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this); });
  beforeEach(() => { fx = createAttachFixture('nl'); });
  afterEach(() => fx?.cleanup());

  it('a socket stays in the namespace it was opened in; names and indexes resolve both ways', () => {
    const { net } = fx;
    const sock = net.inNs('A', () => NetlinkSocket.open());
    try {
      // this thread is back in its own namespace, the socket still speaks for nsA
      const names = listInterfaces(sock).map((l) => l.name);
      expect(names).to.deep.equal(['lo', net.vethA]);
      const idx = interfaceIndex(net.vethA, sock);
      expect(idx).to.equal(ipLink(net.nsA, net.vethA).ifindex);
      expect(interfaceName(idx, sock)).to.equal(net.vethA);
      expect(() => interfaceIndex('tsbpf-none0', sock)).to.throw(InterfaceNotFoundError);
      expect(() => interfaceName(99999, sock)).to.throw(InterfaceNotFoundError);
    } finally {
      sock.close();
    }
  });

  it('finds an interface by an alternative name, also one longer than IFNAMSIZ (as `ip link show dev` does)', () => {
    const { net } = fx;
    const long = `${net.vethA}-alternative-name-é`; // 34 bytes: only IFLA_ALT_IFNAME can carry it
    const short = `alt${net.vethA}`.slice(0, 15);
    for (const alt of [long, short]) expect(inNsExec(net.nsA, 'ip', 'link', 'property', 'add', 'dev', net.vethA, 'altname', alt)).to.not.match(/^ERR/);
    const idx = ipLink(net.nsA, net.vethA).ifindex;
    net.inNs('A', () => {
      for (const alt of [long, short]) expect(getInterface(alt)).to.include({ index: idx, name: net.vethA });
      // a long name nobody has is not found (it was refused as no name at all), a name past 127 bytes is no name
      expect(() => getInterface(`${long}-none`)).to.throw(InterfaceNotFoundError);
      expect(() => getInterface('n'.repeat(128))).to.throw(InvalidInterfaceError, /128 bytes/);
    });
    const tc = net.inNs('A', () => attachTc({ program: fx.tc.programs.get('tc_ingress')!, interface: long, direction: 'ingress' }));
    const xdp = net.inNs('A', () => attachXdp({ program: fx.xdp.programs.get('packet_counter')!, interface: long, mode: 'skb' }));
    try {
      expect(tc.info).to.include({ interface: net.vethA, ifindex: idx });
      expect(xdp.info).to.include({ interface: net.vethA, ifindex: idx });
      expect(tcFilters(net.nsA, net.vethA, 'ingress')[0]).to.contain(`id ${fx.tc.programs.get('tc_ingress')!.id} `);
      // ip finds the interface by the same long name (tc 6.1 cuts a name at 15 bytes and cannot)
      expect(ipLink(net.nsA, long).xdp?.prog?.id).to.equal(fx.xdp.programs.get('packet_counter')!.id);
    } finally {
      tc.detach();
      xdp.detach();
    }
    expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal([]);
    expect(ipLink(net.nsA, net.vethA).xdp).to.equal(undefined);
  });

  it('reads a dump spread over many datagrams to NLMSG_DONE (300 filters, as tc lists them)', () => {
    const { net } = fx;
    const prog = fx.tc.programs.get('tc_ingress')!;
    net.inNs('A', () => {
      const s = NetlinkSocket.open();
      try {
        const idx = interfaceIndex(net.vethA, s);
        ensureClsact(idx, s);
        for (let p = 1; p <= 300; p++) attachFilter({ ifindex: idx, direction: 'ingress', progFd: prog.fd.value, name: `f${p}`, priority: p, handle: 1 }, s);
        const filters = listFilters(idx, 'ingress', s);
        expect(filters.map((f) => f.priority)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i + 1));
        expect(filters.every((f) => f.progId === prog.id && f.name === `f${f.priority}`)).to.equal(true);
      } finally {
        s.close();
      }
    });
    expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.have.length(300);
    // a receive buffer far too small for one datagram grows to fit (sized by MSG_PEEK|MSG_TRUNC)
    const small = net.inNs('A', () => NetlinkSocket.open({ receiveBufferSize: 64 }));
    try {
      expect(listFilters(interfaceIndex(net.vethA, small), 'ingress', small)).to.have.length(300);
      expect(small.receiveBufferSize).to.be.greaterThan(4096);
    } finally {
      small.close();
    }
  });

  it('`tsbpf net detach xdp … mode M` is an error when nothing is attached in that mode (and says what is)', () => {
    const { net } = fx;
    const dev = net.vethA;
    const id = fx.xdp.programs.get('packet_counter')!.id;
    const a = net.inNs('A', () => attachXdp({ program: fx.xdp.programs.get('packet_counter')!, interface: dev, mode: 'skb' }));
    try {
      // the kernel answers 0 to a detach in a mode without a program (ip and bpftool exit 0): the
      // generic program would keep running under a "detached" message
      expect(() => net.inNs('A', () => netDetach('xdp', ['dev', dev, 'mode', 'drv'])))
        .to.throw(CliError, `nothing attached to ${dev} xdp in driver mode (attached: generic id ${id})`);
      expect(ipLink(net.nsA, dev).xdp?.prog?.id).to.equal(id);
      expect(net.inNs('A', () => netDetach('xdp', ['dev', dev, 'mode', 'skb']))).to.equal(`detached xdp (generic) from ${dev}\n`);
      expect(ipLink(net.nsA, dev).xdp).to.equal(undefined);
      expect(() => net.inNs('A', () => netDetach('xdp', ['dev', dev, 'mode', 'skb']))).to.throw(CliError, `nothing attached to ${dev} xdp in generic mode`);
      // without a mode, nothing attached is not an error (as ip and bpftool)
      expect(net.inNs('A', () => netDetach('xdp', ['dev', dev]))).to.equal(`nothing attached to ${dev} xdp\n`);
    } finally {
      a.close();
    }
  });

  it('`tsbpf net attach|detach tcx` refusals name the hook, the interface and the program', () => {
    const { net } = fx;
    const dev = net.vethA;
    const pin = join(fx.bpffs.dir, 'tcx_cli');
    const p = fx.tc.programs.get('tc_ingress')!;
    p.pin(pin);
    const idx = net.inNs('A', () => interfaceIndex(dev));
    expect(net.inNs('A', () => netAttach('tcx', ['pinned', pin, 'dev', dev, 'ingress']))).to.contain(`tcx/ingress`);
    try {
      expect(() => net.inNs('A', () => netAttach('tcx', ['pinned', pin, 'dev', dev, 'ingress'])))
        .to.throw(`PROG_ATTACH: EEXIST (File exists): tcx ingress on ${dev} (ifindex ${idx}), program tc_ingress (id ${p.id}); the program is already attached there`);
      expect(() => net.inNs('A', () => netDetach('tcx', ['pinned', pin, 'dev', dev, 'egress'])))
        .to.throw(`PROG_DETACH: ENOENT (No such file or directory): tcx egress on ${dev} (ifindex ${idx}), program tc_ingress (id ${p.id}); the program is not attached there`);
    } finally {
      net.inNs('A', () => netDetach('tcx', ['pinned', pin, 'dev', dev, 'ingress']));
    }
  });

  it('`tsbpf net attach/show/detach` agree with bpftool, tc and ip', () => {
    const { net, bpffs } = fx;
    const pins = { ing: join(bpffs.dir, 'ing'), eg: join(bpffs.dir, 'eg'), xdp: join(bpffs.dir, 'xdp') };
    fx.tc.programs.get('tc_ingress')!.pin(pins.ing);
    fx.tc.programs.get('tc_egress')!.pin(pins.eg);
    fx.xdp.programs.get('packet_counter')!.pin(pins.xdp);
    const cli = (...args: string[]) => execFileSync('ip', ['netns', 'exec', net.nsA, process.execPath, '--import', 'tsx', 'lib/cli/main.ts', 'net', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const dev = net.vethA;
    expect(cli('attach', 'xdp', 'pinned', pins.xdp, 'dev', dev, 'mode', 'skb')).to.contain('xdp generic');
    expect(cli('attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress')).to.match(/clsact\/ingress prio \d+ handle 0x1/);
    expect(cli('attach', 'tc', 'pinned', pins.eg, 'dev', dev, 'egress', 'prio', '5', 'handle', '3')).to.contain('prio 5 handle 0x3');
    expect(cli('attach', 'tcx', 'pinned', pins.eg, 'dev', dev, 'egress')).to.contain('tcx/egress');
    const ids = { ing: fx.tc.programs.get('tc_ingress')!.id, eg: fx.tc.programs.get('tc_egress')!.id, xdp: fx.xdp.programs.get('packet_counter')!.id };
    const show = JSON.parse(cli('show', 'dev', dev, '-j'))[0];
    const bpftool = JSON.parse(inNsExec(net.nsA, 'bpftool', '-j', 'net', 'show', 'dev', dev))[0];
    expect(show.xdp).to.deep.equal(bpftool.xdp);
    expect(show.flow_dissector).to.deep.equal(bpftool.flow_dissector); // bpftool's section, empty in a fresh namespace
    expect(show.tc.map((t: { devname: string; ifindex: number; kind: string; name: string; id: number }) => ({ devname: t.devname, ifindex: t.ifindex, kind: t.kind, name: t.name, id: t.id })))
      .to.deep.equal(bpftool.tc);
    expect(show.xdp[0]).to.include({ mode: 'generic', id: ids.xdp });
    expect(show.tcx).to.deep.equal([{ devname: dev, ifindex: show.xdp[0].ifindex, kind: 'tcx/egress', name: 'tc_egress', prog_id: ids.eg }]);
    expect(tcFilters(net.nsA, dev, 'egress')[0]).to.contain('pref 5 bpf').and.contain('handle 0x3 tc_egress');
    // -p: the same value as -j in bpftool's pretty layout; attach/detach under -j/-p print bpftool's null
    const pretty = cli('-p', 'show', 'dev', dev);
    expect(pretty.startsWith('[{\n        "xdp": [{\n'), pretty).to.equal(true);
    expect(JSON.parse(pretty)[0]).to.deep.equal(show);
    expect(cli('attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress', 'prio', '7', '-j')).to.equal('null\n');
    expect(tcFilters(net.nsA, dev, 'ingress').some((f) => f.includes('pref 7 bpf'))).to.equal(true);
    expect(cli('detach', 'tc', 'dev', dev, 'ingress', 'prio', '7', 'handle', '1', '-p')).to.equal('null\n');
    expect(tcFilters(net.nsA, dev, 'ingress').some((f) => f.includes('pref 7 bpf'))).to.equal(false);

    // a mistake is one `Error:` line and exit status 1
    let failed: { status?: number; stderr?: string } = {};
    try { cli('detach', 'xdp', 'dev', dev, 'mode'); } catch (e) { failed = e as typeof failed; }
    expect(failed).to.include({ status: 1, stderr: 'Error: mode needs a value\n' });
    cli('detach', 'tc', 'dev', dev, 'egress', 'prio', '5', 'handle', '3');
    cli('detach', 'tc', 'dev', dev, 'ingress');
    cli('detach', 'xdp', 'dev', dev);
    cli('detach', 'tcx', 'pinned', pins.eg, 'dev', dev, 'egress');
    expect(tcFilters(net.nsA, dev, 'ingress')).to.deep.equal([]);
    expect(tcFilters(net.nsA, dev, 'egress')).to.deep.equal([]);
    expect(ipLink(net.nsA, dev).xdp).to.equal(undefined);
    expect(net.inNs('A', () => progQuery({ targetIfindex: interfaceIndex(dev), attachType: BPF_ATTACH_TYPE.TCX_EGRESS })).progIds).to.deep.equal([]);
    expect(() => cli('attach', 'tc', 'pinned', pins.xdp, 'dev', dev, 'ingress')).to.throw(/type xdp/);
    // numbers as bpftool reads them (0x…, 0…); an empty or out-of-range one, or a map's pin, is an error
    expect(cli('attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress', 'prio', '0x6', 'handle', '010')).to.contain('prio 6 handle 0x8');
    cli('detach', 'tc', 'dev', dev, 'ingress', 'prio', '6', 'handle', '8');
    const mapPin = join(bpffs.dir, 'a-map');
    fx.tc.maps.get('counter')!.pin(mapPin);
    for (const [args, msg] of [
      [['attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress', 'prio', ''], /prio needs a number up to 65535, got ""/],
      [['attach', 'tc', 'pinned', pins.ing, 'dev', dev, 'ingress', 'prio', '65536'], /prio needs a number up to 65535/],
      [['attach', 'tc', 'pinned', mapPin, 'dev', dev, 'ingress'], /a-map is a bpf map, not a prog/],
    ] as const) expect(() => cli(...args), args.join(' ')).to.throw(msg);
    expect(tcFilters(net.nsA, dev, 'ingress')).to.deep.equal([]);
  });
});
