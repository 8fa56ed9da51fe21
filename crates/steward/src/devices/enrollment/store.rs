//! Enrollment tokens: per site, expiring, single- or multi-use, revocable.
//!
//! The token is `ste_` + 256 random bits, shown once; the database keeps its
//! SHA-256 and a short prefix. [`refusal`] is the pure rule for whether a
//! token may enrol another device; [`consume`] applies it atomically in one
//! conditional UPDATE, so two agents racing for the last use cannot both win.

use crate::crypto::{random_token, sha256_hex};
use crate::store::{Db, IdRow, Result};
use crate::time::now_us;
use sea_query::{Cond, Expr, Iden, Order, Query};
use serde::Serialize;

pub const PREFIX: &str = "ste_";

#[derive(Iden, Clone, Copy)]
pub(crate) enum EnrollmentTokens {
    Table,
    Id,
    ClientId,
    SiteId,
    Name,
    TokenHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    MaxUses,
    Uses,
    RevokedAt,
}

/// A stored enrollment token (never the secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EnrollmentToken {
    pub id: i64,
    pub client_id: i64,
    pub site_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub revoked_at: Option<i64>,
}

const COLS: [EnrollmentTokens; 11] = [
    EnrollmentTokens::Id,
    EnrollmentTokens::ClientId,
    EnrollmentTokens::SiteId,
    EnrollmentTokens::Name,
    EnrollmentTokens::Prefix,
    EnrollmentTokens::CreatedBy,
    EnrollmentTokens::CreatedAt,
    EnrollmentTokens::ExpiresAt,
    EnrollmentTokens::MaxUses,
    EnrollmentTokens::Uses,
    EnrollmentTokens::RevokedAt,
];

/// Why a token cannot enrol a device (the agent is told which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the enrollment token was revoked")]
    Revoked,
    #[error("the enrollment token has expired")]
    Expired,
    #[error("the enrollment token has been used up")]
    UsedUp,
    #[error("the enrollment token is not known")]
    Unknown,
}

/// The pure rule: may `t` enrol one more device at `now`?
pub fn refusal(t: &EnrollmentToken, now: i64) -> Option<Refusal> {
    if t.revoked_at.is_some() {
        Some(Refusal::Revoked)
    } else if now >= t.expires_at {
        Some(Refusal::Expired)
    } else if t.max_uses.is_some_and(|m| t.uses >= m) {
        Some(Refusal::UsedUp)
    } else {
        None
    }
}

impl EnrollmentToken {
    /// `active`, `revoked`, `expired` or `used up`, for people.
    pub fn state(&self, now: i64) -> &'static str {
        match refusal(self, now) {
            None => "active",
            Some(Refusal::Revoked) => "revoked",
            Some(Refusal::Expired) => "expired",
            Some(Refusal::UsedUp) => "used up",
            Some(Refusal::Unknown) => "unknown",
        }
    }
}

/// What a new token is for.
pub struct NewToken<'a> {
    pub client_id: i64,
    pub site_id: i64,
    pub name: &'a str,
    pub created_by: Option<i64>,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
}

/// Stores a new token; returns (id, secret shown once).
pub async fn create(db: &mut impl Db, t: NewToken<'_>) -> Result<(i64, String)> {
    let secret = format!("{PREFIX}{}", random_token());
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(EnrollmentTokens::Table)
                .columns([
                    EnrollmentTokens::ClientId,
                    EnrollmentTokens::SiteId,
                    EnrollmentTokens::Name,
                    EnrollmentTokens::TokenHash,
                    EnrollmentTokens::Prefix,
                    EnrollmentTokens::CreatedBy,
                    EnrollmentTokens::CreatedAt,
                    EnrollmentTokens::ExpiresAt,
                    EnrollmentTokens::MaxUses,
                ])
                .values_panic([
                    t.client_id.into(),
                    t.site_id.into(),
                    t.name.into(),
                    sha256_hex(&secret).into(),
                    secret[..PREFIX.len() + 6].to_string().into(),
                    t.created_by.into(),
                    now_us().into(),
                    t.expires_at.into(),
                    t.max_uses.into(),
                ])
                .returning_col(EnrollmentTokens::Id),
        )
        .await?;
    Ok((r.id, secret))
}

pub async fn get(db: &mut impl Db, client_id: i64, site_id: i64, id: i64) -> Result<Option<EnrollmentToken>> {
    db.fetch_optional(
        Query::select()
            .columns(COLS)
            .from(EnrollmentTokens::Table)
            .and_where(Expr::col(EnrollmentTokens::Id).eq(id))
            .and_where(Expr::col(EnrollmentTokens::ClientId).eq(client_id))
            .and_where(Expr::col(EnrollmentTokens::SiteId).eq(site_id)),
    )
    .await
}

