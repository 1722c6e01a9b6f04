//! The registry source: the distribution API (`/v2/`) over one HTTP client.
//!
//! Requests go through `reqwest` directly (the client `oci-client` is built on, sharing its
//! TLS stack) rather than through `oci-client`'s pull API, because a security gate needs what
//! that API does not offer: bodies capped *while* reading (its `pull_manifest_raw` buffers the
//! whole response), the token exchange's errors surfaced instead of falling back to anonymous,
//! bounded retries, and Docker's HTTPS-then-HTTP rule for insecure registries. The manifest
//! types and media types are `oci-client`'s.
//!
//! Per run: one endpoint check (`GET /v2/`, which also yields the auth challenge) per registry,
//! one authorization per repository (a bearer token is minted again when it expires or the
//! registry answers 401 to it, once per stale token), one manifest request per tag (the tag
//! resolves once to a digest; everything after is fetched by digest), one request per digest
//! (a cache of verified content). Requests in flight are bounded by a semaphore; 429 and 5xx answers (and broken
//! connections) are retried with exponential backoff, a bounded number of times.
//!
//! TLS uses the system's roots plus `--ca-file`. Only registries listed as insecure are tried
//! with HTTPS without certificate checks and then over plain HTTP. Redirects (blob storage) are
//! followed at most 5 times, never from HTTPS to HTTP, and `reqwest` drops the `Authorization`
//! header when a redirect leaves the host.

use futures_util::future::join_all;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Client, RequestBuilder, StatusCode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::collections::HashMap;
use std::error::Error as _;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, Semaphore};

use super::auth::{AuthConfig, Credential, Found};
use super::digest::{shorten, Digest};
use super::error::{ErrorKind, ImageError};
use super::facts::{ImageFacts, Layer, Platform, Signatures};
use super::layers::{body_reader, LayerReader};
use super::manifest::{parse_manifest, Descriptor, Manifest, MANIFEST_ACCEPT};
use super::reference::{ImageReference, DEFAULT_REGISTRY, IMPLIED_TAG};
use super::resolve::{
    verify, verify_digest, ContentKind, ContentStore, LayerStore, Limits, Resolver, TopLevel,
};
use super::source::FetchOptions;

/// Where Docker Hub's registry API lives.
const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// How much of an error response (or an ignored body) is read.
const ERROR_BODY_MAX: u64 = 64 * 1024;
/// Largest token response accepted.
const TOKEN_BODY_MAX: u64 = 1024 * 1024;
const MAX_REDIRECTS: usize = 5;
/// A token's life when the token endpoint does not say (the distribution spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// A token this close to its end (or, if it lives less than twice this, half-way through its
/// life) is minted again before use rather than sent to be refused.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(5);
/// Longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
const USER_AGENT: &str = concat!("portcullis/", env!("CARGO_PKG_VERSION"));
/// The longest one layer download may take (its chunks must also keep coming: see
/// [`Body::Stream`]).
const MAX_STREAM_TIME: Duration = Duration::from_secs(6 * 3600);

/// The registry side of a [`super::Fetcher`]: HTTP clients, caches and limits for one run.
pub(crate) struct RegistryClient {
    verified: Client,
    /// Without certificate checks: only for registries listed as insecure.
    unverified: Option<Client>,
    insecure: Vec<String>,
    auth: AuthConfig,
    timeout: Duration,
    retries: u32,
    retry_base_delay: Duration,
    permits: Semaphore,
    endpoints: Cells<String, Endpoint>,
    authorizations: Cells<(String, String), Arc<RepoAuth>>,
    tops: Cells<String, Top>,
    contents: Cells<String, Vec<u8>>,
    scrubber: Scrubber,
    signatures: bool,
    signature_repositories: std::collections::BTreeMap<String, String>,
}

impl RegistryClient {
    pub(crate) fn new(options: &FetchOptions) -> Result<RegistryClient, ImageError> {
        let certificates = match &options.ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let verified = build_client(options, &certificates, false)?;
        let insecure: Vec<String> = options
            .insecure_registries
            .iter()
            .map(|r| normalize_host(r))
            .filter(|r| !r.is_empty())
            .collect();
        let unverified = if insecure.is_empty() {
            None
        } else {
            Some(build_client(options, &certificates, true)?)
        };
        Ok(RegistryClient {
            verified,
            unverified,
            insecure,
            auth: options.auth.clone(),
            timeout: options.timeout,
            retries: options.retries,
            retry_base_delay: options.retry_base_delay,
            permits: Semaphore::new(options.max_concurrency.max(1)),
            endpoints: Cells::default(),
            authorizations: Cells::default(),
            tops: Cells::default(),
            contents: Cells::default(),
            scrubber: Scrubber::default(),
            signatures: options.signatures,
            signature_repositories: options.signature_repositories.clone(),
        })
    }

