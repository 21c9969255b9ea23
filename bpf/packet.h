/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * packet.h - the destination of an outgoing TCP packet, read from its
 * headers in a cgroup_skb program, whose data starts at the IP header.
 */
#ifndef NFSGUARD_BPF_PACKET_H
#define NFSGUARD_BPF_PACKET_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define NEXTHDR_HOP 0
#define NEXTHDR_DEST 60
#define IP_OFFSET_MASK 0x1fff
/* IPv6 hop-by-hop and destination options headers skipped at most. */
#define PACKET_MAX_OPTS 4

/*
 * The destination (v4-mapped for IPv4) and port of TCP packet skb; false
 * if they cannot be read for certain: not TCP, a later fragment, a routing
 * header (whose final destination is elsewhere in the packet), or more
 * options than PACKET_MAX_OPTS. One helper call a header.
 */
static __always_inline bool packet_dest_copied(struct __sk_buff *skb,
					       __u32 *daddr, __u16 *family,
					       __u16 *port)
{
	struct ipv6_opt_hdr opt;
	struct ipv6hdr ip6;
	struct iphdr ip;
	__u32 off, p;
	__u16 dport;
	__u8 next;
	int i;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) ||
		    ip.protocol != IPPROTO_TCP ||
		    (ip.frag_off & bpf_htons(IP_OFFSET_MASK)))
			return false;
		off = ip.ihl * 4;
		daddr[0] = 0;
		daddr[1] = 0;
		daddr[2] = bpf_htonl(0xffff);
		daddr[3] = ip.daddr;
		*family = AF_INET;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		next = ip6.nexthdr;
		off = sizeof(ip6);
		for (i = 0; i < PACKET_MAX_OPTS && next != IPPROTO_TCP; i++) {
			if ((next != NEXTHDR_HOP && next != NEXTHDR_DEST) ||
			    bpf_skb_load_bytes(skb, off, &opt, sizeof(opt)))
				return false;
			off += (opt.hdrlen + 1) * 8;
			next = opt.nexthdr;
		}
		if (next != IPPROTO_TCP)
			return false;
		__builtin_memcpy(daddr, &ip6.daddr, 16);
		*family = AF_INET6;
	} else {
		return false;
	}
	/* The TCP header's destination port, 2 bytes in. */
	if (bpf_skb_load_bytes(skb, off + 2, &dport, sizeof(dport)))
		return false;
	p = bpf_ntohs(dport);
	barrier_var(p);
	*port = p & 0xffff;
	return true;
}

/*
 * The same for the common packet, read in place: an IPv4 header without
 * options or an IPv6 header without extension headers, then TCP, all in
 * the packet's linear data (where the stack builds the headers of a packet
 * it makes). False for any other packet, which is not thereby judged:
 * packet_dest() reads it the long way.
 */
static __always_inline bool packet_dest_linear(struct __sk_buff *skb,
					       __u32 *daddr, __u16 *family,
					       __u16 *port)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	const struct ipv6hdr *ip6 = data;
	const struct iphdr *ip = data;
	const __u16 *tcp;
	__u32 p;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		tcp = data + sizeof(*ip);
		if ((void *)(tcp + 2) > end || ip->ihl != 5 ||
		    ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(IP_OFFSET_MASK)))
			return false;
		daddr[0] = 0;
		daddr[1] = 0;
		daddr[2] = bpf_htonl(0xffff);
		daddr[3] = ip->daddr;
		*family = AF_INET;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		tcp = data + sizeof(*ip6);
		if ((void *)(tcp + 2) > end || ip6->nexthdr != IPPROTO_TCP)
			return false;
		__builtin_memcpy(daddr, &ip6->daddr, 16);
		*family = AF_INET6;
	} else {
		return false;
	}
	/* The TCP header's destination port, 2 bytes in. */
	p = bpf_ntohs(tcp[1]);
	barrier_var(p);
	*port = p & 0xffff;
	return true;
}

/* The destination and port of TCP packet skb, as packet_dest_copied(). */
static __always_inline bool packet_dest(struct __sk_buff *skb, __u32 *daddr,
					__u16 *family, __u16 *port)
{
	return packet_dest_linear(skb, daddr, family, port) ||
	       packet_dest_copied(skb, daddr, family, port);
}

#endif