/// A site's tokens, newest first.
pub async fn list(db: &mut impl Db, client_id: i64, site_id: i64) -> Result<Vec<EnrollmentToken>> {
    db.fetch_all(
        Query::select()
            .columns(COLS)
            .from(EnrollmentTokens::Table)
            .and_where(Expr::col(EnrollmentTokens::ClientId).eq(client_id))
            .and_where(Expr::col(EnrollmentTokens::SiteId).eq(site_id))
            .order_by(EnrollmentTokens::Id, Order::Desc),
    )
    .await
}

pub async fn revoke(db: &mut impl Db, id: i64) -> Result<bool> {
    Ok(db
        .execute(
            Query::update()
                .table(EnrollmentTokens::Table)
                .value(EnrollmentTokens::RevokedAt, now_us())
                .and_where(Expr::col(EnrollmentTokens::Id).eq(id))
                .and_where(Expr::col(EnrollmentTokens::RevokedAt).is_null()),
        )
        .await?
        > 0)
}

/// Uses the token once if it is still usable: returns the token (with the
/// use counted), or why it was refused. Atomic on both engines.
pub async fn consume(db: &mut impl Db, secret: &str) -> Result<std::result::Result<EnrollmentToken, Refusal>> {
    let now = now_us();
    let hash = sha256_hex(secret);
    let n = db
        .execute(
            Query::update()
                .table(EnrollmentTokens::Table)
                .value(EnrollmentTokens::Uses, Expr::col(EnrollmentTokens::Uses).add(1))
                .and_where(Expr::col(EnrollmentTokens::TokenHash).eq(hash.clone()))
                .and_where(Expr::col(EnrollmentTokens::RevokedAt).is_null())
                .and_where(Expr::col(EnrollmentTokens::ExpiresAt).gt(now))
                .cond_where(
                    Cond::any()
                        .add(Expr::col(EnrollmentTokens::MaxUses).is_null())
                        .add(Expr::col(EnrollmentTokens::Uses).lt(Expr::col(EnrollmentTokens::MaxUses))),
                ),
        )
        .await?;
    let t: Option<EnrollmentToken> = db
        .fetch_optional(
            Query::select().columns(COLS).from(EnrollmentTokens::Table).and_where(Expr::col(EnrollmentTokens::TokenHash).eq(hash)),
        )
        .await?;
    Ok(match (n, t) {
        (1, Some(t)) => Ok(t),
        (_, Some(t)) => Err(refusal(&t, now).unwrap_or(Refusal::UsedUp)),
        (_, None) => Err(Refusal::Unknown),
    })
}

/// An agent binary this server hands out: where, and its SHA-256 (hex).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub url: &'a str,
    pub sha256: &'a str,
}

/// The Linux binaries a server hands out, by machine.
#[derive(Default)]
pub struct Linux<'a> {
    pub x86_64: Option<Source<'a>>,
    pub aarch64: Option<Source<'a>>,
}

/// The one-line install commands for a token. With a binary to download,
/// the command fetches it over TLS pinned to `pin` (curl), or by any TLS
/// and then checked (PowerShell, which cannot pin), checks its SHA-256
/// before anything runs it, puts it where its service will find it, and
/// enrols; without one, it assumes `steward-agent` is already on the
/// machine.
pub fn install_commands(server_url: &str, token: &str, pin: &str, linux: Linux, windows: Option<Source>) -> (String, String) {
    let args = format!("install --server {server_url} --token {token} --pin {pin}");
    // The machine's `uname -m` picks the binary; a machine this server has
    // no binary for stops with a message instead of running a foreign one.
    let arms: Vec<String> = [("x86_64|amd64", linux.x86_64), ("aarch64|arm64", linux.aarch64)]
        .into_iter()
        .filter_map(|(names, s)| s.map(|s| format!("{names}) u='{}'; s='{}';;", s.url, s.sha256)))
        .collect();
    let linux = match curl_pin(pin) {
        Some(pinned) if !arms.is_empty() => format!(
            "case \"$(uname -m)\" in {arms} *) echo \"this server has no steward-agent for $(uname -m)\" >&2; false;; esac \
             && f=$(mktemp) && curl -fsSLk --pinnedpubkey '{pinned}' -o \"$f\" \"$u\" && echo \"$s  $f\" | sha256sum -c - >/dev/null \
             && sudo install -m 0755 \"$f\" /usr/local/bin/steward-agent && rm -f \"$f\" && sudo /usr/local/bin/steward-agent {args}",
            arms = arms.join(" "),
        ),
        _ => format!("sudo steward-agent {args}"),
    };
    let windows = match windows {
        Some(s) => format!(
            "& {{ $ErrorActionPreference='Stop'; $ProgressPreference='SilentlyContinue'; \
             $d=\"$env:ProgramFiles\\Steward\"; $f=\"$d\\steward-agent.exe\"; New-Item -ItemType Directory -Force $d | Out-Null; \
             if ($PSVersionTable.PSVersion.Major -ge 6) {{ Invoke-WebRequest -SkipCertificateCheck -UseBasicParsing '{url}' -OutFile $f }} \
             else {{ [Net.ServicePointManager]::SecurityProtocol='Tls12'; [Net.ServicePointManager]::ServerCertificateValidationCallback={{$true}}; \
             try {{ Invoke-WebRequest -UseBasicParsing '{url}' -OutFile $f }} finally {{ [Net.ServicePointManager]::ServerCertificateValidationCallback=$null }} }}; \
             if ((Get-FileHash $f -Algorithm SHA256).Hash -ne '{sha}') {{ Remove-Item $f; throw 'steward-agent.exe does not match its SHA-256' }}; \
             & $f {args} }}",
            url = s.url,
            sha = s.sha256,
        ),
        None => format!("steward-agent.exe {args}"),
    };
    (linux, windows)
}