    /// Facts of one `docker://` target.
    pub(crate) async fn fetch(
        &self,
        target: &str,
        reference: &ImageReference,
        platform: Option<&Platform>,
        limits: Limits,
        layers: Option<&LayerReader>,
    ) -> Result<ImageFacts, ImageError> {
        let endpoint = self.endpoint(&reference.registry).await?;
        let authorization = self.authorization(&endpoint, &reference.repository).await?;
        let repo = Repository {
            client: self,
            endpoint: &endpoint,
            name: &reference.repository,
            auth: &authorization,
        };
        let top = self
            .tops
            .cell(reference.to_string())
            .get_or_try_init(|| repo.top_manifest(target, reference, limits.manifest_bytes))
            .await?
            .clone();
        let digest = top.digest.to_string();
        let size = top.bytes.len() as u64;
        let signed = top.digest.clone();
        let resolver = Resolver {
            store: &repo,
            target,
            platform,
            limits,
        };
        let mut resolved = resolver
            .resolve(TopLevel {
                bytes: top.bytes,
                digest: top.digest,
                declared: None,
                content_type: top.content_type,
            })
            .await?;
        if let Some(layers) = layers {
            layers.fill(&repo, target, &mut resolved.platforms).await?;
        }
        let signatures = if !self.signatures {
            Signatures::NotRequested
        } else if let Some(elsewhere) = self.signature_repositories.get(&reference.policy_name()) {
            // The policy keeps this image's signatures in another repository.
            let other =
                ImageReference::parse(elsewhere).map_err(|e| ImageError::InvalidTarget {
                    target: elsewhere.clone(),
                    reason: e.to_string(),
                })?;
            let endpoint = self.endpoint(&other.registry).await?;
            let authorization = self.authorization(&endpoint, &other.repository).await?;
            let store = Repository {
                client: self,
                endpoint: &endpoint,
                name: &other.repository,
                auth: &authorization,
            };
            Signatures::Found(store.signatures(&signed, limits).await?)
        } else {
            Signatures::Found(repo.signatures(&signed, limits).await?)
        };
        Ok(ImageFacts {
            target: target.to_string(),
            reference: Some(reference.clone()),
            digest,
            media_type: Some(resolved.media_type),
            size,
            platforms: resolved.platforms,
            signatures,
            notary: Default::default(),
        })
    }

    fn is_insecure(&self, host: &str) -> bool {
        let host = normalize_host(host);
        let bare = strip_port(&host);
        self.insecure
            .iter()
            .any(|entry| *entry == host || (!has_port(entry) && entry == bare))
    }

    /// The registry's base URL and auth challenge, found once per run.
    async fn endpoint(&self, registry: &str) -> Result<Endpoint, ImageError> {
        self.endpoints
            .cell(registry.to_string())
            .get_or_try_init(|| self.discover(registry))
            .await
            .cloned()
    }

    async fn discover(&self, registry: &str) -> Result<Endpoint, ImageError> {
        let api_host = if registry == DEFAULT_REGISTRY {
            DOCKER_HUB_API_HOST
        } else {
            registry
        };
        let https = format!("https://{api_host}");
        match (&self.unverified, self.is_insecure(registry)) {
            (Some(unverified), true) => match self.ping(registry, https, unverified).await {
                Ok(endpoint) => Ok(endpoint),
                Err(e) if falls_back_to_http(&e) => {
                    self.ping(registry, format!("http://{api_host}"), &self.verified)
                        .await
                }
                Err(e) => Err(e),
            },
            _ => self.ping(registry, https, &self.verified).await,
        }
    }

    /// `GET /v2/`: is this a registry, and how does it want us to authenticate?
    async fn ping(
        &self,
        registry: &str,
        base: String,
        client: &Client,
    ) -> Result<Endpoint, ImageError> {
        let url = format!("{base}/v2/");
        let what = format!("registry check {url}");
        let reply = self
            .send(registry, &what, || client.get(&url), ERROR_BODY_MAX, false)
            .await?;
        let challenge = if reply.status.is_success() {
            Challenge::Open
        } else if reply.status == StatusCode::UNAUTHORIZED {
            reply
                .headers
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(parse_challenge)
                .max_by_key(|c| matches!(c, Challenge::Bearer { .. }))
                .unwrap_or(Challenge::Basic)
        } else {
            return Err(ImageError::Registry {
                what,
                status: reply.status.as_u16(),
                detail: Some(format!(
                    "{api} (is this a container registry?)",
                    api = self
                        .error_detail(&reply.body)
                        .unwrap_or_else(|| "no /v2/ API".into())
                )),
            });
        };
        Ok(Endpoint {
            registry: registry.to_string(),
            base,
            client: client.clone(),
            challenge,
        })
    }

    /// The authorization for pulling from one repository, found once per run (credentials
    /// looked up once; a bearer token minted again as it goes stale, see [`RepoAuth`]).
    async fn authorization(
        &self,
        endpoint: &Endpoint,
        repository: &str,
    ) -> Result<Arc<RepoAuth>, ImageError> {
        self.authorizations
            .cell((endpoint.registry.clone(), repository.to_string()))
            .get_or_try_init(|| async {
                let authorization = if matches!(endpoint.challenge, Challenge::Open) {
                    Authorization::default()
                } else {
                    let found = self.credentials(&endpoint.registry, repository).await?;
                    self.authorize(endpoint, repository, found).await?
                };
                Ok(Arc::new(RepoAuth {
                    current: Mutex::new(authorization),
                    renewing: tokio::sync::Mutex::new(()),
                }))
            })
            .await
            .cloned()
    }

    /// The `Authorization` header for `found` (basic, a static token, or a bearer token
    /// minted at the challenge's token endpoint).
    async fn authorize(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        found: Option<Found>,
    ) -> Result<Authorization, ImageError> {
        let mut renew_at = None;
        let header = match (&endpoint.challenge, found.as_ref().map(|f| &f.credential)) {
            (Challenge::Open, _) => None,
            (_, Some(Credential::BearerToken(token))) => {
                Some(bearer(token.expose(), &endpoint.registry)?)
            }
            (Challenge::Basic, Some(Credential::Basic { username, password })) => {
                Some(basic(username, password.expose()))
            }
            (Challenge::Basic, _) => None,
            (Challenge::Bearer { realm, service }, credential) => {
                let (token, lifetime) = self
                    .token(
                        endpoint,
                        realm,
                        service.as_deref(),
                        repository,
                        found.as_ref(),
                        credential,
                    )
                    .await?;
                renew_at = Some(Instant::now() + lifetime - TOKEN_EXPIRY_MARGIN.min(lifetime / 2));
                Some(bearer(&token, &endpoint.registry)?)
            }
        };
        Ok(Authorization {
            header,
            found,
            renew_at,
        })
    }

