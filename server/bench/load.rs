//! The load generator: one keep-alive HTTP/1 connection per worker (plain
//! hyper, no pool), every worker on one current-thread runtime on its own
//! thread, requests built from parts prepared before the clock starts (the
//! URI, the headers and each family's body are cheap reference-counted
//! clones), answers read whole and checked. The flow workload alone goes
//! through the cookie-keeping browser.

use super::args::Workload;
use super::browser::Browser;
use super::partner::{Partner, Tokens};
use super::report::{Outcome, Sample};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Where and what one run sends.
pub struct Plan {
    pub workload: Workload,
    pub addr: SocketAddr,
    pub partner: Partner,
    pub families: Arc<Mutex<Vec<Tokens>>>,
    pub concurrency: usize,
    pub deadline: Instant,
    pub budget: Arc<AtomicUsize>,
    pub done: Arc<AtomicUsize>,
}

/// Runs the plan to its deadline or budget on a current-thread runtime of its
/// own; every sample, in no particular order.
pub fn run(plan: Plan) -> Vec<Sample> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return vec![Sample {
                micros: 0,
                outcome: Outcome::Failed(error.to_string()),
            }]
        }
    };
    runtime.block_on(async {
        let plan = Arc::new(plan);
        let count = plan.families.lock().map(|f| f.len()).unwrap_or(0);
        let workers: Vec<_> = (0..plan.concurrency)
            .map(|worker| {
                // Each worker owns the families congruent to its index, so no
                // two workers ever rotate the same family.
                let owned: Vec<usize> = (worker..count).step_by(plan.concurrency).collect();
                tokio::spawn(work(plan.clone(), owned))
            })
            .collect();
        let mut samples = Vec::new();
        for worker in workers {
            samples.extend(worker.await.unwrap_or_default());
        }
        samples
    })
}

/// The parts of a request that never change during a run.
struct Parts {
    method: Method,
    uri: Uri,
    host: HeaderValue,
    authorization: Option<HeaderValue>,
    form: bool,
}

fn parts(plan: &Plan) -> Parts {
    let host = HeaderValue::from_str(&plan.addr.to_string())
        .unwrap_or(HeaderValue::from_static("localhost"));
    let basic = HeaderValue::from_str(&plan.partner.basic()).ok();
    let (method, path, authorization, form) = match plan.workload {
        Workload::Floor => (Method::GET, "/".to_owned(), None, false),
        Workload::Introspect => (Method::POST, "/introspect".to_owned(), basic, true),
        Workload::Me => (Method::GET, "/api/public/v1/me".to_owned(), None, false),
        Workload::Refresh | Workload::RefreshWindow => {
            (Method::POST, "/token".to_owned(), basic, true)
        }
        Workload::AuthorizeFlood => (Method::GET, plan.partner.authorize_path(), None, false),
        _ => (Method::GET, "/livez".to_owned(), None, false),
    };
    Parts {
        method,
        uri: path.parse().unwrap_or_else(|_| Uri::from_static("/")),
        host,
        authorization,
        form,
    }
}

/// A family's body or header for this workload.
fn per_family(workload: Workload, tokens: &Tokens) -> (Bytes, Option<HeaderValue>) {
    match workload {
        Workload::Introspect => (Bytes::from(format!("token={}", tokens.access)), None),
        Workload::Me => (
            Bytes::new(),
            HeaderValue::from_str(&format!("Bearer {}", tokens.access)).ok(),
        ),
        Workload::Refresh | Workload::RefreshWindow => (
            Bytes::from(format!(
                "grant_type=refresh_token&refresh_token={}",
                tokens.refresh
            )),
            None,
        ),
        _ => (Bytes::new(), None),
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The new pair in a refresh answer.
#[derive(serde::Deserialize)]
struct Rotated {
    access_token: String,
    refresh_token: String,
}

async fn work(plan: Arc<Plan>, owned: Vec<usize>) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(4096);
    let parts = parts(&plan);
    let needs_family = matches!(
        plan.workload,
        Workload::Introspect | Workload::Me | Workload::Refresh | Workload::RefreshWindow
    );
    let mut mine: Vec<(usize, Tokens)> = match plan.families.lock() {
        Ok(families) => owned
            .iter()
            .filter_map(|&slot| Some((slot, families.get(slot)?.clone())))
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut prepared: Vec<(Bytes, Option<HeaderValue>)> = mine
        .iter()
        .map(|(_, tokens)| per_family(plan.workload, tokens))
        .collect();
    if needs_family && mine.is_empty() {
        return samples;
    }
    let mut browser = (plan.workload == Workload::Flow).then(|| Browser::new(&plan.partner.base));
    let mut sender: Option<Sender> = None;
    let mut turn = 0usize;
    while Instant::now() < plan.deadline
        && plan
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    {
        let begun = Instant::now();
        let index = if mine.is_empty() {
            0
        } else {
            turn % mine.len()
        };
        turn += 1;
        let outcome = if let Some(browser) = browser.as_mut() {
            plan.partner.flow(browser).await
        } else {
            let (body, authorization) =
                prepared.get(index).cloned().unwrap_or((Bytes::new(), None));
            let mut request = Request::new(Full::new(body));
            *request.method_mut() = parts.method.clone();
            *request.uri_mut() = parts.uri.clone();
            let headers = request.headers_mut();
            headers.insert(HOST, parts.host.clone());
            if let Some(value) = authorization.or_else(|| parts.authorization.clone()) {
                headers.insert(AUTHORIZATION, value);
            }
            if parts.form {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
            match send(&mut sender, plan.addr, request).await {
                Ok((200, body)) if plan.workload.rotates() => {
                    match serde_json::from_slice::<Rotated>(&body) {
                        Ok(rotated) => {
                            let tokens = Tokens {
                                access: rotated.access_token,
                                refresh: rotated.refresh_token,
                            };
                            prepared[index] = per_family(plan.workload, &tokens);
                            mine[index].1 = tokens;
                            Outcome::Ok
                        }
                        Err(error) => Outcome::Failed(error.to_string()),
                    }
                }
                Ok((status, body)) => Outcome::answer(status, &body),
                Err(error) => Outcome::Failed(error),
            }
        };
        samples.push(Sample {
            micros: begun.elapsed().as_micros() as u32,
            outcome,
        });
        plan.done.fetch_add(1, Ordering::Relaxed);
    }
    if plan.workload.rotates() {
        if let Ok(mut families) = plan.families.lock() {
            for (slot, tokens) in mine {
                families[slot] = tokens;
            }
        }
    }
    samples
}

/// Sends on the worker's connection, opening it (again) if needed.
async fn send(
    sender: &mut Option<Sender>,
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<(u16, Bytes), String> {
    let connection = match sender {
        Some(connection) if !connection.is_closed() => connection,
        _ => sender.insert(connect(addr).await?),
    };
    if let Err(error) = connection.ready().await {
        *sender = None;
        return Err(error.to_string());
    }
    let response = match connection.send_request(request).await {
        Ok(response) => response,
        Err(error) => {
            *sender = None;
            return Err(error.to_string());
        }
    };
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}
