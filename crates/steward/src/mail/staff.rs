//! Telling staff: a new ticket on a board they watch, the client writing
//! on a ticket assigned to them, an SLA warning or breach of theirs. Each
//! is an in-app notification and, for those who take them by mail (the
//! default), a mail through the outbox, in the transaction of what
//! happened. `GET`/`PUT /api/v1/me/mail-notifications`: one's own choice
//! and the boards one watches.

use crate::app::App;
use crate::audit::store::Event;
use crate::auth::principal::Principal;
use crate::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::ApiJson;
use crate::notifications::store::{insert as notify, NewNotification};
use crate::store::{Db, Result};
use crate::tickets::store::TicketRow;
use crate::users::store::Users;
use axum::extract::State;
use axum::Json;
use sea_query::{Expr, Iden, Order, Query};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Iden, Clone, Copy)]
enum BoardWatchers {
    Table,
    BoardId,
    UserId,
}

/// Who watches `board`.
pub async fn watchers(db: &mut impl Db, board: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: i64,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Query::select()
                .column(BoardWatchers::UserId)
                .from(BoardWatchers::Table)
                .and_where(Expr::col(BoardWatchers::BoardId).eq(board))
                .order_by(BoardWatchers::UserId, Order::Asc),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// What staff are told: the template (`staff_new_ticket`,
/// `staff_client_reply`, `staff_sla`), the notification's line, and what
/// the mail quotes.
pub struct Notice<'a> {
    pub kind: &'a str,
    pub text: &'a str,
    pub message: &'a str,
}

/// Tells `users` about ticket `t`: in the app, and by mail those who take it.
pub async fn tell(app: &App, db: &mut impl Db, t: &TicketRow, users: &[i64], n: Notice<'_>, now: i64) -> Result<()> {
    let mut told = vec![];
    for u in users {
        if told.contains(u) {
            continue;
        }
        told.push(*u);
        let kind = n.kind;
        notify(db, NewNotification { user_id: *u, client_id: Some(t.client_id), ticket_id: Some(t.id), kind, text: n.text, at: now })
            .await?;
    }
    super::outbox::enqueue_staff(app, db, n.kind, t.id, &told, n.message, now).await?;
    Ok(())
}

/// One's mail notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailNotifications {
    /// Notifications by mail too (not only in the app).
    pub enabled: bool,
    /// The boards whose new tickets one is told of.
    #[serde(default)]
    pub watched_boards: Vec<i64>,
}

async fn read(db: &mut impl Db, user: i64) -> Result<MailNotifications> {
    #[derive(sqlx::FromRow)]
    struct Flag {
        mail_notifications: bool,
    }
    #[derive(sqlx::FromRow)]
    struct Board {
        board_id: i64,
    }
    let f: Option<Flag> = db
        .fetch_optional(Query::select().column(Users::MailNotifications).from(Users::Table).and_where(Expr::col(Users::Id).eq(user)))
        .await?;
    let boards: Vec<Board> = db
        .fetch_all(
            Query::select()
                .column(BoardWatchers::BoardId)
                .from(BoardWatchers::Table)
                .and_where(Expr::col(BoardWatchers::UserId).eq(user))
                .order_by(BoardWatchers::BoardId, Order::Asc),
        )
        .await?;
    Ok(MailNotifications {
        enabled: f.is_some_and(|f| f.mail_notifications),
        watched_boards: boards.into_iter().map(|b| b.board_id).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/me/mail-notifications", tag = "mail",
    responses((status = 200, body = MailNotifications), (status = 401, body = ErrorEnvelope)))]
pub async fn show(State(app): State<App>, p: Principal) -> ApiResult<Json<MailNotifications>> {
    Ok(Json(read(&mut app.store.clone(), p.user.id).await?))
}

#[utoipa::path(put, path = "/api/v1/me/mail-notifications", tag = "mail", request_body = MailNotifications,
    responses((status = 200, body = MailNotifications), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(app): State<App>,
    p: Principal,
    ApiJson(mut r): ApiJson<MailNotifications>,
) -> ApiResult<Json<MailNotifications>> {
    r.watched_boards.sort();
    r.watched_boards.dedup();
    if r.watched_boards.len() > 100 {
        return Err(ApiError::invalid("watched_boards", "at most 100"));
    }
    let mut tx = app.store.begin_audited().await?;
    let db = tx.tx();
    let boards = crate::tickets::store::config::boards(db).await?;
    if let Some(bad) = r.watched_boards.iter().find(|b| !boards.iter().any(|x| x.id == **b)) {
        return Err(ApiError::refused("watched_boards", format!("there is no board {bad}")));
    }
    let before = read(db, p.user.id).await?;
    crate::users::store::update(db, p.user.id, vec![(Users::MailNotifications, r.enabled.into())]).await?;
    db.execute(Query::delete().from_table(BoardWatchers::Table).and_where(Expr::col(BoardWatchers::UserId).eq(p.user.id))).await?;
    for b in &r.watched_boards {
        db.execute(
            Query::insert()
                .into_table(BoardWatchers::Table)
                .columns([BoardWatchers::BoardId, BoardWatchers::UserId])
                .values_panic([(*b).into(), p.user.id.into()]),
        )
        .await?;
    }
    let after = read(db, p.user.id).await?;
    tx.commit(&p.actor(), Event::new("user.mail_notifications", "user", p.user.id).details(json!({"before": before, "after": after})))
        .await?;
    Ok(Json(after))
}

/// A new ticket: those watching its board are told (not `except`, who
/// opened it).
pub async fn new_ticket(app: &App, db: &mut impl Db, ticket_id: i64, except: Option<i64>, now: i64) -> Result<()> {
    let Some(t) = crate::tickets::store::get_any(db, ticket_id).await? else { return Ok(()) };
    let users: Vec<i64> = watchers(db, t.board_id).await?.into_iter().filter(|u| Some(*u) != except).collect();
    if users.is_empty() {
        return Ok(());
    }
    let text = format!("New ticket {}: {}", crate::tickets::model::display_number(t.number), t.subject);
    tell(app, db, &t, &users, Notice { kind: "staff_new_ticket", text: &text, message: "" }, now).await
}

/// The client wrote on a ticket: its assignee is told.
pub async fn client_reply(app: &App, db: &mut impl Db, t: &TicketRow, message: &str, now: i64) -> Result<()> {
    let Some(user) = t.assignee_id else { return Ok(()) };
    let text = format!("The client wrote on {}: {}", crate::tickets::model::display_number(t.number), t.subject);
    tell(app, db, t, &[user], Notice { kind: "staff_client_reply", text: &text, message }, now).await
}
