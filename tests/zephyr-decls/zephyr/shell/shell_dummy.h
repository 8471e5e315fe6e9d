#ifndef DECLS_SHELL_DUMMY_H_
#define DECLS_SHELL_DUMMY_H_
#include <stddef.h>
#include <zephyr/shell/shell.h>
const struct shell *shell_backend_dummy_get_ptr(void);
const char *shell_backend_dummy_get_output(const struct shell *sh, size_t *sizep);
void shell_backend_dummy_clear_output(const struct shell *sh);
#endif
