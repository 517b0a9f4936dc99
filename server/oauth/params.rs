//! Strict `application/x-www-form-urlencoded` parsing (RFC 6749 §3.1, App. B).
//!
//! Bad percent-escapes and invalid UTF-8 are errors, never silently replaced. A
//! parameter without a value counts as absent; a recognised parameter sent
//! twice (even once empty) is an error; unknown parameters are ignored.

use std::collections::HashMap;

/// Parsed parameters: every value each name was sent with.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, Vec<String>>,
}

/// Why a parameter could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    Malformed(String),
    Duplicate(String),
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamError::Malformed(why) => write!(f, "malformed form encoding: {why}"),
            ParamError::Duplicate(name) => write!(f, "parameter {name} sent more than once"),
        }
    }
}

impl Params {
    pub fn parse(input: &[u8]) -> Result<Self, ParamError> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for pair in input.split(|byte| *byte == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            values
                .entry(decode(name)?)
                .or_default()
                .push(decode(value)?);
        }
        Ok(Params { values })
    }

    /// The value of a recognised parameter: `None` when absent or empty, an
    /// error when sent more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ParamError> {
        match self.values.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([value]) => Ok(Some(value.as_str()).filter(|value| !value.is_empty())),
            Some(_) => Err(ParamError::Duplicate(name.to_owned())),
        }
    }

    /// Whether the parameter was sent at all (even empty).
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte, and the
/// result must be UTF-8.
pub fn decode(raw: &[u8]) -> Result<String, ParamError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        match raw[index] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw
                    .get(index + 1..index + 3)
                    .ok_or_else(|| ParamError::Malformed("truncated %-escape".into()))?;
                // Exactly two hex digits: from_str_radix alone would take "+A".
                let digit = |byte: u8| (byte as char).to_digit(16);
                let (Some(high), Some(low)) = (digit(hex[0]), digit(hex[1])) else {
                    return Err(ParamError::Malformed("bad %-escape".into()));
                };
                bytes.push((high * 16 + low) as u8);
                index += 2;
            }
            byte => bytes.push(byte),
        }
        index += 1;
    }
    String::from_utf8(bytes).map_err(|_| ParamError::Malformed("not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_absent_and_duplicates_are_errors() {
        let params = Params::parse(b"a=1&b=&c=x&c=&d").unwrap();
        assert_eq!(params.get("a").unwrap(), Some("1"));
        assert_eq!(params.get("b").unwrap(), None);
        assert_eq!(params.get("d").unwrap(), None);
        assert_eq!(params.get("missing").unwrap(), None);
        assert_eq!(params.get("c"), Err(ParamError::Duplicate("c".into())));
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(
            decode(b"a+b%26c%3D%2B%E2%82%AC").unwrap(),
            "a b&c=+\u{20ac}"
        );
        for bad in [
            &b"%"[..],
            b"%4",
            b"%zz",
            b"%ff",
            b"\xff",
            b"%+A",
            b"%-1",
            b"% 1",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }
}
