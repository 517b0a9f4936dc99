//! Who is calling: the client address behind a trusted proxy, or the TCP peer.
//!
//! Throttling, events and logs key on this address, so it must not be something
//! a client can choose: `X-Forwarded-For` is read only when the peer is one of
//! the operator's `--trusted-proxy` networks, and then from the right, skipping
//! addresses that are themselves trusted (each proxy appends the peer it saw;
//! everything left of the first untrusted hop was written by the client).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The client's address, as [`resolve`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client address for a request from `peer` with `headers`.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
    for hop in hops {
        match parse_hop(hop) {
            Some(address) if is_trusted(&address) => client = address,
            Some(address) => return address,
            // A hop no proxy of ours wrote: stop at the last trusted one.
            None => return client,
        }
    }
    client
}

/// `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443` or `203.0.113.7:443`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // `observe` resolves it once per request, for the log line too, and
        // leaves it here. Every request passes `observe` (`serve` is the only
        // way the router is served); tests catch a handler reached without it.
        let found = parts.extensions.get::<ClientAddr>().copied();
        debug_assert!(found.is_some(), "a request that did not pass observe");
        Ok(found.unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let forwarded = headers(&["198.51.100.9"]);
        assert_eq!(
            resolve(ip("203.0.113.1"), &forwarded, &trusted),
            ip("203.0.113.1")
        );
        assert_eq!(
            resolve(ip("10.1.2.3"), &forwarded, &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(resolve(ip("10.1.2.3"), &forwarded, &[]), ip("10.1.2.3"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_wins_over_what_the_client_wrote() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let forwarded = headers(&["1.1.1.1, 198.51.100.9", "10.0.0.5"]);
        assert_eq!(
            resolve(ip("10.1.2.3"), &forwarded, &trusted),
            ip("198.51.100.9")
        );
        let garbage = headers(&["1.1.1.1, not-an-address, 10.0.0.5"]);
        assert_eq!(resolve(ip("10.1.2.3"), &garbage, &trusted), ip("10.0.0.5"));
        assert_eq!(
            resolve(ip("10.1.2.3"), &HeaderMap::new(), &trusted),
            ip("10.1.2.3")
        );
        let ported = headers(&["[2001:db8::7]:4431"]);
        assert_eq!(
            resolve(ip("::ffff:10.1.2.3"), &ported, &trusted),
            ip("2001:db8::7")
        );
    }
}