    /// Looks credentials up (files, helpers) off the async threads.
    async fn credentials(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Found>, ImageError> {
        let auth = self.auth.clone();
        let (registry_owned, repository) = (registry.to_string(), repository.to_string());
        let found = tokio::task::spawn_blocking(move || auth.lookup(&registry_owned, &repository))
            .await
            .map_err(|e| ImageError::Credentials {
                registry: registry.to_string(),
                detail: format!("lookup stopped unexpectedly: {e}"),
            })??;
        if let Some(found) = &found {
            self.scrubber.add(found.credential.secret().expose());
            if let Credential::Basic { username, password } = &found.credential {
                self.scrubber
                    .add(&base64_of(&format!("{username}:{}", password.expose())));
            }
        }
        Ok(found)
    }

    /// The bearer-token exchange at the registry's token endpoint (`realm`): the token and how
    /// long it lives (`expires_in`, 60 s when not said).
    #[allow(clippy::too_many_arguments)]
    async fn token(
        &self,
        endpoint: &Endpoint,
        realm: &str,
        service: Option<&str>,
        repository: &str,
        found: Option<&Found>,
        credential: Option<&Credential>,
    ) -> Result<(String, Duration), ImageError> {
        let registry = &endpoint.registry;
        let mut url = reqwest::Url::parse(realm).map_err(|_| {
            ImageError::malformed(
                format!("auth challenge of {registry}"),
                format!("token realm `{}` is not a URL", shorten(realm)),
            )
        })?;
        let realm_host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => String::new(),
        };
        let realm_insecure = self.is_insecure(&realm_host);
        match url.scheme() {
            "https" => {}
            "http" if credential.is_none() || realm_insecure => {}
            "http" => {
                return Err(ImageError::Credentials {
                    registry: registry.clone(),
                    detail: format!(
                        "its token endpoint {realm_host} is plain HTTP; refusing to send credentials there (list it with --insecure-registry to allow)"
                    ),
                })
            }
            other => {
                return Err(ImageError::malformed(
                    format!("auth challenge of {registry}"),
                    format!("token realm has scheme `{other}`"),
                ))
            }
        }
        let client = match (&self.unverified, realm_insecure) {
            (Some(unverified), true) => unverified,
            _ => &self.verified,
        };
        let scope = format!("repository:{repository}:pull");
        let what = format!("token request to {realm_host} for {registry}/{repository}");
        let reply = match credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                    ("client_id", "portcullis"),
                    ("scope", scope.as_str()),
                ];
                if let Some(service) = service {
                    form.push(("service", service));
                }
                let body = form_encode(&form);
                self.send(
                    &realm_host,
                    &what,
                    || {
                        client
                            .post(url.clone())
                            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .body(body.clone())
                    },
                    TOKEN_BODY_MAX,
                    true,
                )
                .await?
            }
            _ => {
                {
                    let mut query = url.query_pairs_mut();
                    query.append_pair("scope", &scope);
                    if let Some(service) = service {
                        query.append_pair("service", service);
                    }
                }
                let make = || {
                    let request = client.get(url.clone());
                    match credential {
                        Some(Credential::Basic { username, password }) => {
                            request.basic_auth(username, Some(password.expose()))
                        }
                        _ => request,
                    }
                };
                self.send(&realm_host, &what, make, TOKEN_BODY_MAX, true)
                    .await?
            }
        };
        match reply.status.as_u16() {
            200..=299 => {}
            status @ (401 | 403) => {
                return Err(self.auth_denied(registry, repository, status, &reply.body, found))
            }
            status => {
                return Err(ImageError::Registry {
                    what,
                    status,
                    detail: self.error_detail(&reply.body),
                })
            }
        }
        let response: TokenResponse = serde_json::from_slice(&reply.body)
            .map_err(|_| ImageError::malformed(&what, "the answer is not a token response"))?;
        let token = response
            .token
            .filter(|t| !t.is_empty())
            .or(response.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| ImageError::malformed(&what, "the answer has no token"))?;
        self.scrubber.add(&token);
        let lifetime = response
            .expires_in
            .filter(|&seconds| seconds > 0)
            .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs);
        Ok((token, lifetime))
    }

    fn auth_denied(
        &self,
        registry: &str,
        repository: &str,
        status: u16,
        body: &[u8],
        found: Option<&Found>,
    ) -> ImageError {
        let tried = match found {
            Some(found) => format!("{found} was not accepted"),
            None => format!("no credentials found for {registry}"),
        };
        let detail = match self.error_detail(body) {
            Some(server) => format!("{server}; {tried}"),
            None => tried,
        };
        ImageError::AuthDenied {
            registry: registry.to_string(),
            repository: repository.to_string(),
            status,
            detail: Some(detail),
        }
    }

    /// Sends a request, retrying 429, 5xx and broken connections with exponential backoff, and
    /// reads the body: a success body up to `limit` (more is [`ImageError::TooLarge`] when
    /// `strict`, cut off otherwise); an error body up to [`ERROR_BODY_MAX`].
    async fn send(
        &self,
        host: &str,
        what: &str,
        make: impl Fn() -> RequestBuilder,
        limit: u64,
        strict: bool,
    ) -> Result<Reply, ImageError> {
        self.send_with(host, what, make, Body::Read { limit, strict })
            .await
    }

    /// [`RegistryClient::send`], the body read as `body` says.
    async fn send_with(
        &self,
        host: &str,
        what: &str,
        make: impl Fn() -> RequestBuilder,
        body: Body,
    ) -> Result<Reply, ImageError> {
        let mut attempt = 0u32;
        loop {
            let outcome = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| ImageError::Setup("request limiter closed".into()))?;
                self.send_once(make(), host, what, body).await
            };
            let delay = match &outcome {
                Ok(reply) if is_retryable(reply.status) => {
                    Some(retry_after(&reply.headers).unwrap_or_else(|| self.backoff(attempt)))
                }
                Err(e) if e.kind() == ErrorKind::Network => Some(self.backoff(attempt)),
                _ => None,
            };
            match delay {
                Some(delay) if attempt < self.retries => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return outcome,
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry_base_delay
            .saturating_mul(1u32 << attempt.min(10))
            .min(MAX_RETRY_AFTER)
    }

    async fn send_once(
        &self,
        request: RequestBuilder,
        host: &str,
        what: &str,
        body: Body,
    ) -> Result<Reply, ImageError> {
        let mut response = match body {
            Body::Read { .. } => request.send().await,
            // A blob may take longer than a request may: the request is timed up to its
            // headers, the body by the reader (no chunk for `timeout` is a timeout).
            Body::Stream => {
                match tokio::time::timeout(self.timeout, request.timeout(MAX_STREAM_TIME).send())
                    .await
                {
                    Ok(sent) => sent,
                    Err(_) => {
                        return Err(ImageError::Timeout {
                            what: what.to_string(),
                            after: self.timeout,
                        })
                    }
                }
            }
        }
        .map_err(|e| self.classify(&e, host, what))?;
        let status = response.status();
        let headers = response.headers().clone();
        let (limit, strict) = match body {
            _ if !status.is_success() => (ERROR_BODY_MAX, false),
            Body::Read { limit, strict } => (limit, strict),
            Body::Stream => {
                return Ok(Reply {
                    status,
                    headers,
                    body: Vec::new(),
                    stream: Some(response),
                })
            }
        };
        if strict && response.content_length().is_some_and(|len| len > limit) {
            return Err(ImageError::TooLarge {
                what: what.to_string(),
                limit,
            });
        }
        let capacity = response
            .content_length()
            .unwrap_or(0)
            .min(limit)
            .min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.classify(&e, host, what))?
        {
            let remaining =
                usize::try_from(limit.saturating_sub(body.len() as u64)).unwrap_or(usize::MAX);
            if chunk.len() > remaining {
                if strict {
                    return Err(ImageError::TooLarge {
                        what: what.to_string(),
                        limit,
                    });
                }
                body.extend_from_slice(chunk.get(..remaining).unwrap_or_default());
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body,
            stream: None,
        })
    }

    /// A transport error as an [`ImageError`] of the right kind, without URLs' secrets (there
    /// are none in our URLs) and with the root cause.
    fn classify(&self, error: &reqwest::Error, host: &str, what: &str) -> ImageError {
        if error.is_timeout() {
            return ImageError::Timeout {
                what: what.to_string(),
                after: self.timeout,
            };
        }
        let mut root = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            if let Some(tls) = find_tls_error(cause) {
                return ImageError::Tls {
                    host: host.to_string(),
                    detail: tls.to_string(),
                };
            }
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return ImageError::ConnectionRefused {
                            host: host.to_string(),
                        }
                    }
                    std::io::ErrorKind::TimedOut => {
                        return ImageError::Timeout {
                            what: what.to_string(),
                            after: self.timeout,
                        }
                    }
                    _ => {}
                }
            }
            root = cause.to_string();
            source = cause.source();
        }
        let detail = if error.is_redirect() {
            format!("redirect not followed: {root}")
        } else if error.is_body() || error.is_decode() {
            format!("the response broke off ({root})")
        } else {
            root
        };
        ImageError::Network {
            what: what.to_string(),
            detail: self.scrubber.scrub(&detail),
        }
    }

    /// `CODE: message` from a registry error body, or its first line; scrubbed of secrets.
    fn error_detail(&self, body: &[u8]) -> Option<String> {
        let parsed: Option<ErrorsBody> = serde_json::from_slice(body).ok();
        let text = match parsed.and_then(|b| b.errors.into_iter().next()) {
            Some(e) => match (e.code, e.message) {
                (Some(code), Some(message)) if !message.is_empty() => format!("{code}: {message}"),
                (Some(code), _) => code,
                (None, Some(message)) => message,
                (None, None) => return None,
            },
            None => {
                let text = String::from_utf8_lossy(body);
                let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
                line.to_string()
            }
        };
        Some(self.scrubber.scrub(&shorten(&text)))
    }
}

