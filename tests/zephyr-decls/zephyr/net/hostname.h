#ifndef DECLS_HOSTNAME_H_
#define DECLS_HOSTNAME_H_
const char *net_hostname_get(void);
#endif
