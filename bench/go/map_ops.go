// cilium/ebpf baseline for the map benchmarks (Debian's golang-github-cilium-ebpf-dev, GOPATH mode):
// the same operations as bench/c/map_ops.c, with cilium/ebpf's idiomatic calls. Prints one JSON
// object per line: {"id": ..., "ns_per_op": ...} (see bench/README.md).
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/cilium/ebpf"
)

const rounds = 7
const big = 100000

var sink uint64

func measure(fn func(ops int), ops int) float64 {
	fn(ops/10 + 1)
	r := make([]float64, rounds)
	for i := range r {
		t := time.Now()
		fn(ops)
		r[i] = float64(time.Since(t).Nanoseconds()) / float64(ops)
	}
	sort.Float64s(r)
	return r[rounds/2]
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "map_ops_go: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func create(typ ebpf.MapType, max uint32) *ebpf.Map {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: max})
	must(err, "map create")
	return m
}

func row(id string, ns float64) {
	fmt.Printf("{\"id\":\"%s\",\"ns_per_op\":%.1f}\n", id, ns)
}

func main() {
	arr := create(ebpf.Array, 1024)
	hash := create(ebpf.Hash, 1024)
	for k := uint32(0); k < 1024; k++ {
		must(hash.Put(k, uint64(k)), "fill")
	}
	lookup := func(m *ebpf.Map) func(int) {
		return func(ops int) {
			var v uint64
			for i := 0; i < ops; i++ {
				must(m.Lookup(uint32(i&1023), &v), "lookup")
				sink += v
			}
		}
	}
	update := func(m *ebpf.Map) func(int) {
		return func(ops int) {
			for i := 0; i < ops; i++ {
				must(m.Update(uint32(i&1023), uint64(i), ebpf.UpdateAny), "update")
			}
		}
	}
	row("array_lookup", measure(lookup(arr), 200000))
	row("array_update", measure(update(arr), 200000))
	row("hash_lookup", measure(lookup(hash), 200000))
	row("hash_update", measure(update(hash), 200000))

	// the map bench/run.ts pinned for every implementation (see bench/lib/shared-map.ts), else our own
	var m *ebpf.Map
	if pin := os.Getenv("BENCH_HASH100K_PIN"); pin != "" {
		var err error
		m, err = ebpf.LoadPinnedMap(pin, nil)
		must(err, "open pinned hash100k")
	} else {
		m = create(ebpf.Hash, big)
		for k := uint32(0); k < big; k++ {
			must(m.Put(k, uint64(k)), "fill")
		}
	}
	chunk := (1 << 20) / 12
	keys := make([]uint32, chunk)
	values := make([]uint64, chunk)
	row("hash100k_batch_dump", measure(func(ops int) {
		for r := 0; r < ops; r++ {
			n := 0
			var cursor, next uint32
			first := true
			for {
				var prev interface{}
				if !first {
					prev = cursor
				}
				c, err := m.BatchLookup(prev, &next, keys, values, nil)
				for i := 0; i < c; i++ {
					sink += values[i]
				}
				n += c
				if errors.Is(err, ebpf.ErrKeyNotExist) {
					break
				}
				must(err, "batch lookup")
				cursor, first = next, false
			}
			if n != big {
				must(fmt.Errorf("saw %d", n), "batch dump count")
			}
		}
	}, 3)/big)
	row("hash100k_per_key", measure(func(ops int) {
		for r := 0; r < ops; r++ {
			var k uint32
			var v uint64
			n := 0
			it := m.Iterate()
			for it.Next(&k, &v) {
				sink += v
				n++
			}
			must(it.Err(), "iterate")
			if n != big {
				must(fmt.Errorf("saw %d", n), "iterate count")
			}
		}
	}, 2)/big)
}
