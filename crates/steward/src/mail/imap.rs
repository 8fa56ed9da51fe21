//! Reading a mailbox over IMAP (`async-imap` on tokio, TLS by `rustls`):
//! implicit TLS, STARTTLS, or plain for a loopback relay only; the public
//! roots plus an optional CA of the mail server's own (`ca_pem`). Every
//! failure says which step failed (DNS, TCP, TLS, login, folder), which
//! is what an administrator needs to fix it. Messages are fetched with
//! `BODY.PEEK[]` (not marking them read) and flagged `\Seen` only once
//! handled; nothing is ever deleted.

use async_imap::Session;
use futures_util::TryStreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How long one step (connect, handshake, a command) may take.
const STEP: Duration = Duration::from_secs(15);

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Implicit TLS (IMAPS, usually port 993).
    Tls,
    /// Plain connection upgraded with STARTTLS (usually port 143).
    Starttls,
    /// No encryption: only to a relay on this machine (a loopback address).
    Plain,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::Plain => "plain",
        }
    }
    pub fn parse(s: &str) -> Option<Security> {
        [Security::Tls, Security::Starttls, Security::Plain].into_iter().find(|x| x.as_str() == s)
    }
}

/// Where and how to read.
#[derive(Clone)]
pub struct Account {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: String,
    pub folder: String,
    pub ca_pem: Option<String>,
}

/// The step that failed, and what the server or the system said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("DNS: {0}")]
    Dns(String),
    #[error("TCP connection: {0}")]
    Tcp(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("login refused: {0}")]
    Login(String),
    #[error("folder: {0}")]
    Folder(String),
    #[error("IMAP: {0}")]
    Protocol(String),
}

impl Failure {
    /// The step, for the API (`dns`, `tcp`, `tls`, `login`, `folder`, `imap`).
    pub fn step(&self) -> &'static str {
        match self {
            Failure::Dns(_) => "dns",
            Failure::Tcp(_) => "tcp",
            Failure::Tls(_) => "tls",
            Failure::Login(_) => "login",
            Failure::Folder(_) => "folder",
            Failure::Protocol(_) => "imap",
        }
    }
}

async fn step<T, E: std::fmt::Display>(
    what: impl FnOnce(String) -> Failure,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(STEP, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(what(e.to_string())),
        Err(_) => Err(what(format!("no answer within {} s", STEP.as_secs()))),
    }
}

/// An open, logged-in session on the folder.
pub enum Reader {
    Plain(Session<TcpStream>),
    Tls(Box<Session<TlsStream<TcpStream>>>),
}

/// The folder as selected.
pub struct Folder {
    pub uid_validity: u32,
}

fn tls_config(ca_pem: Option<&str>) -> Result<rustls::ClientConfig, Failure> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_pem.filter(|p| !p.trim().is_empty()) {
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
            let cert = cert.map_err(|e| Failure::Tls(format!("the CA certificate (ca_pem) does not read: {e}")))?;
            roots.add(cert).map_err(|e| Failure::Tls(format!("the CA certificate (ca_pem) is not usable: {e}")))?;
            n += 1;
        }
        if n == 0 {
            return Err(Failure::Tls("the CA certificate (ca_pem) holds no PEM certificate".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

async fn tls(stream: TcpStream, host: &str, ca_pem: Option<&str>) -> Result<TlsStream<TcpStream>, Failure> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(ca_pem)?));
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| Failure::Tls(format!("{host}: {e}")))?;
    step(Failure::Tls, connector.connect(name, stream)).await
}

/// True for an address on this machine.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Connects, secures, logs in and selects the folder.
pub async fn open(a: &Account) -> Result<(Reader, Folder), Failure> {
    if a.security == Security::Plain && !is_loopback(&a.host) {
        return Err(Failure::Tls("plain IMAP is allowed to a loopback address only".into()));
    }
    let addrs: Vec<std::net::SocketAddr> = step(Failure::Dns, tokio::net::lookup_host((a.host.as_str(), a.port))).await?.collect();
    if addrs.is_empty() {
        return Err(Failure::Dns(format!("{} has no address", a.host)));
    }
    let tcp = step(Failure::Tcp, TcpStream::connect(&addrs[..])).await?;
    let mut reader = match a.security {
        Security::Tls => {
            let mut client = async_imap::Client::new(tls(tcp, &a.host, a.ca_pem.as_deref()).await?);
            greeting(&mut client).await?;
            Reader::Tls(Box::new(login(client, a).await?))
        }
        Security::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            step(Failure::Tls, client.run_command_and_check_ok("STARTTLS", None)).await?;
            // No greeting after STARTTLS.
            let client = async_imap::Client::new(tls(client.into_inner(), &a.host, a.ca_pem.as_deref()).await?);
            Reader::Tls(Box::new(login(client, a).await?))
        }
        Security::Plain => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            Reader::Plain(login(client, a).await?)
        }
    };
    let folder = reader.select(&a.folder).await?;
    Ok((reader, folder))
}

