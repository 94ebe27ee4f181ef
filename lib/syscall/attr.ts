// One declared layout per bpf_attr variant tsbpf uses (include/uapi/linux/bpf.h, union bpf_attr).
// Fields newer than Debian's 6.1 header (log_true_size, prog_token_fd, TCX/netkit anchors, …) are from
// the upstream header. The size passed to bpf() is the layout's size: older kernels accept a larger
// attr as long as the bytes they do not know are zero, which they are unless a caller sets them.
import { struct } from './layout.js';

const NAME = { char: 16 } as const; // BPF_OBJ_NAME_LEN

export const MAP_CREATE_ATTR = struct('bpf_attr.map_create', [
  ['map_type', 'u32'], ['key_size', 'u32'], ['value_size', 'u32'], ['max_entries', 'u32'],
  ['map_flags', 'u32'], ['inner_map_fd', 'u32'], ['numa_node', 'u32'], ['map_name', NAME],
  ['map_ifindex', 'u32'], ['btf_fd', 'u32'], ['btf_key_type_id', 'u32'], ['btf_value_type_id', 'u32'],
  ['btf_vmlinux_value_type_id', 'u32'], ['map_extra', 'u64'], ['value_type_btf_obj_fd', 's32'],
  ['map_token_fd', 's32'], ['excl_prog_hash', 'u64'], ['excl_prog_hash_size', 'u32'],
]);

/** MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MAP_GET_NEXT_KEY, MAP_LOOKUP_AND_DELETE_ELEM, MAP_FREEZE */
export const MAP_ELEM_ATTR = struct('bpf_attr.map_elem', [
  ['map_fd', 'u32'], ['key', 'u64'], ['value', 'u64'], ['next_key', 'u64', 16], ['flags', 'u64'],
]);

/** MAP_LOOKUP_BATCH, MAP_LOOKUP_AND_DELETE_BATCH, MAP_UPDATE_BATCH, MAP_DELETE_BATCH */
export const MAP_BATCH_ATTR = struct('bpf_attr.batch', [
  ['in_batch', 'u64'], ['out_batch', 'u64'], ['keys', 'u64'], ['values', 'u64'],
  ['count', 'u32'], ['map_fd', 'u32'], ['elem_flags', 'u64'], ['flags', 'u64'],
]);

export const PROG_LOAD_ATTR = struct('bpf_attr.prog_load', [
  ['prog_type', 'u32'], ['insn_cnt', 'u32'], ['insns', 'u64'], ['license', 'u64'],
  ['log_level', 'u32'], ['log_size', 'u32'], ['log_buf', 'u64'], ['kern_version', 'u32'],
  ['prog_flags', 'u32'], ['prog_name', NAME], ['prog_ifindex', 'u32'], ['expected_attach_type', 'u32'],
  ['prog_btf_fd', 'u32'], ['func_info_rec_size', 'u32'], ['func_info', 'u64'], ['func_info_cnt', 'u32'],
  ['line_info_rec_size', 'u32'], ['line_info', 'u64'], ['line_info_cnt', 'u32'], ['attach_btf_id', 'u32'],
  ['attach_prog_fd', 'u32'], ['attach_btf_obj_fd', 'u32', 112], ['core_relo_cnt', 'u32'],
  ['fd_array', 'u64'], ['core_relos', 'u64'], ['core_relo_rec_size', 'u32'], ['log_true_size', 'u32'],
  ['prog_token_fd', 's32'], ['fd_array_cnt', 'u32'], ['signature', 'u64'], ['signature_size', 'u32'],
  ['keyring_id', 's32'],
]);

/** OBJ_PIN, OBJ_GET */
export const OBJ_ATTR = struct('bpf_attr.obj', [
  ['pathname', 'u64'], ['bpf_fd', 'u32'], ['file_flags', 'u32'], ['path_fd', 's32'],
]);

/** PROG_ATTACH, PROG_DETACH */
export const PROG_ATTACH_ATTR = struct('bpf_attr.prog_attach', [
  ['target_fd', 'u32'], ['target_ifindex', 'u32', 0], ['attach_bpf_fd', 'u32'], ['attach_type', 'u32'],
  ['attach_flags', 'u32'], ['replace_bpf_fd', 'u32'], ['relative_fd', 'u32'], ['relative_id', 'u32', 20],
  ['expected_revision', 'u64'],
]);

export const PROG_TEST_RUN_ATTR = struct('bpf_attr.test', [
  ['prog_fd', 'u32'], ['retval', 'u32'], ['data_size_in', 'u32'], ['data_size_out', 'u32'],
  ['data_in', 'u64'], ['data_out', 'u64'], ['repeat', 'u32'], ['duration', 'u32'],
  ['ctx_size_in', 'u32'], ['ctx_size_out', 'u32'], ['ctx_in', 'u64'], ['ctx_out', 'u64'],
  ['flags', 'u32'], ['cpu', 'u32'], ['batch_size', 'u32'],
]);

/** PROG/MAP/BTF/LINK_GET_NEXT_ID and *_GET_FD_BY_ID */
export const GET_ID_ATTR = struct('bpf_attr.get_id', [
  ['start_id', 'u32'], ['id', 'u32', 0], ['next_id', 'u32'], ['open_flags', 'u32'], ['fd_by_id_token_fd', 's32'],
]);

