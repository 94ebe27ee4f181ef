// Info structs filled by OBJ_GET_INFO_BY_FD (include/uapi/linux/bpf.h), declared once.
import { struct } from './layout.js';

const NAME = { char: 16 } as const;

export const PROG_INFO = struct('bpf_prog_info', [
  ['type', 'u32'], ['id', 'u32'], ['tag', { char: 8 }], ['jited_prog_len', 'u32'], ['xlated_prog_len', 'u32'],
  ['jited_prog_insns', 'u64'], ['xlated_prog_insns', 'u64'], ['load_time', 'u64'], ['created_by_uid', 'u32'],
  ['nr_map_ids', 'u32'], ['map_ids', 'u64'], ['name', NAME], ['ifindex', 'u32'], ['gpl_compatible', 'u32'],
  ['netns_dev', 'u64'], ['netns_ino', 'u64'], ['nr_jited_ksyms', 'u32'], ['nr_jited_func_lens', 'u32'],
  ['jited_ksyms', 'u64'], ['jited_func_lens', 'u64'], ['btf_id', 'u32'], ['func_info_rec_size', 'u32'],
  ['func_info', 'u64'], ['nr_func_info', 'u32'], ['nr_line_info', 'u32'], ['line_info', 'u64'],
  ['jited_line_info', 'u64'], ['nr_jited_line_info', 'u32'], ['line_info_rec_size', 'u32'],
  ['jited_line_info_rec_size', 'u32'], ['nr_prog_tags', 'u32'], ['prog_tags', 'u64'], ['run_time_ns', 'u64'],
  ['run_cnt', 'u64'], ['recursion_misses', 'u64'], ['verified_insns', 'u32'], ['attach_btf_obj_id', 'u32'],
  ['attach_btf_id', 'u32'], [null, 'u32'],
]);

export const MAP_INFO = struct('bpf_map_info', [
  ['type', 'u32'], ['id', 'u32'], ['key_size', 'u32'], ['value_size', 'u32'], ['max_entries', 'u32'],
  ['map_flags', 'u32'], ['name', NAME], ['ifindex', 'u32'], ['btf_vmlinux_value_type_id', 'u32'],
  ['netns_dev', 'u64'], ['netns_ino', 'u64'], ['btf_id', 'u32'], ['btf_key_type_id', 'u32'],
  ['btf_value_type_id', 'u32'], ['btf_vmlinux_id', 'u32'], ['map_extra', 'u64'], ['hash', 'u64'],
  ['hash_size', 'u32'], [null, 'u32'],
]);

export const BTF_INFO = struct('bpf_btf_info', [
  ['btf', 'u64'], ['btf_size', 'u32'], ['id', 'u32'], ['name', 'u64'], ['name_len', 'u32'], ['kernel_btf', 'u32'],
]);

/** bpf_link_info: the head, then a union at 16 with members named by link kind. */
export const LINK_INFO = struct('bpf_link_info', [
  ['type', 'u32'], ['id', 'u32'], ['prog_id', 'u32'],
  ['cgroup_id', 'u64', 16], ['cgroup_attach_type', 'u32', 24],
  ['netns_ino', 'u32', 16], ['netns_attach_type', 'u32', 20],
  ['xdp_ifindex', 'u32', 16],
  ['tcx_ifindex', 'u32', 16], ['tcx_attach_type', 'u32', 20],
  ['netkit_ifindex', 'u32', 16], ['netkit_attach_type', 'u32', 20],
  ['tracing_attach_type', 'u32', 16], ['tracing_target_obj_id', 'u32', 20], ['tracing_target_btf_id', 'u32', 24],
  ['struct_ops_map_id', 'u32', 16],
  ['netfilter_pf', 'u32', 16], ['netfilter_hooknum', 'u32', 20], ['netfilter_priority', 's32', 24], ['netfilter_flags', 'u32', 28],
  ['perf_event_type', 'u32', 16],
  // the largest member (uprobe_multi / tracing_multi / perf_event) ends by 72; keep room for growth
  [null, 'u64', 120],
]);

/**
 * The rest of bpf_link_info's union, read from the same bytes as LINK_INFO (a second pass of
 * OBJ_GET_INFO_BY_FD fills the names and arrays once the link's type says where their buffers
 * go). Kept apart from LINK_INFO because most of these members are newer than the installed 6.1
 * header LINK_INFO is checked against; offsets from upstream include/uapi/linux/bpf.h.
 */
export const LINK_INFO_DETAIL = struct('bpf_link_info', [
  ['raw_tracepoint_tp_name', 'u64', 16], ['raw_tracepoint_tp_name_len', 'u32', 24], ['raw_tracepoint_cookie', 'u64', 32],
  ['tracing_cookie', 'u64', 32],
  ['iter_target_name', 'u64', 16], ['iter_target_name_len', 'u32', 24], ['iter_map_id', 'u32', 28],
  ['iter_cgroup_id', 'u64', 32], ['iter_cgroup_order', 'u32', 40], ['iter_task_tid', 'u32', 32], ['iter_task_pid', 'u32', 36],
  ['sockmap_map_id', 'u32', 16], ['sockmap_attach_type', 'u32', 20],
  ['kprobe_multi_addrs', 'u64', 16], ['kprobe_multi_count', 'u32', 24], ['kprobe_multi_flags', 'u32', 28],
  ['kprobe_multi_missed', 'u64', 32], ['kprobe_multi_cookies', 'u64', 40],
  ['uprobe_multi_path', 'u64', 16], ['uprobe_multi_offsets', 'u64', 24], ['uprobe_multi_ref_ctr_offsets', 'u64', 32],
  ['uprobe_multi_cookies', 'u64', 40], ['uprobe_multi_path_size', 'u32', 48], ['uprobe_multi_count', 'u32', 52],
  ['uprobe_multi_flags', 'u32', 56], ['uprobe_multi_pid', 'u32', 60],
  // perf_event: type at 16 (LINK_INFO), then a union at 24 by perf event kind; the name buffer
  // (uprobe file, kprobe function, tracepoint) is at 24 with its length at 32 in all three
  ['perf_event_name', 'u64', 24], ['perf_event_name_len', 'u32', 32], ['perf_event_offset', 'u32', 36],
  ['perf_event_uprobe_cookie', 'u64', 40], ['perf_event_uprobe_ref_ctr_offset', 'u64', 48],
  ['perf_event_kprobe_addr', 'u64', 40], ['perf_event_kprobe_missed', 'u64', 48], ['perf_event_kprobe_cookie', 'u64', 56],
  ['perf_event_tracepoint_cookie', 'u64', 40],
  ['perf_event_event_config', 'u64', 24], ['perf_event_event_type', 'u32', 32], ['perf_event_event_cookie', 'u64', 40],
  [null, 'u64', 120],
]);

/** enum bpf_perf_event_type: what a perf event link's event is (bpf_link_info.perf_event.type). */
export const BPF_PERF_EVENT = { UPROBE: 1, URETPROBE: 2, KPROBE: 3, KRETPROBE: 4, TRACEPOINT: 5, EVENT: 6 } as const;
