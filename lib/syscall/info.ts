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