/// One repository on one registry, authorized: the [`ContentStore`] the resolver reads from.
struct Repository<'a> {
    client: &'a RegistryClient,
    endpoint: &'a Endpoint,
    name: &'a str,
    auth: &'a RepoAuth,
}

impl Repository<'_> {
    /// Fetches the manifest a reference names (by digest if it has one, else by tag) and
    /// verifies it: against the pinned digest, and against `Docker-Content-Digest` if sent.
    async fn top_manifest(
        &self,
        target: &str,
        reference: &ImageReference,
        max: u64,
    ) -> Result<Top, ImageError> {
        let pinned = match &reference.digest {
            Some(digest) => Some(
                Digest::parse(digest).map_err(|e| ImageError::InvalidTarget {
                    target: target.to_string(),
                    reason: e.to_string(),
                })?,
            ),
            None => None,
        };
        let object = match &pinned {
            Some(digest) => digest.to_string(),
            None => reference.effective_tag().unwrap_or(IMPLIED_TAG).to_string(),
        };
        let what = format!("manifest {object} of {target}");
        let reply = self
            .get("manifests", &object, MANIFEST_ACCEPT, max, &what)
            .await?;
        let header_digest = reply
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v.trim()).ok());
        if let Some(header) = &header_digest {
            verify_digest(&what, header, &reply.body)?;
        }
        let digest = match pinned {
            Some(pinned) => {
                verify_digest(&what, &pinned, &reply.body)?;
                pinned
            }
            None => header_digest.unwrap_or_else(|| Digest::sha256_of(&reply.body)),
        };
        let content_type = reply
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Top {
            bytes: reply.body,
            digest,
            content_type,
        })
    }

    /// `GET /v2/<name>/<kind>/<object>`, with errors mapped to what they mean.
    async fn get(
        &self,
        kind: &str,
        object: &str,
        accept: &str,
        max: u64,
        what: &str,
    ) -> Result<Reply, ImageError> {
        let body = Body::Read {
            limit: max,
            strict: true,
        };
        self.get_with(kind, object, accept, body, what).await
    }

    /// [`Repository::get`], the body read as `body` says.
    async fn get_with(
        &self,
        kind: &str,
        object: &str,
        accept: &str,
        body: Body,
        what: &str,
    ) -> Result<Reply, ImageError> {
        let url = format!("{}/v2/{}/{kind}/{object}", self.endpoint.base, self.name);
        let client = &self.endpoint.client;
        let mut authorization = self.fresh_authorization().await?;
        let mut renewed = false;
        let reply = loop {
            let make = || {
                let request = client.get(&url).header(ACCEPT, accept);
                match &authorization.header {
                    Some(value) => request.header(AUTHORIZATION, value.clone()),
                    None => request,
                }
            };
            let reply = self
                .client
                .send_with(&self.endpoint.registry, what, make, body)
                .await?;
            // A minted token the registry no longer takes (expired early, revoked): mint
            // another and ask once more. A refusal of a fresh token is final.
            if reply.status == StatusCode::UNAUTHORIZED
                && authorization.renew_at.is_some()
                && !renewed
            {
                authorization = self.renew(&authorization).await?;
                renewed = true;
                continue;
            }
            break reply;
        };
        match reply.status.as_u16() {
            200..=299 => Ok(reply),
            status @ (401 | 403) => Err(self.client.auth_denied(
                &self.endpoint.registry,
                self.name,
                status,
                &reply.body,
                authorization.found.as_ref(),
            )),
            404 => Err(ImageError::NotFound {
                what: what.to_string(),
                detail: self.client.error_detail(&reply.body),
            }),
            status => Err(ImageError::Registry {
                what: what.to_string(),
                status,
                detail: self.client.error_detail(&reply.body),
            }),
        }
    }

    /// The current authorization, minted again first if its token has (nearly) expired.
    async fn fresh_authorization(&self) -> Result<Authorization, ImageError> {
        let current = self.auth.current();
        match current.renew_at {
            Some(renew_at) if Instant::now() >= renew_at => self.renew(&current).await,
            _ => Ok(current),
        }
    }

    /// Mints a new token in place of `stale`, unless another request already has: concurrent
    /// requests that find the same stale token cause one token request, not one each.
    async fn renew(&self, stale: &Authorization) -> Result<Authorization, ImageError> {
        let _turn = self.auth.renewing.lock().await;
        let current = self.auth.current();
        if current.header != stale.header {
            return Ok(current);
        }
        let renewed = self
            .client
            .authorize(self.endpoint, self.name, current.found)
            .await?;
        *self.auth.lock() = renewed.clone();
        Ok(renewed)
    }
}

