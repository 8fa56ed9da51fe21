//! A client's mail settings (`/api/v1/clients/{id}/mail`): the domains
//! its people write from (mail from an unknown address at one of them goes
//! to this client, its sender proposed as a contact), and the From its
//! tickets' mail is sent with instead of the installation's. A domain
//! belongs to one client: the database refuses a second.

use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::store::{Db, Result};
use crate::time::now_us;
use axum::extract::State;
use axum::Json;
use sea_query::{Expr, Iden, OnConflict, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Iden, Clone, Copy)]
enum ClientMailDomains {
    Table,
    Domain,
    ClientId,
    CreatedAt,
}

#[derive(Iden, Clone, Copy)]
enum ClientMailFrom {
    Table,
    ClientId,
    FromAddress,
    FromName,
    UpdatedAt,
}

/// The most domains a client may list.
pub const MAX_DOMAINS: usize = 50;

/// A client's mail settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientMail {
    /// Domains its people write from, e.g. `["client.example"]`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// The From of mail about its tickets; empty: the installation's.
    #[serde(default)]
    pub from_address: String,
    #[serde(default)]
    pub from_name: String,
}

/// The client whose domain `address` is at, if any.
pub async fn client_of_domain(db: &mut impl Db, address: &str) -> Result<Option<i64>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        client_id: i64,
    }
    let Some((_, domain)) = address.rsplit_once('@') else { return Ok(None) };
    let r: Option<Row> = db
        .fetch_optional(
            Query::select()
                .column(ClientMailDomains::ClientId)
                .from(ClientMailDomains::Table)
                .and_where(Expr::col(ClientMailDomains::Domain).eq(domain.trim().to_ascii_lowercase())),
        )
        .await?;
    Ok(r.map(|r| r.client_id))
}

/// The From (address, name) mail about this client's tickets is sent with.
pub async fn from_of(db: &mut impl Db, client: i64) -> Result<Option<(String, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        from_address: String,
        from_name: String,
    }
    let r: Option<Row> = db
        .fetch_optional(
            Query::select()
                .columns([ClientMailFrom::FromAddress, ClientMailFrom::FromName])
                .from(ClientMailFrom::Table)
                .and_where(Expr::col(ClientMailFrom::ClientId).eq(client)),
        )
        .await?;
    Ok(r.map(|r| (r.from_address, r.from_name)))
}

async fn read(db: &mut impl Db, client: i64) -> Result<ClientMail> {
    #[derive(sqlx::FromRow)]
    struct Row {
        domain: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .column(ClientMailDomains::Domain)
                .from(ClientMailDomains::Table)
                .and_where(Expr::col(ClientMailDomains::ClientId).eq(client))
                .order_by(ClientMailDomains::Domain, Order::Asc),
        )
        .await?;
    let (from_address, from_name) = from_of(db, client).await?.unwrap_or_default();
    Ok(ClientMail { domains: rows.into_iter().map(|r| r.domain).collect(), from_address, from_name })
}

/// A domain as kept: lower-case, no `@`, at least one dot, DNS characters only.
pub fn domain(raw: &str) -> std::result::Result<String, String> {
    let d = raw.trim().trim_start_matches('@').trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-');
    let ok = d.len() <= 253
        && d.contains('.')
        && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && d.split('.').all(label_ok);
    if ok {
        Ok(d)
    } else {
        Err(format!("{raw:?} is not a mail domain like client.example"))
    }
}

