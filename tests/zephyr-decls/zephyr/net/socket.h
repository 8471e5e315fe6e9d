#ifndef DECLS_SOCKET_H_
#define DECLS_SOCKET_H_
/* Zephyr 4.4 names (net_ip.h, socket.h). */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <errno.h>
#define NET_AF_INET 1
#define NET_AF_INET6 2
enum net_ip_protocol { NET_IPPROTO_IP = 0, NET_IPPROTO_UDP = 17 };
enum net_sock_type { NET_SOCK_STREAM = 1, NET_SOCK_DGRAM, NET_SOCK_RAW };
#define net_htons(x) __builtin_bswap16(x)
#define net_htonl(x) __builtin_bswap32(x)
struct net_in6_addr {
	union {
		uint8_t s6_addr[16];
		uint16_t s6_addr16[8];
		uint32_t s6_addr32[4];
	};
};
struct net_in_addr {
	union {
		uint8_t s4_addr[4];
		uint16_t s4_addr16[2];
		uint32_t s4_addr32[1];
		uint32_t s_addr;
	};
};
typedef unsigned short int net_sa_family_t;
typedef uint32_t net_socklen_t;
struct net_sockaddr_in6 {
	net_sa_family_t sin6_family;
	uint16_t sin6_port;
	struct net_in6_addr sin6_addr;
	uint8_t sin6_scope_id;
};
struct net_sockaddr_in {
	net_sa_family_t sin_family;
	uint16_t sin_port;
	struct net_in_addr sin_addr;
};
struct net_sockaddr {
	net_sa_family_t sa_family;
	char data[sizeof(struct net_sockaddr_in6) - sizeof(net_sa_family_t)];
} __attribute__((aligned(4)));
extern const struct net_in6_addr net_in6addr_any;
#define NET_INADDR_ANY 0
int zsock_socket(int family, int type, int proto);
int zsock_close(int sock);
int zsock_bind(int sock, const struct net_sockaddr *addr, net_socklen_t addrlen);
ssize_t zsock_sendto(int sock, const void *buf, size_t len, int flags,
		     const struct net_sockaddr *dest_addr, net_socklen_t addrlen);
ssize_t zsock_recvfrom(int sock, void *buf, size_t max_len, int flags,
		       struct net_sockaddr *src_addr, net_socklen_t *addrlen);
#endif
