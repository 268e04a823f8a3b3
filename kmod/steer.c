// SPDX-License-Identifier: GPL-2.0
/*
 * Steering: a new TCP connection to a steered port is handed to the socket
 * listening on the target port, at LOCAL_IN, without NAT or conntrack. The
 * accepted socket keeps the port the client asked for, so replies need no
 * translation and nothing has to be remembered per connection.
 *
 * Routing has already decided that the packet is for this host, and IPv4
 * has been reassembled. The hook runs after input SNAT (NF_IP_PRI_NAT_SRC),
 * which would orphan a socket assigned before it when it rewrites a source.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/portredir.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_tproxy.h>
#include <net/tcp.h>

#include "netns.h"
#include "rules.h"
#include "steer.h"

#if IS_ENABLED(CONFIG_NF_TPROXY_IPV4) || IS_ENABLED(CONFIG_NF_TPROXY_IPV6)
/* The rule steering this packet's destination port, if any. */
static struct portredir_rule *
portredir_steer_rule(const struct nf_hook_state *state, u8 family, u16 port)
{
	const struct net_device *in = state->in;
	struct portredir_ruleset *rs;
	struct portredir_rule *rule;
	u8 direction;

	rs = rcu_dereference(portredir_pernet(state->net)->ruleset);
	if (!rs)
		return NULL;
	direction = in->flags & IFF_LOOPBACK ? PORTREDIR_DIR_LOCAL :
					       PORTREDIR_DIR_INBOUND;
	rule = portredir_rule_lookup(rs, IPPROTO_TCP, port, family, direction,
				     in->ifindex);
	if (!rule || rule->mode != PORTREDIR_MODE_STEER)
		return NULL;
	return rule;
}

static bool portredir_pure_syn(const struct tcphdr *th)
{
	return th->syn && !th->ack && !th->rst && !th->fin;
}

/*
 * A socket found for the packet's own ports that is not in TIME_WAIT is
 * the connection itself (an established steered connection, a request of
 * one, found without early demux on loopback): deliver to it. A TIME_WAIT
 * socket of an earlier connection is given up for the target's listener
 * when a new connection reuses the ports, as TCP itself would reuse it.
 */
static void portredir_steer_assign(struct sk_buff *skb, struct sock *sk,
				   struct portredir_rule *rule,
				   const struct tcphdr *th)
{
	if (!sk)
		return;
	if (sk->sk_state == TCP_LISTEN && portredir_pure_syn(th))
		atomic64_inc(&rule->connections);
	nf_tproxy_assign_sock(skb, sk);
}

/* The socket early demux attached, if it is a TIME_WAIT one to give up. */
static struct sock *portredir_take_time_wait(struct sk_buff *skb,
					     const struct tcphdr *th)
{
	struct sock *sk = skb->sk;

	if (!sk || sk->sk_state != TCP_TIME_WAIT || !portredir_pure_syn(th))
		return NULL;
	/* The reference the skb held is now ours. */
	skb->sk = NULL;
	skb->destructor = NULL;
	return sk;
}

/**
 * struct portredir_steer_pkt - a TCP segment being steered
 * @skb: the packet
 * @state: where it is
 * @th: its TCP header
 * @thoff: where @th starts, for IPv6
 * @to: the target port, network byte order
 */
struct portredir_steer_pkt {
	struct sk_buff *skb;
	const struct nf_hook_state *state;
	const struct tcphdr *th;
	unsigned int thoff;
	__be16 to;
};

/* The socket of @pkt's addresses and source port, with @dport. */
static struct sock *portredir_steer_find(const struct portredir_steer_pkt *pkt,
					 __be16 dport,
					 enum nf_tproxy_lookup_t lookup)
{
	const struct nf_hook_state *state = pkt->state;
	struct sk_buff *skb = pkt->skb;

	if (IS_ENABLED(CONFIG_NF_TPROXY_IPV4) && state->pf == NFPROTO_IPV4)
		return nf_tproxy_get_sock_v4(state->net, skb, IPPROTO_TCP,
					     ip_hdr(skb)->saddr,
					     ip_hdr(skb)->daddr, pkt->th->source,
					     dport, state->in, lookup);
	if (IS_ENABLED(CONFIG_NF_TPROXY_IPV6) && state->pf == NFPROTO_IPV6)
		return nf_tproxy_get_sock_v6(state->net, skb, pkt->thoff,
					     IPPROTO_TCP, &ipv6_hdr(skb)->saddr,
					     &ipv6_hdr(skb)->daddr,
					     pkt->th->source, dport, state->in,
					     lookup);
	return NULL;
}

/* The target's listener for a TIME_WAIT @sk, or @sk back. */
static struct sock *portredir_steer_time_wait(const struct portredir_steer_pkt *pkt,
					      struct sock *sk)
{
	const struct nf_hook_state *state = pkt->state;
	struct sk_buff *skb = pkt->skb;

