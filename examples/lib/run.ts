// What every example shares: its command line (commander: --interface, --seconds, its own
// options), the throwaway network used when no --interface is given (two namespaces and a veth
// pair; the program runs in the first, demo traffic comes from the second), loading the object
// and attaching its programs, and a clean exit: on SIGINT/SIGTERM, after --seconds, or on an
// error, everything made is released in reverse order (programs detached, network removed).
import { Command, InvalidArgumentError } from 'commander';
import { attachXdp, attachTc, type BpfObject, type BpfProgram, type LoadObjectOptions } from '../../lib/index.js';
import { createVethNetwork, enterNetns, type VethNetwork } from './netns.js';
import { ExampleLifetime } from './lifetime.js';

export { objectPath } from './lifetime.js';

export type XdpMode = 'auto' | 'drv' | 'skb';

export interface CommonOptions {
  interface?: string;
  seconds?: number;
  xdpMode?: XdpMode;
}

export interface ExampleContext<O> {
  readonly opts: O & CommonOptions;
  /** the interface programs attach to (the demo network's vethA without --interface) */
  readonly iface: string;
  /** every --interface given, in order, for an example with repeatInterface (else [iface]) */
  readonly interfaces: readonly string[];
  /** the throwaway network, when no --interface was given; this process runs inside its nsA */
  readonly demo?: VethNetwork;
  /** resolves at SIGINT/SIGTERM or when --seconds have passed */
  readonly stopped: Promise<void>;
  readonly isStopped: boolean;
  /** run fn when the example ends (in reverse order of registration) */
  defer(fn: () => void): void;
  /** call fn every ms (and once right away with immediately) until the example ends; never two at once */
  every(ms: number, fn: () => void | Promise<void>, immediately?: boolean): void;
  /** load bpf/<file> (built by `make bpf`), with loadObject's options (constants…); closed when the example ends */
  load(file: string, o?: LoadObjectOptions): BpfObject;
  /** attach an XDP program to iface, or to another interface (mode from --xdp-mode); detached when the example ends */
  attachXdp(program: BpfProgram, iface?: string): void;
  /** attach a TC program to iface; detached when the example ends */
  attachTc(program: BpfProgram, direction: 'ingress' | 'egress'): void;
}

export interface ExampleSpec<O> {
  name: string;
  description: string;
  /** the example's programs are XDP: adds --xdp-mode */
  xdp?: boolean;
  /** what --seconds does when not given, for --help (default: run until Ctrl-C) */
  secondsDefault?: string;
  /** --interface's text for --help, for an example that does not attach to the interface it names */
  interfaceHelp?: string;
  /** --interface may be given more than once (ctx.interfaces; iface is the first) */
  repeatInterface?: boolean;
  options?(cmd: Command): void;
  main(ctx: ExampleContext<O>): Promise<void>;
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port (1-65535)');
  return n;
}

/** Parse the command line, run the example, clean up; exits the process with its status. */
export async function runExample<O>(spec: ExampleSpec<O>, argv = process.argv): Promise<void> {
  const ifaceHelp = spec.interfaceHelp ?? 'attach to this existing interface instead of a throwaway veth pair';
  const cmd = new Command(spec.name).description(spec.description);
  if (spec.repeatInterface) cmd.option('-i, --interface <name>', `${ifaceHelp} (repeatable)`, (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  else cmd.option('-i, --interface <name>', ifaceHelp);
  cmd.option('-s, --seconds <n>', `stop after this many seconds (default: ${spec.secondsDefault ?? 'run until Ctrl-C'})`, positiveNumber);
  if (spec.xdp) {
    cmd.option('--xdp-mode <mode>', 'XDP attach mode: auto, drv (native) or skb (generic)', (v: string) => {
      if (v !== 'auto' && v !== 'drv' && v !== 'skb') throw new InvalidArgumentError('expected auto, drv or skb');
      return v;
    }, 'auto');
  }
  spec.options?.(cmd);
  cmd.parse(argv);
  const opts = cmd.opts<O & CommonOptions>();
  const given: string[] = [opts.interface ?? []].flat();
  opts.interface = given[0];

  const life = new ExampleLifetime();
  await life.run(async () => {
    let demo: VethNetwork | undefined;
    let iface = opts.interface;
    if (!iface) {
      demo = createVethNetwork({ label: 'ex', block: 19 });
      const net = demo;
      life.defer(() => net.cleanup());
      life.defer(enterNetns(`/var/run/netns/${net.nsA}`));
      iface = demo.vethA;
      console.log(`demo network: ${demo.nsA} (${demo.vethA} ${demo.addrA}) <-> ${demo.nsB} (${demo.vethB} ${demo.addrB}); this program runs in ${demo.nsA}`);
    }
    const target = iface;
    const interfaces = given.length ? given : [target];
    life.stopAfter(opts.seconds);
    const ctx: ExampleContext<O> = {
      opts, iface: target, interfaces, demo, stopped: life.stopped,
      get isStopped() { return life.isStopped; },
      defer: (fn) => life.defer(fn),
      every: (ms, fn, immediately) => life.every(ms, fn, immediately),
      load: (file, o) => life.load(file, o),
      attachXdp: (program, to = target) => {
        const mode = opts.xdpMode ?? 'auto';
        const link = attachXdp({ program, interface: to, mode });
        life.defer(() => link.detach());
        // with auto: native (drv) where the driver has it, else generic (skb), and why
        console.log(`attached ${program.name} (xdp ${link.info.mode}) to ${to}`);
        if (link.info.note) console.log(`note: ${link.info.note}`);
      },
      attachTc: (program, direction) => {
        const link = attachTc({ program, interface: target, direction });
        life.defer(() => link.detach());
        console.log(`attached ${program.name} (tc ${direction}) to ${target}`);
      },
    };
    await spec.main(ctx);
  });
}
