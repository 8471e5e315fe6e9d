/* The glue with only the serial transport and the default groups (OS, enumeration), no
 * optional subsystem: no MCUboot, no flash map, no RTC, no heap statistics.
 */
#define CONFIG_SMP_RS_BUF_SIZE 384
#define CONFIG_SMP_RS_BUF_COUNT 4
#define CONFIG_SMP_RS_WORKQUEUE_STACK_SIZE 4608
#define CONFIG_SMP_RS_WORKQUEUE_PRIORITY 3
#define CONFIG_SMP_RS_RESET_MS 250
#define CONFIG_SMP_RS_LOG_LEVEL 3
#define CONFIG_SMP_RS_FS_PATH_LEN 64
#define CONFIG_SMP_RS_STAT_MAX_NAME_LEN 32
#define CONFIG_SMP_RS_SERIAL_RX_RING_SIZE 256
#define CONFIG_SMP_RS_TRANSPORT_UART 1
#define CONFIG_ARCH "riscv"
#define CONFIG_SOC "esp32c3"
#define CONFIG_BOARD_TARGET "esp32c3_devkitm"
#define DT_NO_RTC_ALIAS 1
#define DT_NO_PARTITIONS 1
#define CONFIG_SMP_RS_SETTINGS_NAME_LEN 32
#define CONFIG_SMP_RS_POLL_MS 1000
#define CONFIG_SMP_RS_GRP_OS 1
#define CONFIG_SMP_RS_OS_INFO_MAX_RESPONSE_SIZE 256
#define CONFIG_SMP_RS_OS_TASKSTAT_THREAD_NAME_LEN 32
#define CONFIG_SMP_RS_GRP_ENUM 1
