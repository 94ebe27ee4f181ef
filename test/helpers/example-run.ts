// Runs an example (examples/<name>.ts) the way a user does, as a child process, optionally inside a
// network namespace (`ip netns exec`), and lets a test wait for lines of its output.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ExampleRun {
  readonly lines: string[];
  /** wait (bounded) for a line matching re; returns its match */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGINT (what Ctrl-C sends) or another signal, then wait for the exit; resolves to the exit code */
  stop(timeoutMs?: number, signal?: NodeJS.Signals): Promise<number | null>;
  /** resolves to the exit code once the example ended by itself (e.g. --seconds) */
  exited(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL if still running (for after()) */
  kill(): void;
  output(): string;
}

export function runExample(name: string, args: string[], o: { netns?: string } = {}): ExampleRun {
  const node = [process.execPath, '--import', 'tsx', path.join(root, 'examples', `${name}.ts`), ...args];
  const cmd = o.netns ? ['ip', 'netns', 'exec', o.netns, ...node] : node;
  const child: ChildProcess = spawn(cmd[0], cmd.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => {
    if (partial) lines.push(partial);
    for (const w of waiters) w();
    resolve(code);
  }));
  const output = () => `${lines.join('\n')}${stderr ? `\n[stderr]\n${stderr}` : ''}`;
  const bounded = <T>(p: Promise<T>, ms: number, what: string) => {
    let t: NodeJS.Timeout;
    return Promise.race([p, new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${name}: ${what} within ${ms} ms; output so far:\n${output()}`)), ms);
    })]).finally(() => clearTimeout(t));
  };
  const run: ExampleRun = {
    lines,
    waitForLine(re, timeoutMs = 20_000) {
      return bounded(new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          for (const l of lines) {
            const m = re.exec(l);
            if (m) { waiters.delete(check); resolve(m); return; }
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) without a line matching ${re}:\n${output()}`));
          }
        };
        waiters.add(check);
        check();
      }), timeoutMs, `no line matching ${re}`);
    },
    stop(timeoutMs = 20_000, signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return bounded(exit, timeoutMs, `no exit after ${signal}`);
    },
    exited(timeoutMs = 30_000) {
      return bounded(exit, timeoutMs, 'no exit');
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    output,
  };
  return run;
}

/** The namespaces of the example's own demo network, from its "demo network:" line. */
export async function demoNamespaces(run: ExampleRun): Promise<string[]> {
  const m = await run.waitForLine(/^demo network: (\S+) \(.*\) <-> (\S+) \(/);
  return [m[1], m[2]];
}

/** "demo traffic from NS: N UDP datagrams to A:P, M ICMP echo requests to A" → { udp, pings } */
export async function demoTrafficSent(run: ExampleRun): Promise<{ udp: number; pings: number }> {
  const m = await run.waitForLine(/^demo traffic from \S+: (.*)$/);
  return {
    udp: Number(/(\d+) UDP datagrams/.exec(m[1])?.[1] ?? 0),
    pings: Number(/(\d+) ICMP echo requests/.exec(m[1])?.[1] ?? 0),
  };
}

/** Network namespaces that exist now. */
export function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

/** Namespaces among `names` that still exist (the example must have removed them all). */
export function leftoverNamespaces(names: readonly string[]): string[] {
  return netnsList().filter((n) => names.includes(n));
}

/** text for use inside a RegExp */
export function esc(text: string | number): string {
  return String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
