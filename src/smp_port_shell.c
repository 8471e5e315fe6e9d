/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h over the dummy shell backend (src/port/shell.rs), for the shell group
 * and the console's text lines. Built with CONFIG_SMP_RS_GRP_SHELL or
 * CONFIG_SMP_RS_CONSOLE_SHELL (CMakeLists.txt), both of which depend on
 * CONFIG_SHELL_BACKEND_DUMMY.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/shell/shell.h>
#include <zephyr/shell/shell_dummy.h>
#include <zephyr/sys/util.h>

#include "smp_glue.h"
#include "smp_port.h"

int32_t smp_port_shell_exec(const uint8_t *line, size_t line_len, uint8_t *out, size_t out_cap,
			    size_t *out_len, int32_t *ret)
{
	static char cmd[CONFIG_SHELL_CMD_BUFF_SIZE];
	const struct shell *sh = shell_backend_dummy_get_ptr();
	const char *text;
	size_t size = 0;
	int32_t rc = smp_glue_c_str(cmd, sizeof(cmd), line, line_len);

	if (rc != 0) {
		return SMP_PORT_EINVAL;
	}
	shell_backend_dummy_clear_output(sh);
	*ret = shell_execute_cmd(sh, cmd);
	text = shell_backend_dummy_get_output(sh, &size);
	size = MIN(size, out_cap);
	memcpy(out, text, size);
	*out_len = size;
	return 0;
}
