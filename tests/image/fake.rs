//! A tiny HTTP/1.1 server on loopback for the faults a real registry cannot be made to produce:
//! lying digests, truncated bodies, stalls, 500 storms, oversized manifests, redirects to
//! another host, layers that are not what the manifest and config say. It records every request so tests can assert on what a server received.

use portcullis::image::digest::Digest;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as received (header names lower-cased).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Declares `declared` bytes in `Content-Length`, sends `body`, closes.
    Truncated { declared: usize, body: Vec<u8> },
    /// Sends status and headers (declaring `declared` bytes), then nothing for `pause`.
    Stall { declared: usize, pause: Duration },
    /// No `Content-Length`: `len` bytes, then close.
    Unsized { len: usize },
    /// No `Content-Length`: `body`, then close (a body that ends where the server chose).
    Closed { body: Vec<u8> },
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Full {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn body(status: u16, content_type: &str, body: &[u8]) -> Reply {
        Reply::Full {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;
const GO_PLAIN_PORT_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct FakeServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Serves `handler` on `ip` (a loopback address) at a free port.
    pub async fn start(
        ip: Ipv4Addr,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> FakeServer {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind fake server");
        let addr = listener.local_addr().expect("fake server address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let _ = serve(stream, handler, log).await;
                });
            }
        });
        FakeServer {
            addr,
            requests,
            task,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("request log").clone()
    }

    /// How many requests were made for `path`.
    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Request>>>,
) -> std::io::Result<()> {
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 1 && first[0] == TLS_HANDSHAKE {
        // A client trying HTTPS first: answered as Go's net/http (the registry) answers on a
        // plain port, so the client's TLS fails at once and it falls back to HTTP. (A hang-up
        // would be retried as a reset: seconds of backoff in every `portcullis` run.)
        stream.write_all(GO_PLAIN_PORT_ANSWER).await?;
        return stream.shutdown().await;
    }
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    log.lock().expect("request log").push(request.clone());
    match handler(&request) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Truncated { declared, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
        Reply::Stall { declared, pause } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            stream.flush().await?;
            tokio::time::sleep(pause).await;
        }
        Reply::Unsized { len } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < len {
                let n = chunk.len().min(len - sent);
                stream.write_all(&chunk[..n]).await?;
                sent += n;
            }
        }
        Reply::Closed { body } => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
        }
    }
    stream.flush().await?;
    stream.shutdown().await
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buffer.len() > 64 * 1024 {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let path = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// A small valid image: an OCI manifest and its config, with their digests, and the layer
/// blobs it lists (none for [`FakeImage::new`]).
#[derive(Debug, Clone)]
pub struct FakeImage {
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub layers: Vec<FakeLayer>,
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A layer of a [`FakeImage`]: the blob served (the manifest lists its digest and size), its
/// media type, and the diff_id the config lists for it, whatever the blob holds.
#[derive(Debug, Clone)]
pub struct FakeLayer {
    pub blob: Vec<u8>,
    pub digest: String,
    pub media_type: String,
    pub diff_id: String,
}

impl FakeLayer {
    /// `tar` gzip-compressed, with its true diff_id.
    pub fn gzip(tar: &[u8]) -> FakeLayer {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(tar).expect("gzip");
        let blob = encoder.finish().expect("gzip");
        FakeLayer::new(blob, LAYER_GZIP, &Digest::sha256_of(tar).to_string())
    }

    pub fn new(blob: Vec<u8>, media_type: &str, diff_id: &str) -> FakeLayer {
        FakeLayer {
            digest: Digest::sha256_of(&blob).to_string(),
            blob,
            media_type: media_type.to_string(),
            diff_id: diff_id.to_string(),
        }
    }

    /// The same blob, the config listing `diff_id` for it.
    pub fn with_diff_id(self, diff_id: &str) -> FakeLayer {
        FakeLayer {
            diff_id: diff_id.to_string(),
            ..self
        }
    }

    /// `/v2/{repo}/blobs/{digest}`.
    pub fn path(&self, repo: &str) -> String {
        format!("/v2/{repo}/blobs/{}", self.digest)
    }
}

impl FakeImage {
    pub fn new(user: &str) -> FakeImage {
        FakeImage::with_layers(user, Vec::new())
    }

    /// An image of `layers`, in order: the manifest lists each blob's digest, size and media
    /// type, the config's `rootfs.diff_ids` each layer's `diff_id`.
    pub fn with_layers(user: &str, layers: Vec<FakeLayer>) -> FakeImage {
        let diff_ids = layers
            .iter()
            .map(|l| format!("\"{}\"", l.diff_id))
            .collect::<Vec<_>>()
            .join(",");
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"User":"{user}"}},"rootfs":{{"type":"layers","diff_ids":[{diff_ids}]}}}}"#
        )
        .into_bytes();
        let config_digest = Digest::sha256_of(&config).to_string();
        let descriptors = layers
            .iter()
            .map(|l| {
                format!(
                    r#"{{"mediaType":"{}","digest":"{}","size":{}}}"#,
                    l.media_type,
                    l.digest,
                    l.blob.len()
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{descriptors}]}}"#,
            config.len()
        )
        .into_bytes();
        FakeImage {
            manifest_digest: Digest::sha256_of(&manifest).to_string(),
            manifest,
            config,
            config_digest,
            layers,
        }
    }

    /// The usual answers for `repo`: `/v2/` open, the manifest under `tag` and its digest, the
    /// config blob, the layer blobs; `None` for any other path.
    pub fn answer(&self, repo: &str, tag: &str, request: &Request) -> Option<Reply> {
        let manifest = || {
            Reply::body(200, OCI_MANIFEST, &self.manifest)
                .header("Docker-Content-Digest", &self.manifest_digest)
        };
        let path = request.path.as_str();
        if path == "/v2/" {
            Some(Reply::status(200))
        } else if path == format!("/v2/{repo}/manifests/{tag}")
            || path == format!("/v2/{repo}/manifests/{}", self.manifest_digest)
        {
            Some(manifest())
        } else if path == format!("/v2/{repo}/blobs/{}", self.config_digest) {
            Some(Reply::body(200, "application/octet-stream", &self.config))
        } else {
            self.layers
                .iter()
                .find(|l| path == l.path(repo))
                .map(|l| Reply::body(200, "application/octet-stream", &l.blob))
        }
    }
}
