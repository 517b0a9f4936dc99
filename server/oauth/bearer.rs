//! Reading `Authorization: Bearer …` for the resource API (RFC 6750 §2.1).

/// What the Authorization header carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerCredential<'a> {
    /// No header, another scheme, or `Bearer` with nothing after it: the bare
    /// challenge, no error code.
    Missing,
    /// More than one token, or characters outside b64token.
    Malformed,
    Token(&'a str),
}

/// Parses the header; the scheme is matched case-insensitively.
pub fn parse_bearer(header: Option<&str>) -> BearerCredential<'_> {
    let Some(header) = header else {
        return BearerCredential::Missing;
    };
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return BearerCredential::Missing;
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return BearerCredential::Missing;
    }
    if !is_b64token(token) {
        return BearerCredential::Malformed;
    }
    BearerCredential::Token(token)
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_is_case_insensitive_and_empty_is_missing() {
        for header in [
            "Bearer gat_abc",
            "bearer gat_abc",
            "BEARER gat_abc",
            "bEaReR gat_abc",
        ] {
            assert_eq!(
                parse_bearer(Some(header)),
                BearerCredential::Token("gat_abc")
            );
        }
        for header in [
            None,
            Some("Bearer"),
            Some("Bearer "),
            Some("Basic abc"),
            Some(""),
        ] {
            assert_eq!(
                parse_bearer(header),
                BearerCredential::Missing,
                "{header:?}"
            );
        }
        assert_eq!(
            parse_bearer(Some("Bearer a b")),
            BearerCredential::Malformed
        );
        assert_eq!(
            parse_bearer(Some("Bearer a\"b")),
            BearerCredential::Malformed
        );
    }
}
