// attachSockMap: a sockops program (attachCgroup, on a throwaway cgroup) puts both ends of a loopback
// TCP connection made by a child in that cgroup into a sockhash; sk_msg (link) counts and redirects
// what they send, sk_skb stream_verdict (PROG_ATTACH) counts what they receive; bytes arrive intact.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { counter } from '../helpers/attach-fixtures.js';
import { loadObject, attachCgroup, attachSockMap, AttachArgumentError, LinkAttachment, ProgAttachment, type Attachment, type BpfObject } from '../../lib/index.js';
import { progQuery, linkCreate, BPF_ATTACH_TYPE } from '../../lib/syscall/index.js';

const S = { inserted: 0, msgs: 1, msgBytes: 2, redirected: 3, skbs: 4, skbBytes: 5 };

// one connection: the client sends 1000 bytes in one send, the server answers 500; prints what
// each side received and whether it is what was sent
const TCP = `
import socket
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
c = socket.socket(); c.settimeout(5); c.connect(l.getsockname())
s, _ = l.accept(); s.settimeout(5)
def take(sock, n):
    got = b''
    while len(got) < n:
        b = sock.recv(65536)
        if not b: break
        got += b
    return got
c.sendall(bytes(range(250)) * 4)
a = take(s, 1000)
s.sendall(b'y' * 500)
b = take(c, 500)
print(len(a), len(b), a == bytes(range(250)) * 4 and b == b'y' * 500)
`;

describe('attachSockMap', function () {
  this.timeout(60_000);
  let cg: TestCgroup | undefined;
  let obj: BpfObject | undefined;
  const made: Attachment[] = [];
  before(function () { requirePrivileged(this); });
  beforeEach(() => {
    cg = createTestCgroup('sockmap');
    obj = loadObject('bpf/attach_sockmap.o');
  });
  afterEach(() => {
    for (const a of made.splice(0).reverse()) a.detach();
    obj?.close();
    obj = undefined;
    cg?.cleanup();
    cg = undefined;
  });

  const stat = (k: number) => counter(obj!.maps.get('stats'), k);
  const prog = (name: string) => obj!.programs.get(name)!;
  const socks = () => obj!.maps.get('socks')!;
  const query = (t: number) => progQuery({ targetFd: socks().fd.value, attachType: t }).progIds;
  const sockops = () => made.push(attachCgroup({ program: prog('sm_sockops'), cgroup: cg!.path }));

  it('sk_msg through a link: every send counted and redirected into the peer, bytes intact; detach ends it', () => {
    const a = attachSockMap({ program: prog('sm_msg'), map: socks() });
    made.push(a);
    sockops();
    expect(a).to.be.instanceOf(LinkAttachment);
    expect(a.info).to.include({ kind: 'sockmap', mode: 'link', mapName: 'socks', mapType: 'sockhash', attachTypeName: 'sk_msg_verdict', programName: 'sm_msg' });
    expect(query(BPF_ATTACH_TYPE.SK_MSG_VERDICT)).to.deep.equal([prog('sm_msg').id]);
    expect(cg!.python(TCP).trim()).to.equal('1000 500 True');
    expect(stat(S.inserted)).to.equal(2n);
    expect(stat(S.msgs)).to.equal(2n);
    expect(stat(S.msgBytes)).to.equal(1500n);
    expect(stat(S.redirected)).to.equal(2n);
    // a second program at the same hook is refused while the link holds it
    const copy = loadObject('bpf/attach_sockmap.o');
    try {
      expect(() => attachSockMap({ program: copy.programs.get('sm_msg')!, map: socks() }))
        .to.throw(AttachArgumentError, new RegExp(`map socks, sk_msg_verdict, program sm_msg \\(id \\d+\\): the map has program id ${prog('sm_msg').id} at this hook already: detach it first`));
    } finally {
      copy.close();
    }
    a.detach();
    expect(query(BPF_ATTACH_TYPE.SK_MSG_VERDICT)).to.deep.equal([]);
    expect(cg!.python(TCP).trim()).to.equal('1000 500 True');
    expect(stat(S.inserted)).to.equal(4n);
    expect(stat(S.msgs)).to.equal(2n);
  });

  it("sk_skb stream_verdict through PROG_ATTACH (mode 'attach'): what the sockets receive is counted", () => {
    const a = attachSockMap({ program: prog('sm_skb'), map: socks(), mode: 'attach' });
    made.push(a);
    sockops();
    expect(a).to.be.instanceOf(ProgAttachment);
    expect(a.info).to.include({ mode: 'attach', attachTypeName: 'sk_skb_stream_verdict' });
    expect(query(BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT)).to.deep.equal([prog('sm_skb').id]);
    expect(cg!.python(TCP).trim()).to.equal('1000 500 True');
    expect(stat(S.skbBytes)).to.equal(1500n);
    expect(stat(S.skbs) >= 2n).to.equal(true);
    expect(stat(S.msgs)).to.equal(0n);
    // a link would silently replace a PROG_ATTACH program (the kernel allows it): refused first
    const copy = loadObject('bpf/attach_sockmap.o');
    try {
      expect(() => attachSockMap({ program: copy.programs.get('sm_skb')!, map: socks() }))
        .to.throw(AttachArgumentError, new RegExp(`the map has program id ${prog('sm_skb').id} at this hook already`));
      expect(query(BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT)).to.deep.equal([prog('sm_skb').id]);
      // someone else's link (LINK_CREATE straight) takes our place; our detach() is then done (the
      // kernel's EBUSY) and leaves their program there
      const theirs = linkCreate({ progFd: copy.programs.get('sm_skb')!.fd.value, targetFd: socks().fd.value, attachType: BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT });
      try {
        expect(query(BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT)).to.deep.equal([copy.programs.get('sm_skb')!.id]);
        a.detach();
        expect(a.detached).to.equal(true);
        expect(query(BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT)).to.deep.equal([copy.programs.get('sm_skb')!.id]);
      } finally {
        theirs.close();
      }
    } finally {
      copy.close();
    }
    a[Symbol.dispose]();
    expect(query(BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT)).to.deep.equal([]);
  });

  it('a map that is not a sockmap and a program of the wrong type are typed errors; nothing is attached', () => {
    expect(() => attachSockMap({ program: prog('sm_msg'), map: obj!.maps.get('stats')! }))
      .to.throw(AttachArgumentError, /map stats is of type array; sk_msg and sk_skb programs attach to a sockmap or sockhash/);
    expect(() => attachSockMap({ program: prog('sm_skb'), map: socks(), attachType: 'msg_verdict' }))
      .to.throw(AttachArgumentError, /sm_skb is of type sk_skb; the sk_msg_verdict hook takes sk_msg/);
    expect(() => attachSockMap({ program: prog('sm_sockops'), map: socks() }))
      .to.throw(AttachArgumentError, /cgroup_sock_ops is not a sockmap hook/);
    // a program's fd where the map goes: said so, not "map  is of type devmap"
    expect(() => attachSockMap({ program: prog('sm_msg'), map: { fd: prog('sm_skb').fd, name: '' } as never }))
      .to.throw(AttachArgumentError, /map argument \(fd \d+\) is a bpf prog, not a map/);
    for (const t of [BPF_ATTACH_TYPE.SK_MSG_VERDICT, BPF_ATTACH_TYPE.SK_SKB_STREAM_VERDICT, BPF_ATTACH_TYPE.SK_SKB_STREAM_PARSER]) {
      expect(query(t)).to.deep.equal([]);
    }
  });
});