impl ContentStore for Repository<'_> {
    async fn read(
        &self,
        kind: ContentKind,
        descriptor: &Descriptor,
        max: u64,
    ) -> Result<Vec<u8>, ImageError> {
        let digest = descriptor.digest.to_string();
        self.client
            .contents
            .cell(digest.clone())
            .get_or_try_init(|| async {
                let (path, accept) = match kind {
                    ContentKind::Manifest => ("manifests", MANIFEST_ACCEPT),
                    ContentKind::Config => ("blobs", "*/*"),
                };
                let what = format!(
                    "{} {digest} of {}/{}",
                    kind.as_str(),
                    self.endpoint.registry,
                    self.name
                );
                let reply = self.get(path, &digest, accept, max, &what).await?;
                // Only verified content enters the cache that other targets share.
                verify(&what, descriptor, &reply.body)?;
                Ok(reply.body)
            })
            .await
            .cloned()
    }
}

impl LayerStore for Repository<'_> {
    async fn open_layer(
        &self,
        _index: usize,
        layer: &Layer,
    ) -> Result<Box<dyn std::io::Read + Send>, ImageError> {
        let what = format!(
            "layer {} of {}/{}",
            layer.digest, self.endpoint.registry, self.name
        );
        let reply = self
            .get_with("blobs", &layer.digest, "*/*", Body::Stream, &what)
            .await?;
        let Some(response) = reply.stream else {
            return Err(ImageError::Setup(format!("{what}: no response to stream")));
        };
        if let Some(length) = response.content_length().filter(|&l| l != layer.size) {
            return Err(ImageError::SizeMismatch {
                what,
                expected: layer.size,
                actual: Some(length),
            });
        }
        Ok(Box::new(body_reader(response, self.client.timeout, what)))
    }
}

/// The layer media type of cosign's simple-signing payloads (the `.sig` tag's layers).
const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The artifact type (and layer media type) of a Sigstore bundle referrer.
const SIGSTORE_BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// At most this many signatures of one image are read.
const MAX_SIGNATURES: usize = 64;

