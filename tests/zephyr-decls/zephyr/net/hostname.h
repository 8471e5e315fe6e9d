#ifndef DECLS_HOSTNAME_H_
#define DECLS_HOSTNAME_H_
/* zephyrproject-rtos/zephyr include/zephyr/net/hostname.h @ 8d6425a65870. */
#if defined(CONFIG_NET_HOSTNAME_ENABLE)
const char *net_hostname_get(void);
#else
static inline const char *net_hostname_get(void)
{
	return "zephyr";
}
#endif
#endif
