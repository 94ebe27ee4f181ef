// Section names libbpf added after 1.1 (Debian's bpftool cannot load these; tsbpf must):
// TCX and netkit attach types, the tc/ingress and tc/egress aliases, netfilter.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define PROG(sec, name, ret) SEC(sec) int name(void *ctx) { return ret; }

PROG("tcx/ingress", n_tcx_ingress, 0)
PROG("tcx/egress", n_tcx_egress, 0)
PROG("tc/ingress", n_tc_ingress, 0)
PROG("tc/egress", n_tc_egress, 0)
PROG("netkit/primary", n_netkit_primary, 0)
PROG("netkit/peer", n_netkit_peer, 0)
PROG("netfilter", n_netfilter, 1)

char LICENSE[] SEC("license") = "GPL";