export const OBJ_INFO_ATTR = struct('bpf_attr.info', [
  ['bpf_fd', 'u32'], ['info_len', 'u32'], ['info', 'u64'],
]);

export const PROG_QUERY_ATTR = struct('bpf_attr.query', [
  ['target_fd', 'u32'], ['target_ifindex', 'u32', 0], ['attach_type', 'u32'], ['query_flags', 'u32'],
  ['attach_flags', 'u32'], ['prog_ids', 'u64'], ['prog_cnt', 'u32'], ['count', 'u32', 24], [null, 'u32'],
  ['prog_attach_flags', 'u64'], ['link_ids', 'u64'], ['link_attach_flags', 'u64'], ['revision', 'u64'],
]);

export const BTF_LOAD_ATTR = struct('bpf_attr.btf_load', [
  ['btf', 'u64'], ['btf_log_buf', 'u64'], ['btf_size', 'u32'], ['btf_log_size', 'u32'],
  ['btf_log_level', 'u32'], ['btf_log_true_size', 'u32'], ['btf_flags', 'u32'], ['btf_token_fd', 's32'],
]);

/** LINK_CREATE: the common head, then one union at 16 whose members are named by attach kind. */
export const LINK_CREATE_ATTR = struct('bpf_attr.link_create', [
  ['prog_fd', 'u32'], ['map_fd', 'u32', 0], ['target_fd', 'u32'], ['target_ifindex', 'u32', 4],
  ['attach_type', 'u32'], ['flags', 'u32'],
  ['target_btf_id', 'u32', 16],
  ['iter_info', 'u64', 16], ['iter_info_len', 'u32', 24],
  ['perf_event_bpf_cookie', 'u64', 16],
  ['kprobe_multi_flags', 'u32', 16], ['kprobe_multi_cnt', 'u32', 20], ['kprobe_multi_syms', 'u64', 24],
  ['kprobe_multi_addrs', 'u64', 32], ['kprobe_multi_cookies', 'u64', 40],
  ['tracing_target_btf_id', 'u32', 16], ['tracing_cookie', 'u64', 24],
  ['netfilter_pf', 'u32', 16], ['netfilter_hooknum', 'u32', 20], ['netfilter_priority', 's32', 24], ['netfilter_flags', 'u32', 28],
  // tcx, netkit and cgroup share one shape: an anchor (fd or id, chosen by BPF_F_ID) and a revision
  ['relative_fd', 'u32', 16], ['relative_id', 'u32', 16], ['expected_revision', 'u64', 24],
  ['uprobe_multi_path', 'u64', 16], ['uprobe_multi_offsets', 'u64', 24], ['uprobe_multi_ref_ctr_offsets', 'u64', 32],
  ['uprobe_multi_cookies', 'u64', 40], ['uprobe_multi_cnt', 'u32', 48], ['uprobe_multi_flags', 'u32', 52],
  ['uprobe_multi_pid', 'u32', 56], ['uprobe_multi_path_fd', 'u32', 60],
]);

export const LINK_UPDATE_ATTR = struct('bpf_attr.link_update', [
  ['link_fd', 'u32'], ['new_prog_fd', 'u32'], ['new_map_fd', 'u32', 4], ['flags', 'u32'],
  ['old_prog_fd', 'u32'], ['old_map_fd', 'u32', 12],
]);

export const LINK_DETACH_ATTR = struct('bpf_attr.link_detach', [['link_fd', 'u32']]);

export const ENABLE_STATS_ATTR = struct('bpf_attr.enable_stats', [['type', 'u32']]);

export const PROG_BIND_MAP_ATTR = struct('bpf_attr.prog_bind_map', [['prog_fd', 'u32'], ['map_fd', 'u32'], ['flags', 'u32']]);

export const RAW_TRACEPOINT_OPEN_ATTR = struct('bpf_attr.raw_tracepoint', [
  ['name', 'u64'], ['prog_fd', 'u32'], [null, 'u32'], ['cookie', 'u64'],
]);

export const ITER_CREATE_ATTR = struct('bpf_attr.iter_create', [['link_fd', 'u32'], ['flags', 'u32']]);

/**
 * union bpf_iter_link_info, pointed at by LINK_CREATE's iter_info: which map, cgroup or task an
 * iterator link walks (all zero: every object of its kind).
 */
export const ITER_LINK_INFO = struct('bpf_iter_link_info', [
  ['map_fd', 'u32', 0],
  ['cgroup_order', 'u32', 0], ['cgroup_fd', 'u32', 4], ['cgroup_id', 'u64', 8],
  ['task_tid', 'u32', 0], ['task_pid', 'u32', 4], ['task_pid_fd', 'u32', 8],
]);

/** Every layout above, for tests and tools. */
export const ATTR_LAYOUTS = {
  MAP_CREATE_ATTR, MAP_ELEM_ATTR, MAP_BATCH_ATTR, PROG_LOAD_ATTR, OBJ_ATTR, PROG_ATTACH_ATTR,
  PROG_TEST_RUN_ATTR, GET_ID_ATTR, OBJ_INFO_ATTR, PROG_QUERY_ATTR, BTF_LOAD_ATTR, LINK_CREATE_ATTR,
  LINK_UPDATE_ATTR, LINK_DETACH_ATTR, ENABLE_STATS_ATTR, PROG_BIND_MAP_ATTR, RAW_TRACEPOINT_OPEN_ATTR,
  ITER_CREATE_ATTR, ITER_LINK_INFO,
} as const;
