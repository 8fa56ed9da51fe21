//! A client's billing profile: the currency it is billed in, its tax rate
//! (percent, unless a contract or a line says otherwise) and its billing
//! address, at `/api/v1/clients/{id}/billing`.

use super::contracts::model::tax_rate;
use super::model::money::currency;
use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::{Principal, ScopedClient};
use crate::auth::roles::Permission;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{ApiJson, ApiPath};
use crate::store::{Db, Result};
use crate::tenancy::store::Clients;
use axum::extract::State;
use axum::Json;
use sea_query::{Expr, Iden, Query};
use serde::{Deserialize, Serialize};

#[derive(Iden, Clone, Copy)]
enum Profile {
    Currency,
    TaxRate,
    BillingAddress,
}

/// How a client is billed.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BillingProfile {
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    /// Percent, as a decimal string.
    pub tax_rate: String,
    pub billing_address: String,
}

/// Changes to a billing profile; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingPatch {
    pub currency: Option<String>,
    #[schema(example = "8.25")]
    pub tax_rate: Option<String>,
    #[schema(value_type = Option<crate::validate::Medium>)]
    pub billing_address: Option<String>,
}

pub async fn get(db: &mut impl Db, client: ScopedClient) -> Result<Option<BillingProfile>> {
    db.fetch_optional(
        Query::select()
            .columns([Profile::Currency, Profile::TaxRate, Profile::BillingAddress])
            .from(Clients::Table)
            .and_where(Expr::col(Clients::Id).eq(client.id())),
    )
    .await
}

/// The tax rates of these clients (the server's own readers: an invoice run).
pub async fn tax_rates(db: &mut impl Db, clients: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        tax_rate: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .column(Clients::Id)
                .column(Profile::TaxRate)
                .from(Clients::Table)
                .and_where(Expr::col(Clients::Id).is_in(clients.iter().copied())),
        )
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.tax_rate)).collect())
}

#[utoipa::path(get, path = "/api/v1/clients/{id}/billing", tag = "billing", params(("id" = i64, Path)),
    responses((status = 200, body = BillingProfile), (status = 404, body = ErrorEnvelope)))]
pub async fn show(State(app): State<App>, p: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<BillingProfile>> {
    let mut db = app.store.snapshot().await?;
    Ok(Json(get(&mut db, p.client(id)?).await?.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}/billing", tag = "billing", params(("id" = i64, Path)), request_body = BillingPatch,
    responses((status = 422, description = "refused for what it means, the field named", body = ErrorEnvelope), (status = 200, body = BillingProfile), (status = 400, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn change(
    State(app): State<App>,
    p: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<BillingPatch>,
) -> ApiResult<Json<BillingProfile>> {
    p.require(Permission::BillingWrite)?;
    let client = p.client(id)?;
    let mut tx = app.store.begin_audited().await?;
    let before = get(tx.tx(), client).await?.ok_or(ApiError::NotFound)?;
    let mut after = before.clone();
    if let Some(c) = &patch.currency {
        after.currency = currency(c).map_err(|m| ApiError::refused("currency", m))?.code.to_string();
    }
    if let Some(t) = &patch.tax_rate {
        after.tax_rate = tax_rate(t).map_err(|m| ApiError::refused("tax_rate", m))?.to_string();
    }
    if let Some(a) = &patch.billing_address {
        after.billing_address = crate::validate::Medium::parse(a).map_err(|m| ApiError::invalid("billing_address", m))?.into_string();
    }
    tx.tx()
        .execute(
            Query::update()
                .table(Clients::Table)
                .values([
                    (Profile::Currency, after.currency.clone().into()),
                    (Profile::TaxRate, after.tax_rate.clone().into()),
                    (Profile::BillingAddress, after.billing_address.clone().into()),
                ])
                .and_where(Expr::col(Clients::Id).eq(id)),
        )
        .await?;
    tx.commit_change(&p.actor(), Event::new("client.billing", "client", id).client(id), &before, &after).await?;
    Ok(Json(after))
}
