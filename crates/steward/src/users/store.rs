//! Staff and portal accounts: storage, the users API and the users pages.
//!
//! A user has one [`Role`]; a non-admin may be *client-limited*, in which case
//! `user_clients` lists the only clients that exist for them.

use crate::auth::roles::Role;
use crate::store::{Db, Result};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};

#[derive(Iden, Clone, Copy)]
pub enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Role,
    ClientsLimited,
    Disabled,
    TotpSecretEnc,
    TotpEnabled,
    TotpLastStep,
    CreatedAt,
    UpdatedAt,
    /// Whether they want their notifications by mail too.
    MailNotifications,
}

#[derive(Iden)]
pub(crate) enum UserClients {
    Table,
    UserId,
    ClientId,
}

/// A user row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub clients_limited: bool,
    pub disabled: bool,
    pub totp_secret_enc: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    pub fn role(&self) -> Role {
        // An unknown role string (from a newer version) grants nothing.
        Role::parse(&self.role).unwrap_or(Role::ClientContact)
    }
}

const COLS: [Users; 12] = [
    Users::Id,
    Users::Email,
    Users::Name,
    Users::PasswordHash,
    Users::Role,
    Users::ClientsLimited,
    Users::Disabled,
    Users::TotpSecretEnc,
    Users::TotpEnabled,
    Users::TotpLastStep,
    Users::CreatedAt,
    Users::UpdatedAt,
];

pub async fn by_id(db: &mut impl Db, id: i64) -> Result<Option<User>> {
    db.fetch_optional(Query::select().columns(COLS).from(Users::Table).and_where(Expr::col(Users::Id).eq(id))).await
}

pub async fn by_email(db: &mut impl Db, email: &str) -> Result<Option<User>> {
    db.fetch_optional(Query::select().columns(COLS).from(Users::Table).and_where(Expr::col(Users::Email).eq(email.trim().to_lowercase())))
        .await
}

pub async fn list(db: &mut impl Db, limit: u64, offset: u64) -> Result<(Vec<User>, i64)> {
    let rows = db
        .fetch_all(Query::select().columns(COLS).from(Users::Table).order_by(Users::Email, Order::Asc).limit(limit).offset(offset))
        .await?;
    let n: crate::store::Count =
        db.fetch_one(Query::select().expr_as(Expr::col(Users::Id).count(), crate::store::n()).from(Users::Table)).await?;
    Ok((rows, n.n))
}

pub async fn count(db: &mut impl Db) -> Result<i64> {
    let n: crate::store::Count =
        db.fetch_one(Query::select().expr_as(Expr::col(Users::Id).count(), crate::store::n()).from(Users::Table)).await?;
    Ok(n.n)
}

/// Fields of a new user.
pub struct NewUser<'a> {
    pub email: &'a crate::validate::Email,
    pub name: &'a crate::validate::Name,
    pub password_hash: &'a str,
    pub role: Role,
    pub clients_limited: bool,
}

pub async fn insert(db: &mut impl Db, u: NewUser<'_>) -> Result<i64> {
    let now = now_us();
    let r: crate::store::IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(Users::Table)
                .columns([
                    Users::Email,
                    Users::Name,
                    Users::PasswordHash,
                    Users::Role,
                    Users::ClientsLimited,
                    Users::CreatedAt,
                    Users::UpdatedAt,
                ])
                .values_panic([
                    u.email.as_str().into(),
                    u.name.as_str().into(),
                    u.password_hash.into(),
                    u.role.as_str().into(),
                    u.clients_limited.into(),
                    now.into(),
                    now.into(),
                ])
                .returning_col(Users::Id),
        )
        .await?;
    Ok(r.id)
}

/// Sets columns on one user and bumps `updated_at`.
pub async fn update(db: &mut impl Db, id: i64, values: Vec<(Users, sea_query::SimpleExpr)>) -> Result<u64> {
    let mut q = Query::update();
    q.table(Users::Table).value(Users::UpdatedAt, now_us()).and_where(Expr::col(Users::Id).eq(id));
    for (c, v) in values {
        q.value(c, v);
    }
    db.execute(&q).await
}

/// The clients a limited user may see.
pub async fn client_ids(db: &mut impl Db, user_id: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct ClientIdRow {
        client_id: i64,
    }
    let rows: Vec<ClientIdRow> = db
        .fetch_all(
            Query::select()
                .column(UserClients::ClientId)
                .from(UserClients::Table)
                .and_where(Expr::col(UserClients::UserId).eq(user_id))
                .order_by(UserClients::ClientId, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.client_id).collect())
}

pub async fn set_client_ids(db: &mut impl Db, user_id: i64, ids: &[i64]) -> Result<()> {
    db.execute(Query::delete().from_table(UserClients::Table).and_where(Expr::col(UserClients::UserId).eq(user_id))).await?;
    for id in ids {
        db.execute(
            Query::insert()
                .into_table(UserClients::Table)
                .columns([UserClients::UserId, UserClients::ClientId])
                .values_panic([user_id.into(), (*id).into()]),
        )
        .await?;
    }
    Ok(())
}

/// Enabled users whose role grants `perm`, by name; for a client, only
/// those allowed on it (the people a ticket may be assigned to).
pub async fn with_permission(db: &mut impl Db, perm: crate::auth::roles::Permission, client_id: Option<i64>) -> Result<Vec<(i64, String)>> {
    let (users, _) = list(db, 10_000, 0).await?;
    let mut out = vec![];
    for u in users {
        let grants = crate::auth::roles::Role::parse(&u.role).is_some_and(|r| r.permissions().has(perm));
        if u.disabled || !grants {
            continue;
        }
        if let (Some(c), true) = (client_id, u.clients_limited) {
            if !client_ids(db, u.id).await?.contains(&c) {
                continue;
            }
        }
        out.push((u.id, u.name));
    }
    out.sort_by_key(|(_, name)| name.to_lowercase());
    Ok(out)
}

/// The addresses of those of `ids` to tell by mail about a ticket of
/// `client_id`: enabled, taking mail notifications, allowed to read
/// tickets and to see that client.
pub async fn mail_recipients(db: &mut impl Db, ids: &[i64], client_id: i64) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        email: String,
        role: String,
        clients_limited: bool,
    }
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .columns([Users::Id, Users::Email, Users::Role, Users::ClientsLimited])
                .from(Users::Table)
                .and_where(Expr::col(Users::Id).is_in(ids.iter().copied()))
                .and_where(Expr::col(Users::Disabled).eq(false))
                .and_where(Expr::col(Users::MailNotifications).eq(true))
                .order_by(Users::Id, sea_query::Order::Asc),
        )
        .await?;
    let mut out = vec![];
    for r in rows {
        let reads = crate::auth::roles::Role::parse(&r.role)
            .is_some_and(|role| role.permissions().has(crate::auth::roles::Permission::TicketsRead));
        if !reads || (r.clients_limited && !client_ids(db, r.id).await?.contains(&client_id)) {
            continue;
        }
        out.push(r.email.trim().to_lowercase());
    }
    Ok(out)
}
