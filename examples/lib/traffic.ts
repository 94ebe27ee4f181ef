// Traffic for the throwaway networks: small python3 programs run inside a namespace (Node has no
// raw sockets, and a child process is the simple way to own a socket in another namespace).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

// IPv6 when the destination has a colon
const SEND_UDP = `import socket,sys
dst,port,count,size,flows=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]),int(sys.argv[5])
socks=[socket.socket(socket.AF_INET6 if ':' in dst else socket.AF_INET,socket.SOCK_DGRAM) for _ in range(flows)]
for i in range(count): socks[i%flows].sendto(b'x'*size,(dst,port))
print(' '.join(str(s.getsockname()[1]) for s in socks))`;

// ICMP echo requests through a raw socket (no ping binary needed), waiting for the replies
const ICMP_ECHO = `import socket,struct,sys,time,os
dst,count,timeout=sys.argv[1],int(sys.argv[2]),float(sys.argv[3])
def csum(b):
  if len(b)%2: b+=b'\\0'
  s=sum(struct.unpack('!%dH'%(len(b)//2),b)); s=(s>>16)+(s&0xffff); s+=s>>16
  return ~s&0xffff
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)
ident=os.getpid()&0xffff
for seq in range(count):
  body=b'tsbpf-example'; h=struct.pack('!BBHHH',8,0,0,ident,seq)
  s.sendto(struct.pack('!BBHHH',8,0,csum(h+body),ident,seq)+body,(dst,0))
got=0; end=time.time()+timeout
while got<count and time.time()<end:
  s.settimeout(max(0.01,end-time.time()))
  try: d,_=s.recvfrom(2048)
  except socket.timeout: break
  ihl=(d[0]&15)*4
  if d[ihl]==0 and struct.unpack('!H',d[ihl+4:ihl+6])[0]==ident: got+=1
print(got)`;

// one JSON line per datagram, with the TTL (IPv6: hop limit) it arrived with: IP_RECVTTL (12,
// which python does not name) gives an IP_TTL (2) control message, IPV6_RECVHOPLIMIT an
// IPV6_HOPLIMIT one; IPv6 when the address has a colon. With echo, the payload goes back.
const UDP_SERVER = `import socket,sys,json,struct
v6=':' in sys.argv[1]
s=socket.socket(socket.AF_INET6 if v6 else socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],int(sys.argv[2])))
level,opt,msg=(socket.IPPROTO_IPV6,socket.IPV6_RECVHOPLIMIT,socket.IPV6_HOPLIMIT) if v6 else (socket.IPPROTO_IP,12,2)
s.setsockopt(level,opt,1)
echo=sys.argv[3]=='1'
print(json.dumps({'ready':True}),flush=True)
while True:
  d,anc,_,a=s.recvmsg(65535,socket.CMSG_SPACE(4))
  ttl=next((struct.unpack('i',c[2][:4])[0] for c in anc if c[0]==level and c[1]==msg),None)
  if echo: s.sendto(d,a)
  print(json.dumps({'from':a[0],'port':a[1],'len':len(d),'data':d[:64].decode('latin1'),'ttl':ttl}),flush=True)`;

const UDP_REQUEST = `import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(float(sys.argv[4]))
s.connect((sys.argv[1],int(sys.argv[2]))); s.send(sys.argv[3].encode())
try:
  d,a=s.recvfrom(65535); print('%s %d %s'%(a[0],a[1],d.decode('latin1')))
except socket.timeout: print('timeout')`;

function argv(ns: string, script: string, args: (string | number)[]): string[] {
  return ['netns', 'exec', ns, 'python3', '-c', script, ...args.map(String)];
}

