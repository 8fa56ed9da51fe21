//! A real IMAP server for the mail tests: Debian's Dovecot, started on
//! loopback ports with a throwaway configuration, user and Maildir, its
//! TLS certificate signed by a test CA made here. Mail is delivered the
//! way a mail server files it: IMAP APPEND into the folder.

use std::process::{Child, Command};
use std::time::Duration;

pub const USER: &str = "support";
pub const PASSWORD: &str = "imap secret 1";

pub struct Dovecot {
    _dir: tempfile::TempDir,
    child: Child,
    /// Plain IMAP (STARTTLS offered).
    pub port: u16,
    /// Implicit TLS.
    pub tls_port: u16,
    /// The CA that signed the server's certificate.
    pub ca_pem: String,
}

/// A test CA, and `cert.pem`/`key.pem` in `dir` for 127.0.0.1 and
/// localhost signed by it; returns the CA's PEM.
fn test_ca(dir: &std::path::Path) -> String {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(vec![]).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Steward test mail CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.subject_alt_names.push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    ca.pem()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const DOVECOT: &str = "/usr/sbin/dovecot";

impl Dovecot {
    /// Starts a Dovecot; `None` (said loudly, and a failure under
    /// STEWARD_TEST_REQUIRE_ALL) when it is not installed.
    pub async fn start() -> Option<Dovecot> {
        if !std::path::Path::new(DOVECOT).exists() {
            let msg = "Dovecot is missing (apt-get install dovecot-imapd): a mail test did NOT run";
            assert!(!super::require_all(), "{msg}");
            eprintln!("\n!!! {msg} !!!\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let root = rustix_is_root();
        // The mail processes may not run as root: as root, the Maildir
        // belongs to `nobody`; otherwise to whoever runs the tests.
        let (uid, gid, user, group) = if root {
            (65534u32, 65534u32, "nobody".to_string(), "nogroup".to_string())
        } else {
            let out = |a: &str| String::from_utf8(Command::new("id").arg(a).output().unwrap().stdout).unwrap().trim().to_string();
            (out("-u").parse().unwrap(), out("-g").parse().unwrap(), out("-un"), out("-gn"))
        };
        let ca_pem = test_ca(d);
        std::fs::write(d.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n")).unwrap();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let (port, tls_port) = (free_port(), free_port());
        let conf = format!(
            r#"protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"#,
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        if root {
            // `nobody` must reach its home inside the temporary directory.
            Command::new("chmod").args(["0755", &d.display().to_string()]).status().unwrap();
            Command::new("chown").args(["-R", "nobody:nogroup", &d.join("home").display().to_string()]).status().unwrap();
        }
        let child = Command::new(DOVECOT).args(["-F", "-c"]).arg(d.join("dovecot.conf")).spawn().expect("start dovecot");
        let server = Dovecot { ca_pem, _dir: dir, child, port, tls_port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("dovecot did not listen: {}", std::fs::read_to_string(server._dir.path().join("dovecot.log")).unwrap_or_default());
    }

    /// Files a message in INBOX, as a mail server delivering it would.
    pub async fn deliver(&self, raw: &str) {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut session = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("log in to dovecot");
        session.append("INBOX", None, None, raw.replace("\r\n", "\n").replace('\n', "\r\n").as_bytes()).await.expect("append");
        session.logout().await.ok();
    }

    /// Files many messages in INBOX over one connection.
    pub async fn deliver_all(&self, raws: &[String]) {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut session = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("log in to dovecot");
        for raw in raws {
            session.append("INBOX", None, None, raw.replace("\r\n", "\n").replace('\n', "\r\n").as_bytes()).await.expect("append");
        }
        session.logout().await.ok();
    }

    /// How many messages of INBOX are flagged read.
    pub async fn seen_count(&self) -> usize {
        use futures_util::TryStreamExt;
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut session = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).unwrap();
        session.select("INBOX").await.unwrap();
        let seen = session.uid_search("SEEN").await.unwrap();
        let _ = session.uid_fetch("1:*", "FLAGS").await.unwrap().try_collect::<Vec<_>>().await;
        session.logout().await.ok();
        seen.len()
    }

    /// How many messages `folder` holds (0 when it does not exist).
    pub async fn count_in(&self, folder: &str) -> u32 {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut session = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).unwrap();
        let n = session.select(folder).await.map(|m| m.exists).unwrap_or(0);
        session.logout().await.ok();
        n
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn rustix_is_root() -> bool {
    String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap().trim() == "0"
}

/// A real SMTP server that keeps what it receives: Python's aiosmtpd
/// (Debian's `python3-aiosmtpd`) with STARTTLS by the test CA, filing each
/// message in a Maildir. It can be stopped and started again on its port.
pub struct Smtp {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    pub ca_pem: String,
}

const PYTHON: &str = "/usr/bin/python3";

impl Smtp {
    /// Prepared on a free port, not yet listening; `None` (said loudly, a
    /// failure under STEWARD_TEST_REQUIRE_ALL) without aiosmtpd.
    pub fn prepare() -> Option<Smtp> {
        let ok = Command::new(PYTHON).args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
        if !ok {
            let msg = "aiosmtpd is missing (apt-get install python3-aiosmtpd): a mail test did NOT run";
            assert!(!super::require_all(), "{msg}");
            eprintln!("\n!!! {msg} !!!\n");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let ca_pem = test_ca(dir.path());
        Some(Smtp { dir, child: None, port: free_port(), ca_pem })
    }

    /// Starts listening (STARTTLS offered, not required).
    pub async fn start(&mut self) {
        let d = self.dir.path();
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox", "-l", &format!("127.0.0.1:{}", self.port)])
            .arg("--tlscert")
            .arg(d.join("cert.pem"))
            .arg("--tlskey")
            .arg(d.join("key.pem"))
            .arg("--no-requiretls")
            .arg(d.join("maildir"))
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not listen");
    }

    /// The messages received, raw, oldest first.
    pub fn received(&self) -> Vec<String> {
        let mut files = vec![];
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.dir.path().join("maildir").join(sub)) {
                for e in rd.flatten() {
                    let modified = e.metadata().and_then(|m| m.modified()).ok();
                    files.push((modified, std::fs::read_to_string(e.path()).unwrap_or_default()));
                }
            }
        }
        files.sort_by_key(|f| f.0);
        files.into_iter().map(|f| f.1).collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
