//! The two bulk measurements, through the bench's own handle on a child
//! server's database: one transaction revoking every family of a client
//! (revoke-client), and the first page of a client-filtered family list over
//! many families (the scale test).

use super::args::BenchError;
use super::report::{RevokeResult, ScaleResult};
use super::target::Target;
use gatehouse::clock::Clock;
use gatehouse::model::{Actor, ClientId, ClientSpec, FamilyFilter, GrantType};
use gatehouse::store::Store;
use std::time::Instant;

fn setup(error: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(error.to_string())
}

/// Seeds `count` families of a fresh client, then revokes them all with one
/// call (one transaction).
pub fn revoke_client(target: &Target, count: usize) -> Result<Option<RevokeResult>, BenchError> {
    let Some(store) = target.store() else {
        eprintln!("revoke-client: skipped (needs the child server)");
        return Ok(None);
    };
    if count == 0 {
        return Ok(None);
    }
    eprintln!("revoke-client: seeding {count} families…");
    let client_id = seed_client(store, "Bench bulk", count)?;
    let started = Instant::now();
    let revoked = store
        .revoke_client_families(
            Actor::Local,
            &client_id,
            "bench",
            false,
            Clock::default().now(),
        )
        .map_err(setup)?;
    Ok(Some(RevokeResult {
        families: revoked.families,
        millis: started.elapsed().as_secs_f64() * 1000.0,
    }))
}

/// Seeds `count` families and times the first page of a client-filtered
/// family list, as the admin plane serves it.
pub fn scale_test(target: &Target, count: usize) -> Result<Option<ScaleResult>, BenchError> {
    let Some(store) = target.store() else {
        eprintln!("scale test: skipped (needs the child server)");
        return Ok(None);
    };
    let bytes_before = store.database_bytes();
    eprintln!("scale: seeding {count} families through the store…");
    let started = Instant::now();
    let client_id = seed_client(store, "Bench scale", count)?;
    let seed_secs = started.elapsed().as_secs_f64();
    let mut timings = Vec::new();
    for _ in 0..20 {
        let begun = Instant::now();
        let filter = FamilyFilter {
            client_id: Some(client_id.clone()),
            username: None,
            active_only: true,
        };
        store.list_families(&filter, 100, 0).map_err(setup)?;
        timings.push(begun.elapsed().as_secs_f64() * 1000.0);
    }
    timings.sort_by(|a, b| a.total_cmp(b));
    let bytes_after = store.database_bytes();
    Ok(Some(ScaleResult {
        families: count,
        seed_secs,
        first_page_ms_median: timings[timings.len() / 2],
        first_page_ms_max: timings[timings.len() - 1],
        bytes_per_family: (bytes_after - bytes_before) as f64 / count as f64,
    }))
}

/// A new client with `count` live families of the bench user.
fn seed_client(store: &Store, name: &'static str, count: usize) -> Result<ClientId, BenchError> {
    let now = Clock::default().now();
    let spec = ClientSpec::parse(
        name,
        &["http://127.0.0.1:9/cb".into()],
        &["profile".into()],
        &GrantType::ALL,
        false,
    )
    .map_err(setup)?;
    let (client, _) = store
        .create_client(Actor::Local, spec, now)
        .map_err(setup)?;
    store
        .seed_families(&client.id, "bench", "profile", count, now)
        .map_err(setup)?;
    Ok(client.id)
}
