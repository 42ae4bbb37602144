//! Time zones for `stage.timestamp`'s `location`: the system's IANA database (TZif files under
//! `/usr/share/zoneinfo`), read once per stage.

/// Where the database is.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// A zone: UTC offsets (seconds east) and the instants they start at.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    /// Offset before the first transition.
    initial: i64,
    /// (instant in seconds since the epoch, offset from then on), ascending.
    transitions: Vec<(i64, i64)>,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone { initial: 0, transitions: Vec::new() }
    }

    /// The zone named `name` (`UTC`, `Local`, `America/New_York`); Go's error text otherwise.
    pub fn load(name: &str) -> Result<Zone, String> {
        if name.is_empty() || name == "UTC" {
            return Ok(Zone::utc());
        }
        let path = if name == "Local" {
            "/etc/localtime".to_string()
        } else {
            // A name is a path inside the database, never outside it.
            if name.starts_with('/') || name.split('/').any(|p| p == ".." || p.is_empty()) {
                return Err(format!("unknown time zone {name}"));
            }
            format!("{ZONEINFO}/{name}")
        };
        let data = std::fs::read(&path).map_err(|_| format!("unknown time zone {name}"))?;
        parse_tzif(&data).ok_or_else(|| format!("unknown time zone {name}"))
    }

    /// The offset in effect at `instant` (seconds since the epoch).
    pub fn offset_at(&self, instant: i64) -> i64 {
        match self.transitions.partition_point(|(t, _)| *t <= instant) {
            0 => self.initial,
            i => self.transitions[i - 1].1,
        }
    }

    /// The offset for a wall-clock time read as if it were UTC (`local`), as Go's `time.Date`
    /// resolves it: the offset of the instant it names, trying the offsets around it.
    pub fn offset_for_local(&self, local: i64) -> i64 {
        let first = self.offset_at(local);
        let second = self.offset_at(local - first);
        if self.offset_at(local - second) == second {
            second
        } else {
            first
        }
    }
}

fn be32(b: &[u8], at: usize) -> Option<i64> {
    b.get(at..at + 4).map(|s| i64::from(i32::from_be_bytes([s[0], s[1], s[2], s[3]])))
}

fn be64(b: &[u8], at: usize) -> Option<i64> {
    let s = b.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(i64::from_be_bytes(a))
}

/// Counts in a TZif header: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
fn counts(b: &[u8], at: usize) -> Option<[usize; 6]> {
    let mut c = [0usize; 6];
    for (i, slot) in c.iter_mut().enumerate() {
        *slot = usize::try_from(be32(b, at + 20 + 4 * i)?).ok()?;
    }
    Some(c)
}

/// A TZif file (version 1 data, or the 64-bit block of version 2 and later).
fn parse_tzif(b: &[u8]) -> Option<Zone> {
    if b.get(..4)? != b"TZif" {
        return None;
    }
    let version = *b.get(4)?;
    let mut c = counts(b, 0)?;
    let mut at = 44;
    let mut wide = false;
    if version >= b'2' {
        // Skip the 32-bit block to the 64-bit one.
        let v1 = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
        at += v1;
        c = counts(b, at)?;
        at += 44;
        wide = true;
    }
    let [_, _, _, timecnt, typecnt, _] = c;
    let tsize = if wide { 8 } else { 4 };
    let times: Vec<i64> = (0..timecnt).map(|i| if wide { be64(b, at + i * 8) } else { be32(b, at + i * 4) }).collect::<Option<_>>()?;
    at += timecnt * tsize;
    let idx: Vec<usize> = (0..timecnt).map(|i| b.get(at + i).map(|x| usize::from(*x))).collect::<Option<_>>()?;
    at += timecnt;
    let offsets: Vec<i64> = (0..typecnt).map(|i| be32(b, at + i * 6)).collect::<Option<_>>()?;
    if offsets.is_empty() {
        return None;
    }
    let transitions = times.into_iter().zip(idx).map(|(t, i)| offsets.get(i).map(|o| (t, *o))).collect::<Option<_>>()?;
    Some(Zone { initial: offsets[0], transitions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_database() {
        assert!(Zone::load("../etc/passwd").is_err());
        assert!(Zone::load("/etc/localtime").is_err());
        assert_eq!(Zone::load("UTC"), Ok(Zone::utc()));
    }

    #[test]
    fn a_zone_with_daylight_saving_has_two_offsets() {
        // Skipped where the system has no time zone database.
        let Ok(z) = Zone::load("America/New_York") else { return };
        assert_eq!(z.offset_at(1_341_100_800), -4 * 3600, "July 2012");
        assert_eq!(z.offset_at(1_356_998_400), -5 * 3600, "January 2013");
    }
}