impl Repository<'_> {
    /// Every signature of the image `digest` names, where cosign writes them: the layers of the
    /// `sha256-<hex>.sig` tag (cosign v2, and v3 with the old format), and Sigstore bundles
    /// among its OCI referrers (`/v2/<repo>/referrers/<digest>`, or the `sha256-<hex>` tag
    /// index where the registry has no referrers API). Every manifest and blob is checked
    /// against its digest and size-capped; a referrer whose `subject` is another image is
    /// skipped. None found is an empty list; a registry that fails is an error (exit 3).
    async fn signatures(
        &self,
        digest: &Digest,
        limits: Limits,
    ) -> Result<Vec<crate::trust::Found>, ImageError> {
        let tag = digest.to_string().replace(':', "-");
        let sig_tag = format!("{tag}.sig");
        // The `.sig` tag and the referrers API are asked at once: one round trip, not two.
        let (legacy, referrers) = futures_util::future::join(
            self.optional_manifest(&sig_tag, limits),
            self.referrers_index(digest, limits),
        )
        .await;
        let referrers = match referrers? {
            Some(index) => index,
            None => self.optional_index(&tag, limits).await?.unwrap_or_default(),
        };
        let layers: Vec<Descriptor> = legacy?
            .map(|manifest| manifest.layers)
            .unwrap_or_default()
            .into_iter()
            .filter(|l| l.media_type == SIMPLE_SIGNING)
            .take(MAX_SIGNATURES)
            .collect();
        let bundles: Vec<&Descriptor> = referrers
            .iter()
            .filter(|d| d.artifact_type.as_deref() == Some(SIGSTORE_BUNDLE))
            .take(MAX_SIGNATURES)
            .collect();
        let payloads = join_all(
            layers
                .iter()
                .map(|layer| self.read(ContentKind::Config, layer, limits.config_bytes)),
        );
        let referrers = join_all(
            bundles
                .iter()
                .map(|entry| self.bundle(entry, digest, limits)),
        );
        let (payloads, referrers) = futures_util::future::join(payloads, referrers).await;
        let mut found = Vec::new();
        for (layer, payload) in layers.iter().zip(payloads) {
            found.push(crate::trust::Found::Legacy {
                payload: payload?,
                annotations: layer.annotations.clone(),
            });
        }
        for bundles in referrers {
            found.extend(bundles?);
        }
        found.truncate(MAX_SIGNATURES);
        Ok(found)
    }

    /// The Sigstore bundles of one referrer, if its `subject` is the image `digest` names.
    async fn bundle(
        &self,
        entry: &Descriptor,
        digest: &Digest,
        limits: Limits,
    ) -> Result<Vec<crate::trust::Found>, ImageError> {
        let bytes = self
            .read(ContentKind::Manifest, entry, limits.manifest_bytes)
            .await?;
        if !subject_is(&bytes, digest) {
            return Ok(Vec::new());
        }
        let what = format!("referrer {} of {}", entry.digest, self.name);
        let Manifest::Image(artifact) =
            parse_manifest(&bytes, Some(&entry.media_type), None, &what)?
        else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for layer in artifact
            .layers
            .iter()
            .filter(|l| l.media_type == SIGSTORE_BUNDLE)
        {
            let bundle = self
                .read(ContentKind::Config, layer, limits.config_bytes)
                .await?;
            found.push(crate::trust::Found::Bundle { bundle });
        }
        Ok(found)
    }

    /// The manifest a tag names, verified against the digest the registry gives; `None` when
    /// the tag does not exist.
    async fn optional_manifest(
        &self,
        tag: &str,
        limits: Limits,
    ) -> Result<Option<super::manifest::ImageManifest>, ImageError> {
        let what = format!("signature manifest {tag} of {}", self.name);
        match self.tagged(tag, limits, &what).await? {
            Some(bytes) => match parse_manifest(&bytes, None, None, &what)? {
                Manifest::Image(image) => Ok(Some(*image)),
                Manifest::Index(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// The index a tag names (the referrers tag schema); `None` when the tag does not exist.
    async fn optional_index(
        &self,
        tag: &str,
        limits: Limits,
    ) -> Result<Option<Vec<Descriptor>>, ImageError> {
        let what = format!("referrers index {tag} of {}", self.name);
        match self.tagged(tag, limits, &what).await? {
            Some(bytes) => match parse_manifest(&bytes, None, None, &what)? {
                Manifest::Index(index) => Ok(Some(index.manifests)),
                Manifest::Image(_) => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// `GET /v2/<name>/referrers/<digest>`; `None` where the registry lacks the API (404).
    async fn referrers_index(
        &self,
        digest: &Digest,
        limits: Limits,
    ) -> Result<Option<Vec<Descriptor>>, ImageError> {
        let what = format!("referrers of {digest} in {}", self.name);
        let accept = "application/vnd.oci.image.index.v1+json";
        match self
            .get(
                "referrers",
                &digest.to_string(),
                accept,
                limits.manifest_bytes,
                &what,
            )
            .await
        {
            Ok(reply) => match parse_manifest(&reply.body, Some(accept), None, &what)? {
                Manifest::Index(index) => Ok(Some(index.manifests)),
                Manifest::Image(_) => Ok(None),
            },
            Err(ImageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bytes a tag names, checked against `Docker-Content-Digest` when sent; `None` for
    /// a tag that does not exist.
    async fn tagged(
        &self,
        tag: &str,
        limits: Limits,
        what: &str,
    ) -> Result<Option<Vec<u8>>, ImageError> {
        let reply = match self
            .get(
                "manifests",
                tag,
                MANIFEST_ACCEPT,
                limits.manifest_bytes,
                what,
            )
            .await
        {
            Ok(reply) => reply,
            Err(ImageError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if let Some(header) = reply
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v.trim()).ok())
        {
            verify_digest(what, &header, &reply.body)?;
        }
        Ok(Some(reply.body))
    }
}

/// Whether an artifact manifest's `subject` is the image `digest` names.
fn subject_is(manifest: &[u8], digest: &Digest) -> bool {
    serde_json::from_slice::<serde_json::Value>(manifest)
        .ok()
        .and_then(|v| {
            v.pointer("/subject/digest")
                .and_then(|d| d.as_str())
                .map(str::to_string)
        })
        .is_some_and(|subject| subject == digest.to_string())
}

/// A manifest fetched by tag or digest, verified.
#[derive(Clone)]
struct Top {
    bytes: Vec<u8>,
    digest: Digest,
    content_type: Option<String>,
}

#[derive(Clone)]
struct Endpoint {
    /// The registry as references name it (`docker.io`, `127.0.0.1:5000`).
    registry: String,
    /// `https://host[:port]` or, for insecure registries, possibly `http://…`.
    base: String,
    client: Client,
    challenge: Challenge,
}

/// How a registry wants to be authenticated to (from `WWW-Authenticate` on `/v2/`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    Open,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// The `Authorization` header for one repository (marked sensitive), the credential used, and,
/// for a token minted at the registry's token endpoint, when to mint another (shortly before
/// it expires).
#[derive(Clone, Default)]
struct Authorization {
    header: Option<HeaderValue>,
    found: Option<Found>,
    renew_at: Option<Instant>,
}

/// One repository's authorization, shared by every request to it during a run. Tokens from
/// the token endpoint live a few minutes (Docker Hub: 5, the spec's default: 1), less than a
/// long run: a token near its end is minted again before use, and a 401 to a minted token
/// gets one new token and one more try, as Docker and containerd do.
struct RepoAuth {
    current: Mutex<Authorization>,
    /// Held while a new token is minted, so that one stale token is replaced once.
    renewing: tokio::sync::Mutex<()>,
}

impl RepoAuth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Authorization> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current(&self) -> Authorization {
        self.lock().clone()
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The response, its body unread, for a successful [`Body::Stream`] request.
    stream: Option<reqwest::Response>,
}

/// How a successful response's body is read.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// Into memory, up to `limit` bytes (more is an error when `strict`, cut off otherwise).
    Read { limit: u64, strict: bool },
    /// Not at all: the caller streams it (layer blobs).
    Stream,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(serde::Deserialize)]
struct ErrorsBody {
    #[serde(default)]
    errors: Vec<RegistryErrorEntry>,
}

#[derive(serde::Deserialize)]
struct RegistryErrorEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Per-run memo: one cell per key, filled once (failures are not kept, so a later caller
/// tries again).
pub(crate) struct Cells<K, V>(Mutex<HashMap<K, Arc<OnceCell<V>>>>);

impl<K, V> Default for Cells<K, V> {
    fn default() -> Self {
        Cells(Mutex::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V> Cells<K, V> {
    pub(crate) fn cell(&self, key: K) -> Arc<OnceCell<V>> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(map.entry(key).or_default())
    }
}

/// Removes known secrets (passwords, tokens) from text that came from a server.
#[derive(Default)]
struct Scrubber(Mutex<Vec<String>>);

impl Scrubber {
    fn add(&self, secret: &str) {
        if secret.len() < 3 {
            return;
        }
        let mut secrets = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
        }
    }

    fn scrub(&self, text: &str) -> String {
        let secrets = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "<redacted>")
        })
    }
}

/// An HTTPS client as the registry client is built (timeouts, redirects, TLS on ring), with
/// the system's roots plus the CA certificates of `extra_pem`: for Notary servers.
pub(crate) fn https_client(
    options: &FetchOptions,
    extra_pem: Option<&[u8]>,
) -> Result<Client, String> {
    let certificates = match extra_pem {
        Some(pem) => pem_certificates(pem).map_err(|e| format!("the Notary `ca_file`: {e}"))?,
        None => Vec::new(),
    };
    build_client(options, &certificates, false).map_err(|e| e.to_string())
}

fn build_client(
    options: &FetchOptions,
    certificates: &[CertificateDer<'static>],
    accept_invalid_certificates: bool,
) -> Result<Client, ImageError> {
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() != "https"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if downgrade {
            attempt.error("refusing a redirect from HTTPS to plain HTTP")
        } else {
            attempt.follow()
        }
    });
    let builder = Client::builder()
        .user_agent(USER_AGENT)
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout.min(options.timeout))
        .redirect(redirects)
        .pool_max_idle_per_host(options.max_concurrency.max(1))
        .tls_backend_preconfigured(tls_config(certificates, accept_invalid_certificates)?);
    builder
        .build()
        .map_err(|e| ImageError::Setup(format!("cannot set up the HTTP client: {e}")))
}

fn read_ca_file(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, ImageError> {
    let fail =
        |detail: String| ImageError::Setup(format!("--ca-file {}: {detail}", path.display()));
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    pem_certificates(&pem).map_err(fail)
}

/// The certificates of a PEM text (`--ca-file`, a Notary `ca_file`): at least one.
fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certificates.is_empty() {
        return Err("no PEM certificates in it".into());
    }
    Ok(certificates)
}

/// The TLS configuration: the system's roots plus `--ca-file`, checked by the platform
/// verifier; or, for registries listed as insecure, no certificate check at all.
///
/// TLS runs on *ring* rather than reqwest's default aws-lc: aws-lc seeds its random
/// generator from CPU jitter on the first handshake, some 40 ms per process, which a gate
/// run once per CI job or per image list pays for nothing.
fn tls_config(
    extra_roots: &[CertificateDer<'static>],
    accept_invalid_certificates: bool,
) -> Result<rustls::ClientConfig, ImageError> {
    let setup = |e: rustls::Error| ImageError::Setup(format!("cannot set up TLS: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> =
        if accept_invalid_certificates {
            Arc::new(AcceptAnyCertificate(provider.clone()))
        } else {
            Arc::new(LazyPlatformVerifier::new(extra_roots, provider.clone()).map_err(setup)?)
        };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier (system roots plus `--ca-file`), built at the first certificate it
/// has to check. Loading the system's roots reads and parses every file of the CA directory
/// (some 3 ms); a run that only reaches plain-HTTP or insecure registries never needs them.
///
/// Nothing is relaxed: a handshake that needs a verified certificate builds the verifier
/// first, and if the roots cannot be loaded the handshake fails (the image is unevaluated).
/// The extra roots are checked up front, so a bad `--ca-file` is still a setup error.
#[derive(Debug)]
struct LazyPlatformVerifier {
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    verifier: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyPlatformVerifier {
    fn new(
        extra_roots: &[CertificateDer<'static>],
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<LazyPlatformVerifier, rustls::Error> {
        // What the platform verifier does with them, so that it fails here if it would fail.
        let mut roots = rustls::RootCertStore::empty();
        for root in extra_roots {
            roots.add(root.clone())?;
        }
        Ok(LazyPlatformVerifier {
            extra_roots: extra_roots.to_vec(),
            provider,
            verifier: std::sync::OnceLock::new(),
        })
    }

    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra_roots.iter().cloned(),
                    self.provider.clone(),
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl rustls::client::danger::ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// The platform verifier's schemes are its provider's, so the roots are not needed here
    /// (rustls asks for these in every `ClientHello`).
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Accepts any server certificate: only for registries the user listed with
/// `--insecure-registry`, as Docker does. Handshake signatures are still checked, so the
/// connection is at least to whoever holds the presented key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS error in a cause, looking inside (nested) `io::Error`s, whose `source` skips their
/// payload.
fn find_tls_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = cause;
    for _ in 0..8 {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
    None
}

/// Errors after which Docker tries an insecure registry over plain HTTP.
fn falls_back_to_http(error: &ImageError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Tls | ErrorKind::Network | ErrorKind::ConnectionRefused | ErrorKind::Timeout
    )
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After: <seconds>`, capped.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Parses `Bearer realm="…",service="…"` or `Basic realm="…"`.
fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(params);
    let realm = params.get("realm")?.clone();
    Some(Challenge::Bearer {
        realm,
        service: params.get("service").cloned(),
    })
}

/// `key="quoted \" value", key=token` → map (keys lower-cased).
fn parse_params(input: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        out.insert(key, value);
    }
}

fn basic(username: &str, password: &str) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!(
        "Basic {}",
        base64_of(&format!("{username}:{password}"))
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

fn bearer(token: &str, registry: &str) -> Result<HeaderValue, ImageError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        ImageError::malformed(
            format!("token for {registry}"),
            "it contains characters not allowed in a header",
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `application/x-www-form-urlencoded`.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(char::from(b))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `HTTP://Host:5000/` → `host:5000`.
fn normalize_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let host = host.as_str();
    let host = host
        .strip_prefix("https://")
        .or_else(|| host.strip_prefix("http://"))
        .unwrap_or(host);
    host.trim_end_matches('/').to_string()
}

fn has_port(host: &str) -> bool {
    strip_port(host) != host
}

/// `host:5000` → `host`, `[::1]:5000` → `[::1]`.
fn strip_port(host: &str) -> &str {
    let Some((name, port)) = host.rsplit_once(':') else {
        return host;
    };
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    if is_port && (name.ends_with(']') || !name.contains(':')) {
        name
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    /// A referrer listed for an image but whose `subject` is another is no signature of it.
    #[test]
    fn a_referrer_for_another_image_is_not_taken() {
        let digest = Digest::sha256_of(b"image");
        let other = Digest::sha256_of(b"other");
        let manifest = |subject: &Digest| {
            format!(
                r#"{{"schemaVersion":2,"subject":{{"mediaType":"x","digest":"{subject}","size":1}}}}"#
            )
        };
        assert!(subject_is(manifest(&digest).as_bytes(), &digest));
        assert!(!subject_is(manifest(&other).as_bytes(), &digest));
        assert!(!subject_is(b"{}", &digest));
        assert!(!subject_is(b"not json", &digest));
    }

    use super::*;

    #[test]
    fn parses_auth_challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into())
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(r#"bearer realm=https://a/t"#),
            Some(Challenge::Bearer {
                realm: "https://a/t".into(),
                service: None
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate"), None);
        let params = parse_params(r#"a="x\"y", b=z ,c="""#);
        assert_eq!(params.get("a").map(String::as_str), Some("x\"y"));
        assert_eq!(params.get("b").map(String::as_str), Some("z"));
        assert_eq!(params.get("c").map(String::as_str), Some(""));
    }

    #[test]
    fn matches_insecure_hosts_like_docker() {
        let options = FetchOptions {
            insecure_registries: vec!["127.0.0.1:5000".into(), "HTTP://plain.example/".into()],
            auth: AuthConfig::anonymous(),
            ..FetchOptions::default()
        };
        let client = RegistryClient::new(&options).unwrap();
        assert!(client.is_insecure("127.0.0.1:5000"));
        assert!(!client.is_insecure("127.0.0.1:5001"));
        assert!(client.is_insecure("plain.example"));
        assert!(client.is_insecure("plain.example:8443"));
        assert!(!client.is_insecure("other.example"));
        assert_eq!(strip_port("[::1]:5000"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("host:5000"), "host");
        assert_eq!(strip_port("::1"), "::1");
    }

    #[test]
    fn scrubs_secrets_and_encodes_forms() {
        let scrubber = Scrubber::default();
        scrubber.add("hunter2");
        scrubber.add("x");
        assert_eq!(
            scrubber.scrub("bad password hunter2 x"),
            "bad password <redacted> x"
        );
        assert_eq!(form_encode(&[("a b", "c&d=é")]), "a+b=c%26d%3D%C3%A9");
    }

    #[test]
    fn backs_off_exponentially_within_bounds() {
        let options = FetchOptions {
            retry_base_delay: Duration::from_millis(100),
            auth: AuthConfig::anonymous(),
            ..FetchOptions::default()
        };
        let client = RegistryClient::new(&options).unwrap();
        assert_eq!(client.backoff(0), Duration::from_millis(100));
        assert_eq!(client.backoff(3), Duration::from_millis(800));
        assert_eq!(client.backoff(40), MAX_RETRY_AFTER);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn an_unreadable_ca_file_is_a_setup_error() {
        let options = FetchOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            auth: AuthConfig::anonymous(),
            ..FetchOptions::default()
        };
        let Err(err) = RegistryClient::new(&options) else {
            panic!("expected an error")
        };
        assert_eq!(err.kind(), ErrorKind::Setup);
        assert!(
            err.to_string().contains("--ca-file /nonexistent/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn a_ca_file_that_is_not_a_certificate_is_a_setup_error_although_roots_load_late() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let options = FetchOptions {
            ca_file: Some(path),
            auth: AuthConfig::anonymous(),
            ..FetchOptions::default()
        };
        let Err(err) = RegistryClient::new(&options) else {
            panic!("expected an error")
        };
        assert_eq!(err.kind(), ErrorKind::Setup);
        assert!(err.to_string().contains("cannot set up TLS"), "{err}");
    }
}
