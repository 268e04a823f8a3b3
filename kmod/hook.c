// SPDX-License-Identifier: GPL-2.0

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/portredir.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/addrconf.h>
#include <net/netfilter/nf_nat.h>
#include <net/route.h>

#include "hook.h"
#include "netns.h"
#include "rules.h"

/*
 * Only the port changes: the connection stays bound to the address it was
 * sent to, which is known to be one of this host's, so a service listening
 * on a secondary address, a VIP on lo or an interface without an IPv4
 * address answers as it would on the original port.
 */
static unsigned int portredir_bind(struct nf_conn *ct, u16 port)
{
	const struct nf_conntrack_tuple *tuple;
	struct nf_nat_range2 range = {
		.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED,
		.min_proto.all = htons(port),
		.max_proto.all = htons(port),
	};

	tuple = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	range.min_addr = tuple->dst.u3;
	range.max_addr = tuple->dst.u3;
	return nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
}

/*
 * Rules are about ports of this host: routed traffic and connections this
 * host makes to others keep their destination. Loopback addresses are this
 * host's only on a loopback device: 127.0.0.1 arriving from the wire is not
 * redirected, whatever route_localnet lets through.
 */
static bool portredir_for_this_host(const struct nf_hook_state *state,
				    const struct nf_conntrack_tuple *tuple)
{
	const struct net_device *dev = state->in ? state->in : state->out;
	bool on_loopback = dev && (dev->flags & IFF_LOOPBACK);

	if (state->pf == NFPROTO_IPV4)
		return (on_loopback || !ipv4_is_loopback(tuple->dst.u3.ip)) &&
		       inet_addr_type_dev_table(state->net, dev,
						tuple->dst.u3.ip) == RTN_LOCAL;
	if (!on_loopback && ipv6_addr_loopback(&tuple->dst.u3.in6))
		return false;
	/* A link-local address is this host's on its own link only. */
	return ipv6_chk_addr(state->net, &tuple->dst.u3.in6, state->in, 0);
}

/*
 * Called by the NAT core for the first packet of a connection that has no
 * destination binding yet; established packets never get here.
 */
static unsigned int portredir_nat_hook(void *priv, struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	struct portredir_net *pn = portredir_pernet(state->net);
	const struct nf_conntrack_tuple *tuple;
	struct portredir_ruleset *rs;
	enum ip_conntrack_info ctinfo;
	struct portredir_rule *rule;
	struct nf_conn *ct;
	u8 family, direction;
	unsigned int verdict;
	u16 port;

	rs = rcu_dereference(pn->ruleset);
	ct = nf_ct_get(skb, &ctinfo);
	if (!rs || !ct)
		return NF_ACCEPT;
	/*
	 * A confirmed entry (a retransmitted SYN of a connection older than
	 * the hooks, an ICMP error about one) can no longer be bound, and one
	 * bound by another hook is not ours: neither is redirected or counted.
	 */
	if (nf_ct_is_confirmed(ct) || nf_nat_initialized(ct, NF_NAT_MANIP_DST))
		return NF_ACCEPT;

	tuple = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	switch (tuple->dst.protonum) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		break;
	default:
		return NF_ACCEPT;
	}

	port = ntohs(tuple->dst.u.all);
	family = state->pf == NFPROTO_IPV4 ? PORTREDIR_FAMILY_IPV4 :
					     PORTREDIR_FAMILY_IPV6;
	direction = state->hook == NF_INET_PRE_ROUTING ? PORTREDIR_DIR_INBOUND :
							 PORTREDIR_DIR_LOCAL;
	rule = portredir_rule_lookup(rs, tuple->dst.protonum, port, family,
				     direction, state->in ? state->in->ifindex : 0);
	if (!rule || rule->mode != PORTREDIR_MODE_NAT ||
	    !portredir_for_this_host(state, tuple))
		return NF_ACCEPT;

	verdict = portredir_bind(ct, portredir_rule_target(rule, port));
	if (verdict == NF_ACCEPT)
		atomic64_inc(&rule->connections);
	return verdict;
}

/*
 * Right after iptables' nat table and nftables' dstnat chains: at the same
 * priority the hook registered last would run first, so who got a port
 * would depend on load order. An administrator's or Docker's DNAT decides
 * first; portredir redirects what they leave unbound.
 */
static const struct nf_hook_ops portredir_nat_ops[] = {
	{
		.hook		= portredir_nat_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP_PRI_NAT_DST + 1,
	},
	{
		.hook		= portredir_nat_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP_PRI_NAT_DST + 1,
	},
	{
		.hook		= portredir_nat_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP6_PRI_NAT_DST + 1,
	},
	{
		.hook		= portredir_nat_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= NF_IP6_PRI_NAT_DST + 1,
	},
};

static int portredir_nat_register(struct net *net, const struct nf_hook_ops *ops)
{
	if (ops->pf == NFPROTO_IPV4)
		return nf_nat_ipv4_register_fn(net, ops);
	return nf_nat_ipv6_register_fn(net, ops);
}

static void portredir_nat_unregister(struct net *net,
				     const struct nf_hook_ops *ops)
{
	if (ops->pf == NFPROTO_IPV4)
		nf_nat_ipv4_unregister_fn(net, ops);
	else
		nf_nat_ipv6_unregister_fn(net, ops);
}

/**
 * portredir_hooks_register - start redirecting in a namespace
 * @net: the namespace, with its portredir lock held
 *
 * Takes conntrack for both families and hooks into the NAT core at
 * PRE_ROUTING and LOCAL_OUT. Called once, for the namespace's first rule.
 *
 * Return: 0 or a negative errno, with nothing held.
 */
int portredir_hooks_register(struct net *net)
{
	unsigned int i;
	int err;

	err = nf_ct_netns_get(net, NFPROTO_INET);
	if (err)
		return err;

	for (i = 0; i < ARRAY_SIZE(portredir_nat_ops); i++) {
		err = portredir_nat_register(net, &portredir_nat_ops[i]);
		if (err)
			goto err_unregister;
	}
	return 0;

err_unregister:
	while (i--)
		portredir_nat_unregister(net, &portredir_nat_ops[i]);
	nf_ct_netns_put(net, NFPROTO_INET);
	return err;
}

/* Undoes portredir_hooks_register(), at namespace or module exit only. */
void portredir_hooks_unregister(struct net *net)
{
	unsigned int i = ARRAY_SIZE(portredir_nat_ops);

	while (i--)
		portredir_nat_unregister(net, &portredir_nat_ops[i]);
	nf_ct_netns_put(net, NFPROTO_INET);
}
