#ifndef DECLS_PRINTK_H_
#define DECLS_PRINTK_H_
#include <stddef.h>
int snprintk(char *str, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
