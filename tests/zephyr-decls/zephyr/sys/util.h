#ifndef DECLS_SYS_UTIL_H_
#define DECLS_SYS_UTIL_H_
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARG_UNUSED(x) (void)(x)
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define CONTAINER_OF(ptr, type, field) ((type *)(((char *)(ptr)) - offsetof(type, field)))
#define Z_STRINGIFY(x) #x
#define STRINGIFY(s) Z_STRINGIFY(s)
#define BUILD_ASSERT(expr, msg) _Static_assert(expr, msg)
#define __aligned(x) __attribute__((__aligned__(x)))

/* IS_ENABLED(CONFIG_X): 1 if CONFIG_X is defined to 1, else 0 (same contract as Zephyr's). */
#define DECLS_IS_ENABLED_PROBE_1 ,
#define IS_ENABLED(config) DECLS_IE1(config)
#define DECLS_IE1(value) DECLS_IE2(DECLS_IS_ENABLED_PROBE_##value)
#define DECLS_IE2(probe) DECLS_IE3(probe 1, 0, ~)
#define DECLS_IE3(ignored, value, ...) value
#endif
