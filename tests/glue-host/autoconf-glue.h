/* The configuration the glue host test builds the glue with: Bluetooth, UDP, the SMP UART and
 * the console shell. The port functions other than start/log/uptime/reset come from the RAM
 * double (tests/port-double/), so no optional subsystem is on here.
 */
#define CONFIG_SMP_RS_BUF_SIZE 2048
#define CONFIG_SMP_RS_BUF_COUNT 2
#define CONFIG_SMP_RS_WORKQUEUE_STACK_SIZE 4608
#define CONFIG_SMP_RS_WORKQUEUE_PRIORITY 3
#define CONFIG_SMP_RS_RESET_MS 250
#define CONFIG_SMP_RS_POLL_MS 1000
#define CONFIG_SMP_RS_LOG_LEVEL 3
#define CONFIG_SMP_RS_SERIAL_RX_RING_SIZE 256
#define CONFIG_SMP_RS_TRANSPORT_BT 1
#define CONFIG_SMP_RS_TRANSPORT_UDP 1
#define CONFIG_SMP_RS_UDP_PORT 1337
#define CONFIG_SMP_RS_UDP_IPV4 1
#define CONFIG_SMP_RS_UDP_IPV6 1
#define CONFIG_SMP_RS_UDP_STACK_SIZE 1024
#define CONFIG_SMP_RS_UDP_THREAD_PRIORITY 5
#define CONFIG_SMP_RS_TRANSPORT_UART 1
#define CONFIG_SMP_RS_TRANSPORT_CONSOLE 1
#define CONFIG_SMP_RS_CONSOLE_SHELL 1
#define CONFIG_BT 1
#define CONFIG_BT_MAX_CONN 2
#define CONFIG_BT_DEVICE_NAME "glue test"
