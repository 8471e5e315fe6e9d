#ifndef DECLS_DEVICETREE_H_
#define DECLS_DEVICETREE_H_
/* Devicetree macros reduced to fixed answers: an rtc alias and slot0, slot1 and storage
 * partitions exist unless the configuration says otherwise.
 */
#ifdef DT_NO_RTC_ALIAS
#define DT_HAS_ALIAS(alias) 0
#else
#define DT_HAS_ALIAS(alias) 1
#endif
#define DT_ALIAS(alias) alias##_alias
#define DT_CHOSEN(prop) chosen_##prop
#endif
