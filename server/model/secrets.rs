//! Client secrets: their ids, what the admin plane shows of them, and the
//! overlap a rotation leaves the old one.

use super::Invalid;
use std::fmt;
use std::net::IpAddr;

/// The longest overlap a rotation may give the old secret: 30 days.
pub const MAX_OVERLAP_SECS: i64 = 30 * 24 * 3600;

/// A secret's public identifier: 12 lowercase hex digits. It names the secret
/// (for `revoke-secret`, the console, events); it is no part of the secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId(String);

impl SecretId {
    pub const LENGTH: usize = 12;

    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let well_formed = text.len() == Self::LENGTH
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !well_formed {
            return Err(Invalid::new(
                "secret_id",
                format!(
                    "a secret id is {} hex digits, as `client secrets` lists them",
                    Self::LENGTH
                ),
            ));
        }
        Ok(SecretId(text.to_owned()))
    }

    /// A fresh random id.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; Self::LENGTH / 2];
        rand::rng().fill_bytes(&mut bytes);
        SecretId(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// An id read back from the database, which only ever holds parsed ones.
    pub fn from_trusted(text: String) -> Self {
        SecretId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How long the old secret stays valid after a rotation: none (it dies at
/// once) up to [`MAX_OVERLAP_SECS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overlap(i64);

impl Overlap {
    pub fn parse(secs: i64) -> Result<Self, Invalid> {
        if !(0..=MAX_OVERLAP_SECS).contains(&secs) {
            return Err(Invalid::new(
                "overlap_secs",
                format!("the overlap is 0 to {MAX_OVERLAP_SECS} seconds (30 days), not {secs}"),
            ));
        }
        Ok(Overlap(secs))
    }

    /// A duration as an operator types it: `7d`, `12h`, `30m`, `90s`, or `0`.
    pub fn parse_text(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let bad = || {
            Invalid::new(
                "overlap",
                format!(
                    "{text:?} is not a duration: a number and a unit, like 7d, 12h, 30m or 90s"
                ),
            )
        };
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let amount: i64 = digits.parse().map_err(|_| bad())?;
        let scale = match unit {
            "d" => 86_400,
            "h" => 3600,
            "m" => 60,
            "s" | "" if amount == 0 || unit == "s" => 1,
            _ => return Err(bad()),
        };
        let secs = amount.checked_mul(scale).unwrap_or(i64::MAX);
        if secs > MAX_OVERLAP_SECS {
            return Err(Invalid::new(
                "overlap",
                format!("{text} is longer than the 30 days an old secret may overlap the new one"),
            ));
        }
        Overlap::parse(secs)
    }

    pub fn secs(self) -> i64 {
        self.0
    }
}

/// Seconds as a short duration, at most two units: `7d`, `1d 12h`, `30m`, `1m 30s`.
pub fn overlap_text(secs: i64) -> String {
    if secs <= 0 {
        return "0s".into();
    }
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in units {
        if rest >= size {
            parts.push(format!("{}{name}", rest / size));
            rest %= size;
        }
        if parts.len() == 2 {
            break;
        }
        if !parts.is_empty() && rest == 0 {
            break;
        }
    }
    parts.join(" ")
}

/// One secret of a confidential client, as the admin plane shows it: never
/// the secret itself (only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSecret {
    pub id: SecretId,
    pub created_at: i64,
    /// When it stops working; `None` until a rotation gives it an end.
    pub expires_at: Option<i64>,
    /// Recorded at most once a minute, so up to a minute behind.
    pub last_used: Option<LastUse>,
}

impl ClientSecret {
    /// Whether it still authenticates at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        live_at(self.expires_at, now)
    }
}

/// The one expiry rule for secrets: live before its end second, or with none.
pub fn live_at(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|end| now < end)
}

/// When and from where a secret last authenticated its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUse {
    pub at: i64,
    /// The client's address (behind a trusted proxy: the forwarded one).
    pub from: Option<IpAddr>,
}

/// What a rotation produced: the new secret (shown once) and its id, and the
/// end it gave the secret it replaced, if that one lives on for the overlap.
#[derive(Debug)]
pub struct Rotation {
    pub secret: crate::secret::Token,
    pub secret_id: SecretId,
    pub old_secret_expires_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_ids_are_twelve_hex_digits() {
        let id = SecretId::generate();
        assert_eq!(SecretId::parse(id.as_str()), Ok(id));
        for bad in [
            "",
            "0123456789a",
            "0123456789abc",
            "0123456789AB",
            "0123456789ag",
        ] {
            assert!(SecretId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_overlap_is_at_most_thirty_days() {
        assert_eq!(Overlap::parse(0).map(Overlap::secs), Ok(0));
        assert!(Overlap::parse(MAX_OVERLAP_SECS).is_ok());
        assert!(Overlap::parse(MAX_OVERLAP_SECS + 1).is_err());
        assert!(Overlap::parse(-1).is_err());
    }

    #[test]
    fn overlaps_are_typed_with_a_unit() {
        let secs = |text: &str| Overlap::parse_text(text).map(Overlap::secs);
        assert_eq!(secs("7d"), Ok(7 * 86_400));
        assert_eq!(secs("12h"), Ok(12 * 3600));
        assert_eq!(secs("30m"), Ok(1800));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("0"), Ok(0));
        assert_eq!(secs("30d"), Ok(MAX_OVERLAP_SECS));
        let too_long = Overlap::parse_text("31d").unwrap_err();
        assert!(too_long.message.contains("30 days"), "{too_long}");
        assert!(Overlap::parse_text("99999999999999999999d").is_err());
        for bad in ["", "d", "7", "7w", "-1h", "1.5h", "7 d"] {
            assert!(Overlap::parse_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_read_in_at_most_two_units() {
        assert_eq!(overlap_text(7 * 86_400), "7d");
        assert_eq!(overlap_text(36 * 3600), "1d 12h");
        assert_eq!(overlap_text(90), "1m 30s");
        assert_eq!(overlap_text(1800), "30m");
        assert_eq!(overlap_text(0), "0s");
    }
}
