/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PORTREDIR_TXN_H
#define _PORTREDIR_TXN_H

struct genl_info;
struct portredir_net;
struct sk_buff;

int portredir_cmd_replace_begin(struct sk_buff *skb, struct genl_info *info);
int portredir_cmd_replace_rules(struct sk_buff *skb, struct genl_info *info);
int portredir_cmd_replace_commit(struct sk_buff *skb, struct genl_info *info);
int portredir_cmd_replace_abort(struct sk_buff *skb, struct genl_info *info);

void portredir_txn_exit(struct portredir_net *pn);
int portredir_txn_init(void);
void portredir_txn_uninit(void);

#endif /* _PORTREDIR_TXN_H */
