//! Canned responses in the database: the ones a user may see (shared or
//! their own; for every client or for one of theirs), one by id, and the
//! changes.

use crate::auth::principal::Principal;
use crate::store::{Db, IdRow, Result};
use sea_query::{Cond, Expr, Iden, Order, Query, SelectStatement};

#[derive(Iden, Clone, Copy)]
pub(crate) enum CannedResponses {
    Table,
    Id,
    Name,
    Body,
    ClientId,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

/// A canned response as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct CannedRow {
    pub id: i64,
    pub name: String,
    pub body: String,
    pub client_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: [CannedResponses; 7] = [
    CannedResponses::Id,
    CannedResponses::Name,
    CannedResponses::Body,
    CannedResponses::ClientId,
    CannedResponses::OwnerId,
    CannedResponses::CreatedAt,
    CannedResponses::UpdatedAt,
];

/// Those `p` may see: shared or their own, and for every client or for
/// one of the clients they see; `client` narrows to those usable on that
/// client's tickets.
fn visible(p: &Principal, client: Option<i64>) -> Cond {
    let owners = Cond::any().add(Expr::col(CannedResponses::OwnerId).is_null()).add(Expr::col(CannedResponses::OwnerId).eq(p.user.id));
    let clients = Cond::any().add(Expr::col(CannedResponses::ClientId).is_null());
    let clients = match (client, &p.clients) {
        (Some(c), _) => clients.add(Expr::col(CannedResponses::ClientId).eq(c)),
        (None, Some(ids)) => clients.add(Expr::col(CannedResponses::ClientId).is_in(ids.clone())),
        (None, None) => clients.add(Expr::col(CannedResponses::ClientId).is_not_null()),
    };
    Cond::all().add(owners).add(clients)
}

fn select(cond: Cond) -> SelectStatement {
    Query::select().columns(COLS).from(CannedResponses::Table).cond_where(cond).to_owned()
}

/// What `p` may see, by name; `client`: only those usable on its tickets
/// (the caller has checked that `p` sees that client).
pub async fn list(db: &mut impl Db, p: &Principal, client: Option<i64>) -> Result<Vec<CannedRow>> {
    db.fetch_all(select(visible(p, client)).order_by(CannedResponses::Name, Order::Asc).order_by(CannedResponses::Id, Order::Asc)).await
}

/// One `p` may see.
pub async fn get(db: &mut impl Db, p: &Principal, id: i64) -> Result<Option<CannedRow>> {
    db.fetch_optional(&select(visible(p, None).add(Expr::col(CannedResponses::Id).eq(id)))).await
}

pub struct NewCanned<'a> {
    pub name: &'a str,
    pub body: &'a str,
    pub client_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub at: i64,
}

pub async fn insert(db: &mut impl Db, c: NewCanned<'_>) -> Result<i64> {
    let r: IdRow = db
        .fetch_one(
            Query::insert()
                .into_table(CannedResponses::Table)
                .columns([
                    CannedResponses::Name,
                    CannedResponses::Body,
                    CannedResponses::ClientId,
                    CannedResponses::OwnerId,
                    CannedResponses::CreatedAt,
                    CannedResponses::UpdatedAt,
                ])
                .values_panic([c.name.into(), c.body.into(), c.client_id.into(), c.owner_id.into(), c.at.into(), c.at.into()])
                .returning_col(CannedResponses::Id),
        )
        .await?;
    Ok(r.id)
}

pub async fn update(db: &mut impl Db, id: i64, name: &str, body: &str, at: i64) -> Result<()> {
    db.execute(
        Query::update()
            .table(CannedResponses::Table)
            .value(CannedResponses::Name, name)
            .value(CannedResponses::Body, body)
            .value(CannedResponses::UpdatedAt, at)
            .and_where(Expr::col(CannedResponses::Id).eq(id)),
    )
    .await?;
    Ok(())
}

pub async fn delete(db: &mut impl Db, id: i64) -> Result<()> {
    db.execute(Query::delete().from_table(CannedResponses::Table).and_where(Expr::col(CannedResponses::Id).eq(id))).await?;
    Ok(())
}
