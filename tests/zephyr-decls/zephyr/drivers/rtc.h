#ifndef DECLS_RTC_H_
#define DECLS_RTC_H_
/* zephyrproject-rtos/zephyr include/zephyr/drivers/rtc.h @ 4844f516706a (__syscalls). */
#include <zephyr/device.h>
struct rtc_time {
	int tm_sec;
	int tm_min;
	int tm_hour;
	int tm_mday;
	int tm_mon;
	int tm_year;
	int tm_wday;
	int tm_yday;
	int tm_isdst;
	int tm_nsec;
};
int rtc_set_time(const struct device *dev, const struct rtc_time *timeptr);
int rtc_get_time(const struct device *dev, struct rtc_time *timeptr);
#endif
