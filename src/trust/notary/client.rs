//! Reading a GUN's trust data from a Notary server: `GET
//! /v2/<gun>/_trust/tuf/<role>.json` (and `<version>.root.json` for rotations) over HTTPS,
//! each file read no further than its cap. The trust data of a GUN is read and verified once
//! per run, however many images of it are checked, so one run sees one version of it.

use super::verify::{self, Failure, Question, Repository, Store};
use super::{Admission, NotaryPolicy};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Loaded = Arc<OnceCell<Result<Arc<Repository>, Failure>>>;
/// Builds an HTTPS client trusting the system's roots plus a PEM of CA certificates.
type MakeClient = dyn Fn(Option<&[u8]>) -> Result<reqwest::Client, String> + Send + Sync;
/// Trust data is read once per server, GUN and set of roles.
type LoadKey = (String, String, Vec<String>);

/// The Notary side of one run: HTTP clients per server and the trust data read so far.
pub struct NotaryClient {
    make_client: Box<MakeClient>,
    clients: Mutex<HashMap<Option<Vec<u8>>, reqwest::Client>>,
    loaded: Mutex<HashMap<LoadKey, Loaded>>,
}

impl NotaryClient {
    /// `make_client` builds an HTTPS client trusting the system's roots plus the given PEM.
    pub fn new(
        make_client: impl Fn(Option<&[u8]>) -> Result<reqwest::Client, String> + Send + Sync + 'static,
    ) -> NotaryClient {
        NotaryClient {
            make_client: Box::new(make_client),
            clients: Mutex::new(HashMap::new()),
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the trust data of `gun` admits the manifest `sha256_hex` (`length` bytes)
    /// under `tag` (or, by digest, under any tag).
    pub async fn check(
        &self,
        policy: &NotaryPolicy,
        gun: &str,
        tag: Option<&str>,
        sha256_hex: &str,
        length: u64,
    ) -> Result<Admission, Failure> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let question = Question {
            gun,
            tag,
            sha256_hex,
            length,
            now,
        };
        let client = self.client(policy)?;
        let cell = {
            let key = (
                policy.server.clone(),
                gun.to_string(),
                policy.delegations.clone(),
            );
            let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(loaded.entry(key).or_default())
        };
        let store = HttpStore {
            client: &client,
            base: format!(
                "{}/v2/{}/_trust/tuf/",
                policy.server.trim_end_matches('/'),
                gun
            ),
            server: &policy.server,
        };
        let repository = cell
            .get_or_init(|| async { verify::load(&store, policy, &question).await.map(Arc::new) })
            .await
            .clone()?;
        verify::admit(&repository, policy, &question)
    }

    fn client(&self, policy: &NotaryPolicy) -> Result<reqwest::Client, Failure> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&policy.ca_pem) {
            return Ok(client.clone());
        }
        let client = (self.make_client)(policy.ca_pem.as_deref()).map_err(Failure::Broken)?;
        clients.insert(policy.ca_pem.clone(), client.clone());
        Ok(client)
    }
}

struct HttpStore<'a> {
    client: &'a reqwest::Client,
    base: String,
    server: &'a str,
}

impl Store for HttpStore<'_> {
    async fn get(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, Failure> {
        let url = format!("{}{name}.json", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| Failure::Broken(describe(self.server, &e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(Failure::Broken(format!(
                "the Notary server {} refused to serve {name}.json (HTTP {}): authenticated \
                 Notary servers are not supported yet",
                self.server,
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(Failure::Broken(format!(
                "the Notary server {} answered HTTP {} for {name}.json",
                self.server,
                status.as_u16()
            )));
        }
        if response.content_length().is_some_and(|l| l > max) {
            return Err(too_large(name, max));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Failure::Broken(describe(self.server, &e)))?;
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(too_large(name, max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}

fn too_large(name: &str, max: u64) -> Failure {
    Failure::Refused(format!(
        "{name}.json is larger than the {max} bytes it may have"
    ))
}

/// A transport error with its causes (TLS errors are several levels down), no URL query.
fn describe(server: &str, error: &reqwest::Error) -> String {
    let mut text = format!("cannot read trust data from {server}: ");
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        let part = e.to_string();
        if !parts.iter().any(|p| p.contains(&part)) {
            parts.push(part);
        }
        cause = e.source();
    }
    text.push_str(&parts.join(": "));
    text
}
