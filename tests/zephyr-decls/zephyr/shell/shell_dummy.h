#ifndef DECLS_SHELL_DUMMY_H_
#define DECLS_SHELL_DUMMY_H_
/* zephyrproject-rtos/zephyr include/zephyr/shell/shell_dummy.h @ 07d5b2e3b9ae. */
#include <stddef.h>
#include <zephyr/shell/shell.h>
const struct shell *shell_backend_dummy_get_ptr(void);
const char *shell_backend_dummy_get_output(const struct shell *sh, size_t *sizep);
void shell_backend_dummy_clear_output(const struct shell *sh);
#endif