/// curl's `--pinnedpubkey` form of an SPKI SHA-256 given in hex.
pub fn curl_pin(pin_hex: &str) -> Option<String> {
    use base64::Engine;
    let raw = hex::decode(pin_hex).ok().filter(|b| b.len() == 32)?;
    Some(format!("sha256//{}", base64::engine::general_purpose::STANDARD.encode(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn token(expires_at: i64, max_uses: Option<i64>, uses: i64, revoked: bool) -> EnrollmentToken {
        EnrollmentToken {
            id: 1,
            client_id: 1,
            site_id: 1,
            name: String::new(),
            prefix: String::new(),
            created_by: None,
            created_at: 0,
            expires_at,
            max_uses,
            uses,
            revoked_at: revoked.then_some(1),
        }
    }

    /// The Linux command's architecture switch, run by `sh` with a `uname`
    /// that answers `machine`: the URL it would download, or its refusal.
    fn picked(cmd: &str, machine: &str) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let uname = dir.path().join("uname");
        std::fs::write(&uname, format!("#!/bin/sh\necho {machine}\n")).unwrap();
        std::fs::set_permissions(&uname, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let switch = cmd.split(" && f=").next().unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{switch} && echo \"$u $s\""))
            .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
            .output()
            .unwrap();
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }

    #[test]
    fn the_linux_command_downloads_the_binary_for_the_machine_it_runs_on() {
        let pin = "ab".repeat(32);
        let x86 = Source { url: "https://s/agent/download/linux-x86_64", sha256: "11" };
        let arm = Source { url: "https://s/agent/download/linux-aarch64", sha256: "22" };
        let (both, _) = install_commands("https://s", "t", &pin, Linux { x86_64: Some(x86), aarch64: Some(arm) }, None);
        assert_eq!(picked(&both, "x86_64"), (true, "https://s/agent/download/linux-x86_64 11\n".into()));
        assert_eq!(picked(&both, "aarch64"), (true, "https://s/agent/download/linux-aarch64 22\n".into()));
        let (st, out) = picked(&both, "riscv64");
        assert!(!st && out.contains("no steward-agent for riscv64"), "{out}");
        let (only_x86, _) = install_commands("https://s", "t", &pin, Linux { x86_64: Some(x86), aarch64: None }, None);
        assert!(!picked(&only_x86, "aarch64").0, "no x86 binary on an ARM machine");
        let (none, _) = install_commands("https://s", "t", &pin, Linux::default(), None);
        assert!(none.starts_with("sudo steward-agent install"), "{none}");
    }

    proptest! {
        #[test]
        fn a_token_enrols_only_while_unrevoked_unexpired_and_not_used_up(
            expires in 0i64..1000, now in 0i64..1000, max in proptest::option::of(1i64..5), uses in 0i64..6, revoked: bool
        ) {
            let t = token(expires, max, uses, revoked);
            let ok = !revoked && now < expires && max.is_none_or(|m| uses < m);
            prop_assert_eq!(refusal(&t, now).is_none(), ok);
            // Revocation wins over every other reason.
            if revoked {
                prop_assert_eq!(refusal(&t, now), Some(Refusal::Revoked));
            }
        }
    }
}
