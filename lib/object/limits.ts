// Sizes the kernel would refuse, checked while reading an object so that a crafted header cannot
// make the pure spec stage allocate gigabytes for a map it could never create.

/**
 * The largest value a single-entry array map (global data .data/.rodata/.bss, .kconfig) can have.
 * kernel/bpf/arraymap.c, array_map_alloc_check(): `if (attr->value_size > KMALLOC_MAX_SIZE) return
 * -E2BIG;` with KMALLOC_MAX_SIZE = 1 << (MAX_PAGE_ORDER + PAGE_SHIFT) (include/linux/slab.h): 4 MiB
 * with 4 KiB pages (x86-64, MAX_PAGE_ORDER 10), 512 MiB on arm64 with 64 KiB pages (MAX_PAGE_ORDER 13),
 * the largest of the mainline configurations. The spec does not know the kernel it will meet, so it
 * takes the largest: anything above is refused everywhere.
 */
export const MAX_ARRAY_VALUE_SIZE = 1 << 29;
