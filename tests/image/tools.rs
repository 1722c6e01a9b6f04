//! The real tools images are made with: `umoci` builds OCI layouts daemonless, `skopeo` copies
//! them to registries and archives, `openssl` makes a throwaway CA, `htpasswd` a bcrypt file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Debian package each tool comes from.
const PACKAGES: &[(&str, &str)] = &[
    ("docker-registry", "docker-registry"),
    ("skopeo", "skopeo"),
    ("umoci", "umoci"),
    ("htpasswd", "apache2-utils"),
    ("openssl", "openssl"),
    ("notary", "notary"),
    ("notary-server", "notary"),
    ("notary-signer", "notary"),
    ("curl", "curl"),
];

/// Fails the test (never skips it) when `tool` is not installed, saying how to install it.
pub fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        let package = PACKAGES
            .iter()
            .find(|(t, _)| *t == tool)
            .map(|(_, p)| *p)
            .unwrap_or(tool);
        panic!(
            "`{tool}` is not installed; these tests run against real tools. Install it with \
             `apt-get install -y {package}` (tests/run.sh installs everything they need)."
        );
    }
}

/// Runs a tool; panics with its output when it fails.
pub fn run(program: &str, args: &[&str]) -> Output {
    require(program);
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {} failed ({}):\n{}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What an image built with umoci should have.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub os: &'static str,
    pub architecture: &'static str,
    pub user: Option<&'static str>,
    pub env: Vec<&'static str>,
    pub exposed_ports: Vec<&'static str>,
    pub labels: Vec<&'static str>,
    pub entrypoint: Vec<&'static str>,
    pub workdir: Option<&'static str>,
    /// A file put in a layer, so the image has one.
    pub file: Option<(&'static str, &'static str)>,
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            os: "linux",
            architecture: "amd64",
            user: Some("app"),
            env: vec!["APP_MODE=test"],
            exposed_ports: vec!["8080/tcp"],
            labels: vec!["org.opencontainers.image.title=demo"],
            entrypoint: vec!["/bin/app"],
            workdir: Some("/srv"),
            file: Some(("/etc/demo.conf", "hello\n")),
        }
    }
}

/// Builds image `layout:tag` daemonless with umoci (creating the layout if needed).
pub fn umoci_image(layout: &Path, tag: &str, spec: &ImageSpec) {
    let dir = layout.to_string_lossy().to_string();
    if !layout.join("index.json").exists() {
        run("umoci", &["init", "--layout", &dir]);
    }
    let image = format!("{dir}:{tag}");
    run("umoci", &["new", "--image", &image]);
    if let Some((path, contents)) = spec.file {
        let source = layout
            .parent()
            .unwrap_or(layout)
            .join(format!("layer-file-{tag}"));
        std::fs::write(&source, contents).expect("write layer file");
        run(
            "umoci",
            &[
                "insert",
                "--rootless",
                "--image",
                &image,
                &source.to_string_lossy(),
                path,
            ],
        );
    }
    let mut args: Vec<String> = vec![
        "config".into(),
        "--image".into(),
        image.clone(),
        "--os".into(),
        spec.os.into(),
        "--architecture".into(),
        spec.architecture.into(),
    ];
    if let Some(user) = spec.user {
        args.push(format!("--config.user={user}"));
    }
    for env in &spec.env {
        args.push(format!("--config.env={env}"));
    }
    for port in &spec.exposed_ports {
        args.push(format!("--config.exposedports={port}"));
    }
    for label in &spec.labels {
        args.push(format!("--config.label={label}"));
    }
    for entry in &spec.entrypoint {
        args.push(format!("--config.entrypoint={entry}"));
    }
    if let Some(workdir) = spec.workdir {
        args.push(format!("--config.workingdir={workdir}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run("umoci", &args);
}

/// `skopeo copy` without signature policy or TLS checks (the test registries are local).
pub fn skopeo_copy(source: &str, destination: &str, extra: &[&str]) {
    let mut args = vec![
        "--insecure-policy",
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
    ];
    args.extend_from_slice(extra);
    args.push(source);
    args.push(destination);
    run("skopeo", &args);
}

/// A throwaway CA and a server certificate for `IP:127.0.0.1`, made with openssl.
pub struct Certificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[rustfmt::skip]
pub fn make_certificates(dir: &Path) -> Certificates {
    let p = |name: &str| dir.join(name).to_string_lossy().to_string();
    run(
        "openssl",
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", &p("ca.key"), "-out", &p("ca.pem"),
            "-subj", "/CN=portcullis test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    run(
        "openssl",
        &[
            "req", "-newkey", "rsa:2048", "-nodes",
            "-keyout", &p("server.key"), "-out", &p("server.csr"),
            "-subj", "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write extensions");
    run(
        "openssl",
        &[
            "x509", "-req", "-days", "2", "-in", &p("server.csr"),
            "-CA", &p("ca.pem"), "-CAkey", &p("ca.key"), "-CAcreateserial",
            "-extfile", &p("server.ext"), "-out", &p("server.pem"),
        ],
    );
    Certificates {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

/// A bcrypt htpasswd file, as docker-registry requires.
pub fn htpasswd(path: &Path, user: &str, password: &str) {
    run(
        "htpasswd",
        &["-Bbc", &path.to_string_lossy(), user, password],
    );
}