async fn idle_once<T>(s: Session<T>, max: Duration) -> Result<(Session<T>, bool), Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut h = s.idle();
    step(Failure::Protocol, h.init()).await?;
    let answer = {
        // Dropping the stop source would end the wait at once.
        let (wait, stop) = h.wait_with_timeout(max);
        let answer = wait.await;
        drop(stop);
        answer
    };
    let news = matches!(answer.map_err(|e| Failure::Protocol(e.to_string()))?, async_imap::extensions::idle::IdleResponse::NewData(_));
    let s = step(Failure::Protocol, h.done()).await?;
    Ok((s, news))
}

async fn greeting<T>(client: &mut async_imap::Client<T>) -> Result<(), Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match step(Failure::Protocol, client.read_response()).await? {
        Some(_) => Ok(()),
        None => Err(Failure::Protocol("the server closed the connection before greeting".into())),
    }
}

async fn login<T>(client: async_imap::Client<T>, a: &Account) -> Result<Session<T>, Failure>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match tokio::time::timeout(STEP, client.login(&a.username, &a.password)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _))) => Err(Failure::Login(e.to_string())),
        Err(_) => Err(Failure::Login(format!("no answer within {} s", STEP.as_secs()))),
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Reader::Plain($s) => $e,
            Reader::Tls($s) => $e,
        }
    };
}

impl Reader {
    async fn select(&mut self, folder: &str) -> Result<Folder, Failure> {
        let m = each!(self, s => step(Failure::Folder, s.select(folder)).await?);
        let uid_validity = m.uid_validity.ok_or_else(|| Failure::Folder(format!("{folder} has no UIDVALIDITY")))?;
        Ok(Folder { uid_validity })
    }

    /// The UIDs above `after`, ascending.
    pub async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, Failure> {
        let query = format!("UID {}:*", after.saturating_add(1));
        let found = each!(self, s => step(Failure::Protocol, s.uid_search(&query)).await?);
        // `N:*` always matches the newest message, even below N.
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The raw messages of these UIDs, by UID, ascending.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, Failure> {
        if uids.is_empty() {
            return Ok(vec![]);
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let mut out: Vec<(u32, Vec<u8>)> = each!(self, s => {
            let stream = step(Failure::Protocol, s.uid_fetch(&set, "(UID BODY.PEEK[])")).await?;
            step(Failure::Protocol, stream.try_collect::<Vec<_>>()).await?
                .into_iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .collect()
        });
        out.sort_by_key(|(u, _)| *u);
        Ok(out)
    }

    /// Flags these messages read.
    pub async fn mark_seen(&mut self, uids: &[u32]) -> Result<(), Failure> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        each!(self, s => {
            let stream = step(Failure::Protocol, s.uid_store(&set, "+FLAGS.SILENT (\\Seen)")).await?;
            step(Failure::Protocol, stream.try_collect::<Vec<_>>()).await?;
        });
        Ok(())
    }

    /// Moves these messages to `folder` (made first if it is missing).
    pub async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), Failure> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        each!(self, s => {
            // Already there is the usual answer; a real failure shows at the move.
            let _ = step(Failure::Protocol, s.create(folder)).await;
            step(Failure::Protocol, s.uid_mv(&set, folder)).await?;
        });
        Ok(())
    }

    /// Whether the server offers IDLE (RFC 2177).
    pub async fn can_idle(&mut self) -> Result<bool, Failure> {
        let caps = each!(self, s => step(Failure::Protocol, s.capabilities()).await?);
        Ok(caps.has_str("IDLE"))
    }

    /// Waits in IDLE up to `max` for the server to say the folder changed;
    /// the reader back, and whether it did.
    pub async fn idle(self, max: Duration) -> Result<(Reader, bool), Failure> {
        Ok(match self {
            Reader::Plain(s) => {
                let (s, news) = idle_once(s, max).await?;
                (Reader::Plain(s), news)
            }
            Reader::Tls(s) => {
                let (s, news) = idle_once(*s, max).await?;
                (Reader::Tls(Box::new(s)), news)
            }
        })
    }

    pub async fn logout(self) {
        let mut me = self;
        let r = &mut me;
        let _ = each!(r, s => tokio::time::timeout(STEP, s.logout()).await);
    }
}
