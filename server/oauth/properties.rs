//! Property tests over everything that parses what a client sends: the form
//! parser, HTTP Basic decoding, Bearer headers, redirect URI comparison, PKCE
//! values and the error_description character set.

use super::authorize::{is_pkce_value, is_registered};
use super::bearer::{parse_bearer, BearerCredential};
use super::client_auth::parse_basic;
use super::error::{ErrorCode, OAuthError};
use super::params::{decode, Params};
use crate::model::{Client, ClientId, RedirectUri, ScopeSet};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;

fn form_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn client_with(uri: &str) -> Client {
    Client {
        id: ClientId::parse("c").unwrap(),
        name: "c".into(),
        redirect_uris: vec![RedirectUri::from_trusted(uri.into())],
        scopes: ScopeSet::default(),
        grant_types: vec![],
        public: false,
        disabled: false,
        refresh_retry_window: Default::default(),
        resource_server: false,
        created_at: 0,
        updated_at: 0,
        active_families: 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: the parser answers, never panics.
    #[test]
    fn the_form_parser_never_panics(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Params::parse(&input);
    }

    /// Encoding then parsing gives back exactly what was sent.
    #[test]
    fn form_encoding_round_trips(pairs in proptest::collection::btree_map("[a-z_]{1,12}", ".{0,40}", 0..8)) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let params = Params::parse(body.as_bytes()).unwrap();
        for (name, value) in &pairs {
            let expected = Some(value.as_str()).filter(|v| !v.is_empty());
            prop_assert_eq!(params.get(name).unwrap(), expected);
        }
    }

    /// A repeated name is an error whatever the values.
    #[test]
    fn duplicates_are_always_refused(name in "[a-z]{1,8}", first in ".{0,10}", second in ".{0,10}") {
        let body = format!("{name}={}&{name}={}", form_encode(&first), form_encode(&second));
        prop_assert!(Params::parse(body.as_bytes()).unwrap().get(&name).is_err());
    }

    /// Percent-decoding rejects exactly what is not valid UTF-8 after decoding.
    #[test]
    fn decoding_is_strict(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let encoded: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
        let decoded = decode(encoded.as_bytes());
        prop_assert_eq!(decoded.ok(), String::from_utf8(bytes).ok());
    }

    /// A `%` not followed by two hex digits is refused, whatever follows it
    /// (`%+A`, `%-1`, `% 1`, `%G0`, a lone `%` at the end).
    #[test]
    fn malformed_escapes_are_refused(
        prefix in "[a-z]{0,8}",
        first in any::<u8>(),
        second in any::<u8>(),
        cut in any::<bool>(),
    ) {
        prop_assume!(!(first.is_ascii_hexdigit() && second.is_ascii_hexdigit()));
        let mut raw = prefix.into_bytes();
        raw.push(b'%');
        raw.push(first);
        if !cut {
            raw.push(second);
        }
        prop_assert!(decode(&raw).is_err(), "{:?} was decoded", raw);
    }

    /// RFC 6749 §2.3.1: any id and secret survive form-encoding plus base64.
    #[test]
    fn basic_credentials_round_trip(id in "[^\u{0}]{1,40}", secret in ".{0,60}") {
        let header = format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encode(&id), form_encode(&secret))));
        let parsed = parse_basic(&header).unwrap().unwrap();
        prop_assert_eq!(parsed.client_id, id);
        prop_assert_eq!(parsed.secret, secret);
    }

    /// Arbitrary Authorization headers never panic the Basic or Bearer readers.
    #[test]
    fn authorization_parsers_never_panic(header in ".{0,200}") {
        let _ = parse_basic(&header);
        let _ = parse_bearer(Some(&header));
    }

    /// A b64token after any casing of "Bearer" is read back exactly.
    #[test]
    fn bearer_tokens_round_trip(token in "[A-Za-z0-9._~+/-]{1,64}=*", upper in proptest::collection::vec(any::<bool>(), 6)) {
        let scheme: String = "bearer".chars().zip(upper).map(|(c, up)| if up { c.to_ascii_uppercase() } else { c }).collect();
        let header = format!("{scheme} {token}");
        prop_assert_eq!(parse_bearer(Some(&header)), BearerCredential::Token(&token));
    }

    /// A redirect URI is accepted if and only if its bytes equal a registered one.
    #[test]
    fn redirect_uris_match_byte_for_byte(path in "[a-z/]{0,12}", variant in 0usize..10) {
        let registered = format!("https://partner.example/cb{path}");
        let presented = match variant {
            0 => registered.clone(),
            1 => format!("{registered}/"),
            2 => registered.replace("partner.example", "partner.example:443"),
            3 => registered.replace("partner", "PARTNER"),
            4 => format!("{registered}?x=1"),
            5 => format!("{registered}/%2e%2e"),
            6 => registered.replace("https://", "https://user@"),
            7 => format!("{registered}#f"),
            8 => registered.replace("https", "http"),
            _ => format!("{registered}%20"),
        };
        prop_assert_eq!(is_registered(&client_with(&registered), &presented), presented == registered);
    }

    /// PKCE values: 43–128 characters of the RFC 7636 alphabet, nothing else.
    #[test]
    fn pkce_values_follow_the_abnf(value in ".{0,140}") {
        let expected = (43..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        prop_assert_eq!(is_pkce_value(&value), expected);
    }

    /// Whatever text goes in, error_description keeps to %x20-21 / %x23-5B / %x5D-7E.
    #[test]
    fn error_descriptions_keep_to_the_rfc_character_set(text in ".{0,120}") {
        let description = OAuthError::new(ErrorCode::InvalidRequest, text).description();
        prop_assert!(description.bytes().all(|b| matches!(b, 0x20 | 0x21 | 0x23..=0x5B | 0x5D..=0x7E)));
    }
}
