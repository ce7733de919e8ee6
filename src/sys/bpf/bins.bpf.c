// SPDX-License-Identifier: GPL-2.0 OR MIT
//
// dpuctl's in-kernel traffic bins: a tc (tcx, or clsact direct-action) program on the ingress
// and egress hooks of the watched interfaces. Each packet adds its length and segment count
// to the open time bin of its (interface, direction) on its CPU, and its bytes to a small
// top-flows table of that bin (5-tuple, space-saving replacement of the smallest entry).
// When a packet falls in a later bin, the closed bin goes to user space through a ring
// buffer; user space also takes closed bins that no later packet closed from the per-CPU
// state map (the `bin` number tells both copies apart). The program never changes a packet
// and always returns TC_ACT_UNSPEC (tcx: next program; clsact: the default action).
//
// Built with: clang -O2 -g -target bpf -c bins.bpf.c -o bins.bpf.o (see build_object in
// src/sys/bpf.rs; tests/bpf_object.rs checks the committed object against a rebuild).

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TOPK 4
#define MAX_KEYS 256

// One flow of a bin. IPv4 addresses are stored as IPv4-mapped IPv6 addresses.
struct flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
	__u64 bytes;
};

// The open bin of one (interface, direction) on one CPU; also the ring buffer record.
struct bin {
	__u64 bin;      // bin number: (ktime_ns + offset_ns) / width_ns
	__u64 bytes;    // wire bytes (skb->len, L2 header included)
	__u64 packets;  // packets (GSO segments)
	__u32 key;      // ifindex * 2 + (1 for egress)
	__u32 cpu;
	struct flow top[TOPK];
};

// Bin width in ns, set by the loader before loading.
volatile const __u64 width_ns = 10000;
// CLOCK_REALTIME - CLOCK_MONOTONIC at load, ns: bins are aligned to wall-clock multiples of
// the width, as the bins of `dpuctl capture analyze` are (packet timestamps are wall clock).
volatile const __u64 offset_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_KEYS);
	__type(key, __u32);
	__type(value, struct bin);
} state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} closed SEC(".maps");

static __always_inline void parse(struct __sk_buff *skb, struct flow *f)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 proto = 0;
	void *l4 = 0;

	__builtin_memset(f, 0, sizeof(*f));
	if ((void *)(eth + 1) > end)
		return;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return;
		f->saddr[10] = 0xff;
		f->saddr[11] = 0xff;
		f->daddr[10] = 0xff;
		f->daddr[11] = 0xff;
		__builtin_memcpy(&f->saddr[12], &ip->saddr, 4);
		__builtin_memcpy(&f->daddr[12], &ip->daddr, 4);
		proto = ip->protocol;
		// Later fragments carry no ports.
		if (ip->frag_off & bpf_htons(0x1fff))
			proto = 0;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return;
		__builtin_memcpy(f->saddr, &ip6->saddr, 16);
		__builtin_memcpy(f->daddr, &ip6->daddr, 16);
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return;
	}
	f->proto = proto;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) {
		__u16 *ports = l4;
		if ((void *)(ports + 2) > end)
			return;
		f->sport = bpf_ntohs(ports[0]);
		f->dport = bpf_ntohs(ports[1]);
	}
}

static __always_inline int same(const struct flow *a, const struct flow *b)
{
	const __u64 *x = (const __u64 *)a;
	const __u64 *y = (const __u64 *)b;
	// saddr, daddr, ports, proto: the first 40 bytes.
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

static __always_inline int count(struct __sk_buff *skb, __u32 egress)
{
	__u32 key = skb->ifindex * 2 + egress;
	struct bin *b = bpf_map_lookup_elem(&state, &key);
	if (!b)
		return TC_ACT_UNSPEC;
	__u64 now_ns = bpf_ktime_get_ns() + offset_ns;
	// On ingress, the receive timestamp the stack took (wall clock; set while any socket
	// asks for timestamps, a packet capture among them) places the packet where a capture
	// would: before the backlog or NAPI delay between the stamp and this hook. Reading it
	// here yields 0 for a mono delivery time, and an unset stamp is 0 too.
	if (!egress) {
		__u64 ts = skb->tstamp;
		if (ts && ts <= now_ns && now_ns - ts < 1000000000ULL)
			now_ns = ts;
	}
	__u64 now = now_ns / width_ns;
	if (b->bin != now) {
		if (b->packets)
			bpf_ringbuf_output(&closed, b, sizeof(*b), 0);
		__builtin_memset(b, 0, sizeof(*b));
		b->bin = now;
		b->key = key;
		b->cpu = bpf_get_smp_processor_id();
	}
	__u64 segs = skb->gso_segs ? skb->gso_segs : 1;
	__u64 len = skb->len;
	b->bytes += len;
	b->packets += segs;

	struct flow f;
	parse(skb, &f);
	int min = 0;
#pragma unroll
	for (int i = 0; i < TOPK; i++) {
		if (b->top[i].bytes && same(&b->top[i], &f)) {
			b->top[i].bytes += len;
			return TC_ACT_UNSPEC;
		}
		if (b->top[i].bytes < b->top[min].bytes)
			min = i;
	}
	// Not in the table: take the smallest entry (an empty one first); as in space-saving,
	// the newcomer inherits the count it displaces, so a heavy flow is never undercounted.
	if (min >= 0 && min < TOPK) {
		__u64 base = b->top[min].bytes;
		f.bytes = base + len;
		b->top[min] = f;
	}
	return TC_ACT_UNSPEC;
}

SEC("classifier")
int dpuctl_bins_ingress(struct __sk_buff *skb)
{
	return count(skb, 0);
}

SEC("classifier")
int dpuctl_bins_egress(struct __sk_buff *skb)
{
	return count(skb, 1);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
