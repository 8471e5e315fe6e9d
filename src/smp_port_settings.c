/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * include/smp_port.h over the settings subsystem (src/port/settings.rs), for the settings
 * group. Built with CONFIG_SMP_RS_GRP_SETTINGS (CMakeLists.txt), which depends on
 * CONFIG_SETTINGS and selects CONFIG_SETTINGS_RUNTIME.
 *
 * Called from Rust (src/port/), on the SMP work queue thread only.
 */

#include <zephyr/kernel.h>
#include <zephyr/settings/settings.h>

#include "smp_glue.h"
#include "smp_port.h"

static char setting_name[CONFIG_SMP_RS_SETTINGS_NAME_LEN + 1];

int32_t smp_port_settings_get(const uint8_t *name, size_t name_len, uint8_t *buf, size_t cap)
{
	int32_t rc = smp_glue_c_str(setting_name, sizeof(setting_name), name, name_len);

	return rc != 0 ? SMP_PORT_EINVAL : smp_glue_port_err(settings_runtime_get(setting_name, buf, cap));
}

int32_t smp_port_settings_set(const uint8_t *name, size_t name_len, const uint8_t *val,
			      size_t val_len)
{
	int32_t rc = smp_glue_c_str(setting_name, sizeof(setting_name), name, name_len);

	return rc != 0 ? SMP_PORT_EINVAL
		       : smp_glue_port_err(settings_runtime_set(setting_name, val, val_len));
}

int32_t smp_port_settings_delete(const uint8_t *name, size_t name_len)
{
	int32_t rc = smp_glue_c_str(setting_name, sizeof(setting_name), name, name_len);

	return rc != 0 ? SMP_PORT_EINVAL : smp_glue_port_err(settings_delete(setting_name));
}

int32_t smp_port_settings_commit(void)
{
	return smp_glue_port_err(settings_commit());
}

int32_t smp_port_settings_load(void)
{
	return smp_glue_port_err(settings_load());
}

int32_t smp_port_settings_save(const uint8_t *subtree, size_t subtree_len)
{
	int32_t rc;

	if (subtree_len == 0) {
		return smp_glue_port_err(settings_save());
	}
	rc = smp_glue_c_str(setting_name, sizeof(setting_name), subtree, subtree_len);
	return rc != 0 ? SMP_PORT_EINVAL : smp_glue_port_err(settings_save_subtree(setting_name));
}