	if (IS_ENABLED(CONFIG_NF_TPROXY_IPV4) && state->pf == NFPROTO_IPV4)
		return nf_tproxy_handle_time_wait4(state->net, skb,
						   ip_hdr(skb)->daddr, pkt->to,
						   sk);
	if (IS_ENABLED(CONFIG_NF_TPROXY_IPV6) && state->pf == NFPROTO_IPV6)
		return nf_tproxy_handle_time_wait6(skb, IPPROTO_TCP, pkt->thoff,
						   state->net,
						   &ipv6_hdr(skb)->daddr,
						   pkt->to, sk);
	return sk;
}

/*
 * Both families, once the TCP header is found. A loopback destination is
 * this host's on a loopback device only.
 */
static unsigned int portredir_steer_tcp(struct portredir_steer_pkt *pkt,
					u8 family, bool to_loopback)
{
	const struct tcphdr *th = pkt->th;
	struct sk_buff *skb = pkt->skb;
	struct portredir_rule *rule;
	struct sock *sk;

	rule = portredir_steer_rule(pkt->state, family, ntohs(th->dest));
	if (!rule)
		return NF_ACCEPT;
	if (to_loopback && !(pkt->state->in->flags & IFF_LOOPBACK))
		return NF_ACCEPT;
	pkt->to = htons(portredir_rule_target(rule, ntohs(th->dest)));

	sk = portredir_take_time_wait(skb, th);
	if (!sk && skb->sk)
		return NF_ACCEPT;
	if (!sk)
		sk = portredir_steer_find(pkt, th->dest,
					  NF_TPROXY_LOOKUP_ESTABLISHED);
	if (sk && sk->sk_state == TCP_TIME_WAIT)
		sk = portredir_steer_time_wait(pkt, sk);
	else if (!sk)
		sk = portredir_steer_find(pkt, pkt->to,
					  NF_TPROXY_LOOKUP_LISTENER);
	portredir_steer_assign(skb, sk, rule, th);
	return NF_ACCEPT;
}

#endif

#if IS_ENABLED(CONFIG_NF_TPROXY_IPV4)
static unsigned int portredir_steer4(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct portredir_steer_pkt pkt = { .skb = skb, .state = state };
	const struct iphdr *iph = ip_hdr(skb);
	struct tcphdr _th;

	if (iph->protocol != IPPROTO_TCP || ip_is_fragment(iph))
		return NF_ACCEPT;
	pkt.th = skb_header_pointer(skb, ip_hdrlen(skb), sizeof(_th), &_th);
	if (!pkt.th)
		return NF_ACCEPT;
	return portredir_steer_tcp(&pkt, PORTREDIR_FAMILY_IPV4,
				   ipv4_is_loopback(iph->daddr));
}
#endif

#if IS_ENABLED(CONFIG_NF_TPROXY_IPV6)
static unsigned int portredir_steer6(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct portredir_steer_pkt pkt = { .skb = skb, .state = state };
	int proto, frag_flags = 0;
	struct tcphdr _th;

	/* IPv6 reassembles after LOCAL_IN: fragments are left alone. */
	proto = ipv6_find_hdr(skb, &pkt.thoff, -1, NULL, &frag_flags);
	if (proto != IPPROTO_TCP || frag_flags & IP6_FH_F_FRAG)
		return NF_ACCEPT;
	pkt.th = skb_header_pointer(skb, pkt.thoff, sizeof(_th), &_th);
	if (!pkt.th)
		return NF_ACCEPT;
	return portredir_steer_tcp(&pkt, PORTREDIR_FAMILY_IPV6,
				   ipv6_addr_loopback(&ipv6_hdr(skb)->daddr));
}
#endif

static const struct nf_hook_ops portredir_steer_ops[] = {
#if IS_ENABLED(CONFIG_NF_TPROXY_IPV4)
	{
		.hook		= portredir_steer4,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP_PRI_NAT_SRC + 1,
	},
#endif
#if IS_ENABLED(CONFIG_NF_TPROXY_IPV6)
	{
		.hook		= portredir_steer6,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= NF_IP6_PRI_NAT_SRC + 1,
	},
#endif
};

/* Whether this kernel can steer at all: nf_tproxy for both families. */
bool portredir_steer_supported(void)
{
	return ARRAY_SIZE(portredir_steer_ops) == 2;
}

/**
 * portredir_steer_register - start steering in a namespace
 * @net: the namespace, with its portredir lock held
 *
 * Takes no conntrack: a namespace whose rules all steer stays without it.
 *
 * Return: 0 or a negative errno, with nothing held.
 */
int portredir_steer_register(struct net *net)
{
	return nf_register_net_hooks(net, portredir_steer_ops,
				     ARRAY_SIZE(portredir_steer_ops));
}

/* Undoes portredir_steer_register(), at namespace or module exit only. */
void portredir_steer_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, portredir_steer_ops,
				ARRAY_SIZE(portredir_steer_ops));
}
