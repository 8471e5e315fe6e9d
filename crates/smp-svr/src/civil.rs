//! Conversions between Unix time and the proleptic Gregorian calendar (UTC).

use smp::platform::DateTime;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days in a month.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Milliseconds since the Unix epoch of `t`, or `None` if it is not a real date.
pub fn to_unix_ms(t: &DateTime) -> Option<i64> {
    if !(1..=12).contains(&t.month)
        || t.day == 0
        || u32::from(t.day) > days_in_month(t.year.into(), t.month.into())
        || t.hour > 23
        || t.minute > 59
        || t.second > 59
        || t.millis > 999
    {
        return None;
    }
    let days = days_from_civil(t.year.into(), t.month.into(), t.day.into());
    let secs =
        days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second);
    Some(secs * 1000 + i64::from(t.millis))
}

/// The calendar time of `ms` milliseconds since the Unix epoch.
pub fn from_unix_ms(ms: i64) -> DateTime {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    DateTime {
        year: y.clamp(0, u16::MAX.into()) as u16,
        month: m as u8,
        day: d as u8,
        hour: (rem / 3600) as u8,
        minute: (rem / 60 % 60) as u8,
        second: (rem % 60) as u8,
        millis: ms.rem_euclid(1000) as u16,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        let t = from_unix_ms(1_700_000_000_123);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis),
            (2023, 11, 14, 22, 13, 20, 123)
        );
        assert_eq!(to_unix_ms(&t), Some(1_700_000_000_123));
    }

    #[test]
    fn round_trip_and_invalid() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let feb30 = DateTime {
            year: 2025,
            month: 2,
            day: 30,
            ..Default::default()
        };
        assert_eq!(to_unix_ms(&feb30), None);
        let feb29 = DateTime {
            year: 2024,
            month: 2,
            day: 29,
            ..Default::default()
        };
        assert!(to_unix_ms(&feb29).is_some());
    }
}
