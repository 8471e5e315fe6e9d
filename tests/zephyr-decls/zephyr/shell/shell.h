#ifndef DECLS_SHELL_H_
#define DECLS_SHELL_H_
struct shell;
int shell_execute_cmd(const struct shell *sh, const char *cmd);
#endif