fn valid(r: ClientMail) -> std::result::Result<ClientMail, ApiError> {
    if r.domains.len() > MAX_DOMAINS {
        return Err(ApiError::invalid("domains", format!("at most {MAX_DOMAINS}")));
    }
    let mut domains =
        r.domains.iter().map(|d| domain(d)).collect::<std::result::Result<Vec<_>, _>>().map_err(|m| ApiError::invalid("domains", m))?;
    domains.sort();
    domains.dedup();
    let from_address = match r.from_address.trim() {
        "" => String::new(),
        a => crate::validate::Email::parse(a).map_err(|m| crate::validate::email_error("from_address", m))?.into_string(),
    };
    if r.from_name.chars().count() > 200 || r.from_name.chars().any(char::is_control) {
        return Err(ApiError::invalid("from_name", "at most 200 characters, no control characters"));
    }
    if from_address.is_empty() && !r.from_name.trim().is_empty() {
        return Err(ApiError::invalid("from_name", "give a from_address with it"));
    }
    Ok(ClientMail { domains, from_address, from_name: r.from_name.trim().to_string() })
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/mail", tag = "mail", params(("id" = i64, Path)),
    responses((status = 200, body = ClientMail), (status = 404, body = ErrorEnvelope)))]
pub async fn show(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<ClientMail>> {
    p.require(Permission::ClientsRead)?;
    let client = p.client(id)?;
    let mut db = app.store.snapshot().await?;
    crate::tenancy::store::get_client(&mut db, client).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(read(&mut db, id).await?))
}

#[utoipa::path(put, path = "/api/v1/clients/{id}/mail", tag = "mail", params(("id" = i64, Path)), request_body = ClientMail,
    responses((status = 200, body = ClientMail), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope, description = "a domain belongs to another client"), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ClientMail>,
) -> ApiResult<Json<ClientMail>> {
    Ok(Json(save(&app, &p, id, r).await?))
}

/// Stores a client's mail settings, audited.
pub async fn save(app: &App, p: &Principal, id: i64, r: ClientMail) -> std::result::Result<ClientMail, ApiError> {
    p.require(Permission::ClientsWrite)?;
    let client = p.client(id)?;
    let r = valid(r)?;
    let now = now_us();
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    crate::tenancy::store::get_client(db, client).await?.ok_or(ApiError::NotFound)?;
    for d in &r.domains {
        if let Some(other) = client_of_domain(db, &format!("x@{d}")).await?.filter(|c| *c != id) {
            // Whose it is only to those who may see that client.
            let whose = if p.sees_client(other) { format!(" (client {other})") } else { String::new() };
            return Err(ApiError::Conflict(format!("{d} is a mail domain of another client{whose}")));
        }
    }
    let before = read(db, id).await?;
    db.execute(Query::delete().from_table(ClientMailDomains::Table).and_where(Expr::col(ClientMailDomains::ClientId).eq(id))).await?;
    for d in &r.domains {
        db.execute(
            Query::insert()
                .into_table(ClientMailDomains::Table)
                .columns([ClientMailDomains::Domain, ClientMailDomains::ClientId, ClientMailDomains::CreatedAt])
                .values_panic([d.into(), id.into(), now.into()]),
        )
        .await?;
    }
    db.execute(Query::delete().from_table(ClientMailFrom::Table).and_where(Expr::col(ClientMailFrom::ClientId).eq(id))).await?;
    if !r.from_address.is_empty() {
        db.execute(
            Query::insert()
                .into_table(ClientMailFrom::Table)
                .columns([ClientMailFrom::ClientId, ClientMailFrom::FromAddress, ClientMailFrom::FromName, ClientMailFrom::UpdatedAt])
                .values_panic([id.into(), r.from_address.clone().into(), r.from_name.clone().into(), now.into()])
                .on_conflict(OnConflict::column(ClientMailFrom::ClientId).do_nothing().to_owned()),
        )
        .await?;
    }
    tx.commit(&p.actor(), Event::new("client.mail", "client", id).client(id).details(json!({"before": before, "after": r}))).await?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domains_are_kept_plain_and_lower_case() {
        assert_eq!(domain(" @Client.Example. ").unwrap(), "client.example");
        assert!(domain("mail.büro.example").is_err());
        for bad in ["", "localhost", "a@b.example", "-x.example", "x..example", "x .example", "x.example/evil"] {
            assert!(domain(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_kept_domain_is_dns_characters_only(s in "\\PC{0,80}") {
            if let Ok(d) = domain(&s) {
                prop_assert!(d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
                prop_assert_eq!(domain(&d), Ok(d.clone()));
            }
        }
    }
}
