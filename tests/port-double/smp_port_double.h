/* SPDX-License-Identifier: Apache-2.0 */
/* Inspection and control of the smp_port.h test double (smp_port_double.c). */

#ifndef SMP_PORT_DOUBLE_H_
#define SMP_PORT_DOUBLE_H_

#include <stdint.h>

struct smp_double_state {
	uint64_t uptime_ms;
	/* Called from smp_port_uptime_ms(), i.e. from inside Rust: lets a test re-enter. */
	void (*uptime_hook)(void);
	uint32_t started;
	uint32_t resets;
	uint32_t reset_boot_mode;
	uint32_t panics;
	uint32_t logs;
	uint32_t last_log_level;
	char last_log[128];
	uint16_t rtc[7];
	int rtc_set;
	int32_t swap_type;
	int32_t confirmed;
	uint32_t shell_runs;
	int32_t files_open;
	uint32_t renames;
	uint32_t settings_saves;
};

extern struct smp_double_state smp_double;

/* Clears the state, erases the RAM flash. */
void smp_double_reset_state(void);

/* A reset under MCUboot, reduced to its outcome for image 0: a pending test or permanent
 * swap exchanges slot 0 and slot 1 (a test leaves the new image unconfirmed, to revert at
 * the next reset unless confirmed); a pending revert swaps back.
 */
void smp_double_boot(void);

#endif /* SMP_PORT_DOUBLE_H_ */
