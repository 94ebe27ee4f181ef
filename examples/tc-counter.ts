// tc-counter, the seed scenario: one loadObject of bpf/tc_counter.o (SEC("tc/ingress") and
// SEC("tc/egress") sharing one `counter` array map, pinned by name at /sys/fs/bpf/ebpf-plugin/counter),
// clsact on the interface with an ingress and an egress cls_bpf filter (tsbpf's own netlink), and
// the two counters printed every second. On exit (--seconds, SIGINT, SIGTERM) the filters go, and
// the clsact qdisc if this program added it; the pin goes unless --keep-pin; a bpffs this program
// mounted at /sys/fs/bpf is unmounted again (kept with --keep-pin, or the pin would vanish with it).
//
// Without --interface it builds a throwaway veth pair between two network namespaces, runs in one,
// sends traffic both ways for a few seconds (--seconds N) and removes all of it: `make demo`.
//   node --import tsx examples/tc-counter.ts [--interface IF] [--seconds N] [--keep-pin]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { attachTc, getInterface, listQdiscs, loadObject } from '../lib/index.js';
import { statfsType, BPF_FS_MAGIC } from '../lib/syscall/obj.js';
import { objectPath, runExample } from './lib/run.js';
import { demoTraffic, startUdpServer } from './lib/traffic.js';

const BPFFS = '/sys/fs/bpf';
const PIN_DIR = `${BPFFS}/ebpf-plugin`;
const PIN = `${PIN_DIR}/counter`;
const DEMO_SECONDS = 5;

interface Options {
  keepPin?: boolean;
}

function isBpffs(path: string): boolean {
  try {
    return statfsType(path) === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

function count(map: { lookupBytes(key: number): Uint8Array | undefined }, key: number): bigint {
  const b = map.lookupBytes(key);
  return b ? new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true) : 0n;
}

// the demo (no --interface) runs a few seconds unless --seconds says otherwise; on a real
// interface the program runs until stopped
const argv = process.argv.slice();
const given = (...names: string[]) => argv.some((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));
if (!given('-i', '--interface', '-s', '--seconds', '-h', '--help')) argv.push('--seconds', String(DEMO_SECONDS));

await runExample<Options>({
  name: 'tc-counter',
  description: 'count packets on an interface, ingress and egress, with two TC programs sharing one pinned map',
  secondsDefault: `${DEMO_SECONDS} on the demo network, until Ctrl-C with --interface`,
  options(cmd) {
    cmd.option('--keep-pin', `leave the counter map pinned at ${PIN} on exit`);
  },
  async main(ctx) {
    const keepPin = ctx.opts.keepPin ?? false;
    getInterface(ctx.iface); // an unknown --interface fails before anything is mounted or loaded

    if (!isBpffs(BPFFS)) {
      mkdirSync(BPFFS, { recursive: true });
      execFileSync('mount', ['-t', 'bpf', 'bpf', BPFFS], { stdio: 'pipe' });
      console.log(`mounted bpffs at ${BPFFS}`);
      ctx.defer(() => {
        if (keepPin) {
          console.log(`bpffs at ${BPFFS} stays mounted (--keep-pin)`);
          return;
        }
        execFileSync('umount', [BPFFS], { stdio: 'pipe' });
        console.log(`unmounted bpffs at ${BPFFS}`);
      });
    }
    const hadPinDir = existsSync(PIN_DIR);
    const reused = existsSync(PIN);

    const obj = loadObject(objectPath('tc_counter.o'), { pinPath: PIN_DIR });
    ctx.defer(() => {
      obj.close();
      if (keepPin) {
        console.log(`counter map stays pinned at ${PIN} (bpftool map dump pinned ${PIN})`);
        return;
      }
      rmSync(PIN, { force: true });
      if (!hadPinDir && existsSync(PIN_DIR) && readdirSync(PIN_DIR).length === 0) rmdirSync(PIN_DIR);
      console.log(`removed pin ${PIN}`);
    });
    console.log(`loaded tc_counter.o; counter map ${reused ? 'reused from' : 'pinned at'} ${PIN}`);
    const map = obj.map<number, bigint>('counter');

    for (const direction of ['ingress', 'egress'] as const) {
      const a = attachTc({ program: obj.program(`tc_${direction}`), interface: ctx.iface, direction });
      ctx.defer(() => {
        a.detach();
        const left = listQdiscs(a.info.ifindex).some((q) => q.kind === 'clsact');
        console.log(`detached tc_${direction} from ${a.info.interface}${a.info.createdQdisc && !left ? '; clsact removed' : ''}`);
      });
      const i = a.info;
      console.log(`attached tc_${direction} to ${i.interface} ${direction} (pref ${i.priority} handle 0x${i.handle.toString(16)}, prog id ${i.programId})${i.createdQdisc ? ', clsact added' : ''}`);
    }

    // demo traffic, different in each direction so the two counters climb independently:
    // 5 datagrams/s + 1 ping into the interface, 2 datagrams/s out of it (plus the ping replies)
    // (with a receiver on each side, so no ICMP port-unreachable mirrors one direction into the other)
    if (ctx.demo) {
      const servers = [startUdpServer(ctx.demo.nsA, ctx.demo.addrA, 7000), startUdpServer(ctx.demo.nsB, ctx.demo.addrB, 7001)];
      ctx.defer(() => { for (const s of servers) s.stop(); });
      await Promise.all(servers.map((s) => s.ready));
    }
    const traffic = ctx.demo && [
      demoTraffic({ ns: ctx.demo.nsB, dst: ctx.demo.addrA, udp: 5, pings: 1, every: ctx.every }),
      demoTraffic({ ns: ctx.demo.nsA, dst: ctx.demo.addrB, udp: 2, port: 7001, every: ctx.every }),
    ];

    let last = [count(map, 0), count(map, 1)];
    const started = Date.now();
    const show = () => {
      const now = [count(map, 0), count(map, 1)];
      const t = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
      console.log(`${t}s  ingress ${now[0]} packets (+${now[0] - last[0]})  egress ${now[1]} packets (+${now[1] - last[1]})`);
      last = now;
    };
    ctx.every(1000, show);
    await ctx.stopped;
    if (traffic) for (const t of traffic) await t.finish();
    show();
    console.log(`total: ingress ${last[0]} packets, egress ${last[1]} packets`);
  },
}, argv);
