//! TLS material: the operator's certificate, or a self-signed one generated
//! into the data directory on first start. Either way we print the SHA-256 of
//! the certificate's SubjectPublicKeyInfo, which agents pin.

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A ready server TLS configuration and the pin for it.
pub struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    pub spki_sha256: String,
    pub cert_path: PathBuf,
}

/// Hex SHA-256 of a DER certificate's SubjectPublicKeyInfo: the pin, computed
/// by the same code the agent checks it with.
pub fn spki_sha256(cert_der: &[u8]) -> anyhow::Result<String> {
    steward_protocol::spki::spki_sha256_hex(cert_der).ok_or_else(|| anyhow::anyhow!("cannot find the public key in the certificate"))
}

/// Loads `cert`/`key`, or generates `DATA_DIR/tls/{cert,key}.pem` once.
pub fn load(data_dir: &Path, cert: Option<&Path>, key: Option<&Path>) -> anyhow::Result<Tls> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf()),
        _ => {
            let dir = data_dir.join("tls");
            let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
            if !c.exists() || !k.exists() {
                generate(&dir, &c, &k)?;
            }
            (c, k)
        }
    };
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(&cert_path).with_context(|| format!("opening {}", cert_path.display()))?,
    ))
    .collect::<Result<_, _>>()
    .with_context(|| format!("reading {}", cert_path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", cert_path.display());
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(&key_path).with_context(|| format!("opening {}", key_path.display()))?,
    ))?
    .with_context(|| format!("{} holds no private key", key_path.display()))?;
    let spki = spki_sha256(&certs[0])?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("certificate and key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls { config: Arc::new(config), spki_sha256: spki, cert_path })
}

fn generate(dir: &Path, cert: &Path, key: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let host = std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default();
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !host.is_empty() && host != "localhost" {
        names.push(host);
    }
    let ck = rcgen::generate_simple_self_signed(names)?;
    std::fs::write(cert, ck.cert.pem())?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    use std::io::Write;
    opts.open(key)?.write_all(ck.key_pair.serialize_pem().as_bytes())?;
    Ok(())
}