function runAsync(ns: string, script: string, args: (string | number)[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', argv(ns, script, args), { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`traffic in ${ns} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export interface UdpSend {
  /** destination address and port */
  dst: string;
  port: number;
  count: number;
  /** payload bytes per datagram (default 16) */
  size?: number;
  /** datagrams go round-robin over this many sockets, each its own source port (default 1) */
  flows?: number;
}

function udpArgs(o: UdpSend): (string | number)[] {
  return [o.dst, o.port, o.count, o.size ?? 16, o.flows ?? 1];
}

/** Send UDP datagrams (IPv4 or IPv6) from inside `ns`; returns the source ports used. */
export function sendUdp(ns: string, o: UdpSend): number[] {
  return execFileSync('ip', argv(ns, SEND_UDP, udpArgs(o)), { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split(' ').map(Number);
}

export async function sendUdpAsync(ns: string, o: UdpSend): Promise<number[]> {
  return (await runAsync(ns, SEND_UDP, udpArgs(o), 20_000)).trim().split(' ').map(Number);
}

/** Send ICMP echo requests from inside `ns`; resolves to the number of replies seen. */
export async function pingAsync(ns: string, dst: string, count: number, timeoutMs = 2000): Promise<number> {
  return Number((await runAsync(ns, ICMP_ECHO, [dst, count, timeoutMs / 1000], timeoutMs + 10_000)).trim());
}

/** One UDP request from inside `ns` to dst:port; the reply as "addr port payload", or 'timeout'. */
export async function udpRequestAsync(ns: string, dst: string, port: number, payload: string, timeoutMs = 2000): Promise<string> {
  return (await runAsync(ns, UDP_REQUEST, [dst, port, payload, timeoutMs / 1000], timeoutMs + 10_000)).trim();
}

// one TCP connection or UDP datagram ('ping') per PROTO:PORT to argv[2] (timeout argv[1] s): the
// first line of each reply, 'refused' (ECONNREFUSED) or 'timeout', as a JSON list
const PORT_REQUESTS = `import json,socket,sys
t = float(sys.argv[1]); addr = sys.argv[2]; out = []
for spec in sys.argv[3:]:
    proto, port = spec.split(':')
    try:
        if proto == 'tcp':
            s = socket.create_connection((addr, int(port)), timeout=t)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(t)
            s.connect((addr, int(port))); s.send(b'ping')
        out.append(s.recv(200).decode().strip())
        s.close()
    except ConnectionRefusedError:
        out.append('refused')
    except socket.timeout:
        out.append('timeout')
print(json.dumps(out))`;

/**
 * From inside `ns`, one request per `tcp:PORT` / `udp:PORT` to `dst` (a TCP connection, or a 'ping'
 * datagram on a connected UDP socket), in order: each reply's text, 'refused' or 'timeout'.
 */
export function portRequests(ns: string, dst: string, specs: readonly string[], timeoutS = 3): string[] {
  return JSON.parse(execFileSync('ip', argv(ns, PORT_REQUESTS, [timeoutS, dst, ...specs]), { encoding: 'utf8', timeout: 10_000 + timeoutS * 1000 * specs.length })) as string[];
}

export async function portRequestsAsync(ns: string, dst: string, specs: readonly string[], timeoutS = 3): Promise<string[]> {
  return JSON.parse(await runAsync(ns, PORT_REQUESTS, [timeoutS, dst, ...specs], 10_000 + timeoutS * 1000 * specs.length)) as string[];
}

export interface Datagram {
  from: string;
  port: number;
  len: number;
  data: string;
  /** the IP TTL (IPv6: hop limit) it arrived with */
  ttl: number;
}

export interface UdpServer {
  readonly received: Datagram[];
  /** resolves once the socket is bound */
  readonly ready: Promise<void>;
  stop(): void;
}

/** A UDP server in `ns` on addr:port (IPv4 or IPv6) recording every datagram (and echoing it with echo: true). */
export function startUdpServer(ns: string, addr: string, port: number, o: { echo?: boolean } = {}): UdpServer {
  const child: ChildProcess = spawn('ip', argv(ns, UDP_SERVER, [addr, port, o.echo ? 1 : 0]), { stdio: ['ignore', 'pipe', 'pipe'] });
  const received: Datagram[] = [];
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`UDP server on ${addr}:${port} in ${ns} exited (${code}): ${stderr.trim()}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Datagram & { ready?: boolean };
      if (m.ready) resolve();
      else received.push(m);
    });
  });
  ready.catch(() => { /* reported to whoever awaits ready */ });
  return {
    received,
    ready,
    stop: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
  };
}

export interface DemoTraffic {
  /** datagrams and echo requests sent so far */
  readonly udp: number;
  readonly pings: number;
  /** wait for a send in flight (and a moment for the receiver to process it), then print the totals */
  finish(): Promise<void>;
}

/**
 * Background traffic for an example's demo network: every `everyMs`, `udp` datagrams to
 * dst:port and `pings` ICMP echo requests to dst, sent from `ns`.
 */
export function demoTraffic(o: {
  ns: string; dst: string; port?: number; udp?: number; pings?: number; size?: number; everyMs?: number;
  every: (ms: number, fn: () => Promise<void>, immediately?: boolean) => void;
}): DemoTraffic {
  let inflight: Promise<void> = Promise.resolve();
  let finished = false;
  const t = {
    udp: 0,
    pings: 0,
    async finish() {
      finished = true;
      await inflight;
      // the last datagrams may still sit in the receiving CPU's backlog
      await new Promise((r) => setTimeout(r, 100));
      const what = [o.udp ? `${t.udp} UDP datagrams to ${o.dst}:${o.port ?? 7000}` : '', o.pings ? `${t.pings} ICMP echo requests to ${o.dst}` : ''];
      console.log(`demo traffic from ${o.ns}: ${what.filter(Boolean).join(', ')}`);
    },
  };
  o.every(o.everyMs ?? 1000, () => {
    if (finished) return Promise.resolve();
    inflight = (async () => {
      if (o.udp) {
        await sendUdpAsync(o.ns, { dst: o.dst, port: o.port ?? 7000, count: o.udp, size: o.size });
        t.udp += o.udp;
      }
      if (o.pings) {
        await pingAsync(o.ns, o.dst, o.pings, 500);
        t.pings += o.pings;
      }
    })();
    return inflight;
  }, true);
  return t;
}

// accepts connections forever; each gets `reply` and is closed (IPv6 when the address has a colon)
const TCP_SERVER = `import socket,sys
s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind((sys.argv[1],int(sys.argv[2]))); s.listen(16)
print('ready',flush=True)
while True:
  c,a=s.accept(); c.sendall(sys.argv[3].encode()); c.close()`;

const TCP_REQUEST = `import socket,sys
s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=float(sys.argv[3]))
d=b''
while True:
  b=s.recv(4096)
  if not b: break
  d+=b
print('%s %d %s'%(s.getpeername()[0],s.getpeername()[1],d.decode('latin1')))`;

/** A TCP server in `ns` on addr:port (IPv4 or IPv6) answering every connection with `reply`. */
export function startTcpServer(ns: string, addr: string, port: number, reply: string): { ready: Promise<void>; stop(): void } {
  const child = spawn('ip', argv(ns, TCP_SERVER, [addr, port, reply]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`TCP server on ${addr}:${port} in ${ns} exited (${code}): ${stderr.trim()}`)));
  });
  ready.catch(() => { /* reported to whoever awaits ready */ });
  return { ready, stop: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); } };
}

/** Connect from `ns` to dst:port and read until the server closes: "peer-addr peer-port data". */
export async function tcpRequestAsync(ns: string, dst: string, port: number, timeoutMs = 3000): Promise<string> {
  return (await runAsync(ns, TCP_REQUEST, [dst, port, timeoutMs / 1000], timeoutMs + 10_000)).trim();
}
