//! The command line: `serve`, `demo`, and the host-side administration
//! commands (`admin`, `audit`, `backup`, `restore`, `openapi`).
//!
//! Host-side commands open the database directly: whoever can run them on the
//! server host already holds the data, so this is the trust root (the first
//! administrator can only be created here). Each change they make is audited
//! as `cli@HOST`.

use crate::app::AppState;
use crate::audit::{self, store::Actor};
use crate::auth::roles::Role;
use crate::config::{Config, Partial};
use crate::crypto::MasterKey;
use crate::store::{self, Store};
use crate::users;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "steward", version, about = "Steward: RMM, PSA and IT documentation for MSPs, on one database")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// TOML configuration file (lowest precedence after the defaults).
    #[arg(long, env = "STEWARD_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: Partial,
}

impl Common {
    fn resolve(self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(p) => Partial::from_toml(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
                .with_context(|| format!("in {}", p.display()))?,
            None => Partial::default(),
        };
        self.settings.over(file).finish()
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server.
    Serve(Common),
    /// Run a live demo MSP on a fresh temporary data directory.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Manage administrators from the server host.
    Admin {
        #[command(subcommand)]
        cmd: AdminCmd,
    },
    /// Verify, export or anchor the audit log.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Write a consistent online backup of the embedded database.
    Backup {
        #[command(flatten)]
        common: Common,
        /// Backup file to create.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the embedded database with a backup (server stopped).
    Restore {
        #[command(flatten)]
        common: Common,
        /// Backup file to restore.
        #[arg(long)]
        from: PathBuf,
    },
    /// Manage this node's full-text search index.
    Search {
        #[command(subcommand)]
        cmd: SearchCmd,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum SearchCmd {
    /// Rebuild the index from the database (server stopped; a running
    /// server rebuilds by itself when its index is missing or stale).
    Reindex {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create an administrator; the password is read from standard input.
    Create {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List every user.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Remove a user's second factor and sign them out everywhere.
    ResetMfa {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the hash chain; exit 1 naming the first bad entry.
    Verify {
        #[command(flatten)]
        common: Common,
        /// Also check every anchor recorded in this file.
        #[arg(long)]
        anchors: Option<PathBuf>,
    },
    /// Write the log as JSON lines.
    Export {
        #[command(flatten)]
        common: Common,
        /// Output file (standard output when absent).
        #[arg(long)]
        to: Option<PathBuf>,
    },
    /// Write the current head to the anchor file/webhook now.
    Anchor {
        #[command(flatten)]
        common: Common,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG").unwrap_or_else(|_| "steward=info,warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("steward: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.cmd)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("steward: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the database with the audit chain's key (from the master key, so
/// host-side changes are chained and verified like the server's).
async fn open(cfg: &Config) -> anyhow::Result<Store> {
    let store = Store::open(&cfg.data_dir, cfg.database_url.as_deref()).await.context("opening the database")?;
    let master = MasterKey::load_or_create(&cfg.master_key_path()).context("loading the master key")?;
    audit::store::load_key(&store, &master);
    Ok(store)
}

async fn run(cmd: Cmd) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Serve(common) => {
            let cfg = common.resolve()?;
            serve(cfg).await?;
        }
        Cmd::Demo { listen } => crate::demo::run(listen).await?,
        Cmd::Openapi => println!("{}", crate::routes::document().to_pretty_json()?),
        Cmd::Admin { cmd } => return admin(cmd).await,
        Cmd::Audit { cmd } => return audit_cmd(cmd).await,
        Cmd::Search { cmd: SearchCmd::Reindex { common } } => {
            let cfg = common.resolve()?;
            let store = open(&cfg).await?;
            let index = std::sync::Arc::new(crate::search::runtime::Index::open(&cfg.data_dir.join("search"))?);
            let r = crate::search::indexer::rebuild(&store, &index, &crate::routes::indexers()).await?;
            println!("search index rebuilt: {} documents in {:.1} s ({})", r.documents, r.took.as_secs_f64(), index.dir.display());
            store.close().await;
        }
        Cmd::Backup { common, to } => {
            let cfg = common.resolve()?;
            anyhow::ensure!(cfg.database_url.is_none(), "backup copies the embedded database; for PostgreSQL use pg_dump");
            store::backup_sqlite(&cfg.data_dir, &to).await?;
            println!(
                "backup written to {} (integrity check ok). Keep the master key file separately: it is not in the backup.",
                to.display()
            );
        }
        Cmd::Restore { common, from } => {
            let cfg = common.resolve()?;
            anyhow::ensure!(cfg.database_url.is_none(), "restore replaces the embedded database; for PostgreSQL use pg_restore");
            store::restore_sqlite(&cfg.data_dir, &from).await?;
            println!("restored {} into {}", from.display(), cfg.data_dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens everything and serves until shut down.
pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    store::private_dir(&cfg.data_dir).with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    // One server per embedded database: hold the data directory's lock.
    let _lock = if cfg.database_url.is_none() {
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(cfg.data_dir.join(store::backup::LOCK_FILE))?;
        f.try_lock().map_err(|_| anyhow::anyhow!("another steward server is using {}", cfg.data_dir.display()))?;
        Some(f)
    } else {
        None
    };
    let store = open(&cfg).await?;
    let master = MasterKey::load_or_create(&cfg.master_key_path()).context("loading the master key")?;
    crate::server::serve(AppState::open(store, cfg, master).await?).await
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

async fn admin(cmd: AdminCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCmd::Create { common, email, name, password_stdin: _ } => {
            let cfg = common.resolve()?;
            let store = open(&cfg).await?;
            let password = read_password()?;
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("Administrator").to_string());
            let req = users::ops::NewUserRequest { email, name, role: Role::Admin, password, clients: None };
            match users::ops::create(&store, &Actor::cli(), req).await {
                Ok(u) => println!("administrator {} created (id {}). Sign in and set up two-factor authentication.", u.email, u.id),
                Err(e) => {
                    eprintln!("steward: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
            store.close().await;
        }
        AdminCmd::List { common } => {
            let cfg = common.resolve()?;
            let store = open(&cfg).await?;
            let (rows, _) = users::store::list(&mut store.clone(), 10_000, 0).await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<6} {:<36} {:<15} {:<5} state", "id", "email", "role", "mfa")?;
            for u in rows {
                writeln!(
                    out,
                    "{:<6} {:<36} {:<15} {:<5} {}",
                    u.id,
                    u.email,
                    u.role,
                    if u.totp_enabled { "on" } else { "off" },
                    if u.disabled { "disabled" } else { "active" }
                )?;
            }
        }
        AdminCmd::ResetMfa { common, email } => {
            let cfg = common.resolve()?;
            let store = open(&cfg).await?;
            let Some(u) = users::store::by_email(&mut store.clone(), &email).await? else {
                eprintln!("steward: no user with email {email}");
                return Ok(ExitCode::from(2));
            };
            crate::auth::mfa::reset(&store, &Actor::cli(), u.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("two-factor authentication removed for {}; all their sessions were signed out", u.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit_cmd(cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCmd::Verify { common, anchors } => {
            let cfg = common.resolve()?;
            let store = open(&cfg).await?;
            match audit::store::verify(&store).await? {
                Ok(n) => println!("audit chain ok: {n} entries"),
                Err(e) => {
                    println!("audit chain BROKEN at entry {}: {e}", e.seq());
                    return Ok(ExitCode::from(1));
                }
            }
            // The anchor file the server writes, unless another is named.
            if let Some(path) = anchors.or(cfg.audit_anchor_file.clone().filter(|p| p.exists())) {
                match audit::anchor::check_file(&store, &path).await? {
                    Ok(n) => println!("anchors ok: {n} checked in {}", path.display()),
                    Err(msg) => {
                        println!("audit chain does not match its anchors: {msg}");
                        return Ok(ExitCode::from(1));
                    }
                }
            }
        }
        AuditCmd::Export { common, to } => {
            let cfg = common.resolve()?;
            let store = open(&cfg).await?;
            let mut out: Box<dyn Write> = match &to {
                Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut after = 0;
            loop {
                let page = audit::store::page_after(&store, after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in page {
                    writeln!(out, "{}", serde_json::to_string(&e)?)?;
                }
            }
            out.flush()?;
        }
        AuditCmd::Anchor { common } => {
            let cfg = common.resolve()?;
            anyhow::ensure!(
                cfg.audit_anchor_file.is_some() || cfg.audit_anchor_webhook.is_some(),
                "set --audit-anchor-file and/or --audit-anchor-webhook"
            );
            let store = open(&cfg).await?;
            let a = audit::anchor::write(&store, cfg.audit_anchor_file.as_deref(), cfg.audit_anchor_webhook.as_deref()).await?;
            println!("anchored entry {} hash {}", a.seq, a.hash);
        }
    }
    Ok(ExitCode::SUCCESS)
}
