//! The append-only, hash-chained audit log.
//!
//! Every audited change runs inside an [`AuditedTx`]: it takes the chain head's
//! write lock first, the change and its audit entry are written in the same
//! transaction, and [`AuditedTx::commit`] writes the entry before committing.
//! So an entry that cannot be written rolls the action back, and appends are
//! serialised on both engines. Read-only events (a failed sign-in, a secret
//! revealed) use [`record`], which is an audited transaction with no change.

use super::chain::{self, ChainKey, Entry};
use crate::store::{Db, Result, Store, Tx};
use crate::time::now_us;
use sea_query::{Expr, Iden, Order, Query};
use serde_json::Value;

#[derive(Iden, Clone, Copy)]
pub(crate) enum AuditLog {
    Table,
    Seq,
    At,
    ActorUserId,
    Actor,
    SourceIp,
    Action,
    TargetType,
    TargetId,
    ClientId,
    Details,
    PrevHash,
    Hash,
}

#[derive(Iden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

/// Who did something, and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// Human label: the user's email, `token:NAME (email)`, or `cli@HOST`.
    pub label: String,
    pub ip: String,
}

impl Actor {
    /// The host's administrator using the `steward` CLI.
    pub fn cli() -> Actor {
        let host = std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_default();
        Actor { user_id: None, label: format!("cli@{}", if host.is_empty() { "localhost" } else { &host }), ip: "local".into() }
    }

    /// The server itself (jobs, startup).
    pub fn system() -> Actor {
        Actor { user_id: None, label: "system".into(), ip: "local".into() }
    }
}

/// What happened, to what.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub client_id: Option<i64>,
    pub details: Value,
}

impl Event {
    pub fn new(action: &str, target_type: &str, target_id: impl ToString) -> Event {
        Event {
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.to_string(),
            client_id: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn client(mut self, client_id: i64) -> Event {
        self.client_id = Some(client_id);
        self
    }

    pub fn details(mut self, details: Value) -> Event {
        self.details = details;
        self
    }

    /// Adds one detail beside those already set.
    pub fn detail(mut self, key: &str, value: Value) -> Event {
        match &mut self.details {
            Value::Object(m) => {
                m.insert(key.into(), value);
            }
            other => *other = serde_json::json!({ key: value }),
        }
        self
    }
}

/// A transaction whose commit appends one audit entry.
pub struct AuditedTx {
    /// Holds the write turn on the embedded database (see [`Store::begin`]).
    tx: Tx<'static>,
    seq: i64,
    prev: String,
    key: ChainKey,
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    seq: i64,
    hash: String,
}

/// Hands `store` the chain's key, derived from the master key.
pub fn load_key(store: &Store, master: &crate::crypto::MasterKey) {
    store.set_audit_key(master.subkey("audit chain"));
}

/// The store's chain key, for writing and verifying: every entry is keyed.
fn chain_key(store: &Store) -> Result<ChainKey> {
    store
        .audit_key()
        .map(|key| ChainKey { key })
        .ok_or_else(|| crate::store::StoreError::Other("the audit chain's key is not loaded (open the store with the master key)".into()))
}

impl Store {
    /// Begins a transaction that will be committed together with its audit
    /// entry. Takes the chain head's lock first (see the module doc).
    pub async fn begin_audited(&self) -> Result<AuditedTx> {
        let key = chain_key(self)?;
        let mut tx = self.begin().await?;
        let head: HeadRow = tx
            .fetch_one(
                Query::update()
                    .table(AuditHead::Table)
                    .value(AuditHead::Seq, Expr::col(AuditHead::Seq).add(1))
                    .and_where(Expr::col(AuditHead::Id).eq(1))
                    .returning(Query::returning().columns([AuditHead::Seq, AuditHead::Hash])),
            )
            .await?;
        Ok(AuditedTx { tx, seq: head.seq, prev: head.hash, key })
    }
}

impl AuditedTx {
    /// The transaction, for the change being audited.
    pub fn tx(&mut self) -> &mut Tx<'static> {
        &mut self.tx
    }

    /// Commits a change to one record: the entry's details carry the
    /// record `before` and `after` (beside what `event` already holds).
    pub async fn commit_change<T: serde::Serialize>(self, actor: &Actor, mut event: Event, before: &T, after: &T) -> Result<i64> {
        let (b, a) = (serde_json::to_value(before).unwrap_or_default(), serde_json::to_value(after).unwrap_or_default());
        match &mut event.details {
            Value::Object(m) => {
                m.insert("before".into(), b);
                m.insert("after".into(), a);
            }
            other => *other = serde_json::json!({"before": b, "after": a}),
        }
        self.commit(actor, event).await
    }

    /// Appends an entry and goes on: several changes in one transaction,
    /// each with its own entry (an invoice run's clients). The last one is
    /// written by [`AuditedTx::commit`], so the chain never has a gap.
    pub async fn append(&mut self, actor: &Actor, event: Event) -> Result<i64> {
        let (seq, hash) = self.write_entry(actor, event).await?;
        let head: HeadRow = self
            .tx
            .fetch_one(
                Query::update()
                    .table(AuditHead::Table)
                    .value(AuditHead::Seq, Expr::col(AuditHead::Seq).add(1))
                    .value(AuditHead::Hash, hash.clone())
                    .and_where(Expr::col(AuditHead::Id).eq(1))
                    .returning(Query::returning().columns([AuditHead::Seq, AuditHead::Hash])),
            )
            .await?;
        self.seq = head.seq;
        self.prev = hash;
        Ok(seq)
    }

    /// Appends the entry and commits the change with it.
    pub async fn commit(mut self, actor: &Actor, event: Event) -> Result<i64> {
        let (seq, hash) = self.write_entry(actor, event).await?;
        self.tx
            .execute(Query::update().table(AuditHead::Table).value(AuditHead::Hash, hash).and_where(Expr::col(AuditHead::Id).eq(1)))
            .await?;
        self.tx.commit().await?;
        Ok(seq)
    }

    /// Writes the entry numbered `self.seq` after `self.prev`; returns its number and hash.
    async fn write_entry(&mut self, actor: &Actor, event: Event) -> Result<(i64, String)> {
        let mut e = Entry {
            seq: self.seq,
            at: now_us(),
            actor_user_id: actor.user_id,
            actor: actor.label.clone(),
            source_ip: actor.ip.clone(),
            action: event.action,
            target_type: event.target_type,
            target_id: event.target_id,
            client_id: event.client_id.or_else(|| event.details.get("client_id").and_then(Value::as_i64)),
            details: event.details.to_string(),
            prev_hash: self.prev.clone(),
            hash: String::new(),
        };
        e.hash = chain::entry_hash(Some(&self.key), &self.prev, &e);
        use AuditLog as A;
        self.tx
            .execute(
                Query::insert()
                    .into_table(A::Table)
                    .columns([
                        A::Seq,
                        A::At,
                        A::ActorUserId,
                        A::Actor,
                        A::SourceIp,
                        A::Action,
                        A::TargetType,
                        A::TargetId,
                        A::ClientId,
                        A::Details,
                        A::PrevHash,
                        A::Hash,
                    ])
                    .values_panic([
                        e.seq.into(),
                        e.at.into(),
                        e.actor_user_id.into(),
                        e.actor.clone().into(),
                        e.source_ip.clone().into(),
                        e.action.clone().into(),
                        e.target_type.clone().into(),
                        e.target_id.clone().into(),
                        e.client_id.into(),
                        e.details.clone().into(),
                        e.prev_hash.clone().into(),
                        e.hash.clone().into(),
                    ]),
            )
            .await?;
        Ok((e.seq, e.hash))
    }
}

/// Records an event that changes nothing else (sign-ins, reveals).
pub async fn record(store: &Store, actor: &Actor, event: Event) -> Result<i64> {
    store.begin_audited().await?.commit(actor, event).await
}

/// Filters for listing the log.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub action_prefix: Option<String>,
    pub actor_user_id: Option<i64>,
    /// `None`: everything; `Some(set)`: only entries about these clients.
    pub clients: Option<Vec<i64>>,
}

fn apply(q: &mut sea_query::SelectStatement, f: &Filter) {
    if let Some(p) = &f.action_prefix {
        q.and_where(Expr::col(AuditLog::Action).like(crate::store::like_prefix(p)));
    }
    if let Some(u) = f.actor_user_id {
        q.and_where(Expr::col(AuditLog::ActorUserId).eq(u));
    }
    if let Some(c) = &f.clients {
        q.and_where(Expr::col(AuditLog::ClientId).is_in(c.clone()));
    }
}

/// Newest first, paginated, with the total.
pub async fn list(db: &mut impl Db, f: &Filter, limit: u64, offset: u64) -> Result<(Vec<Entry>, i64)> {
    let mut q = Query::select();
    q.column(sea_query::Asterisk).from(AuditLog::Table).order_by(AuditLog::Seq, Order::Desc).limit(limit).offset(offset);
    apply(&mut q, f);
    let rows = db.fetch_all(&q).await?;
    let mut c = Query::select();
    c.expr_as(Expr::col(AuditLog::Seq).count(), sea_query::Alias::new("n")).from(AuditLog::Table);
    apply(&mut c, f);
    let total: crate::store::Count = db.fetch_one(&c).await?;
    Ok((rows, total.n))
}

/// Entries with `seq > after`, oldest first, up to `limit`.
pub async fn page_after(store: &Store, after: i64, limit: u64) -> Result<Vec<Entry>> {
    store
        .clone()
        .fetch_all(
            Query::select()
                .column(sea_query::Asterisk)
                .from(AuditLog::Table)
                .and_where(Expr::col(AuditLog::Seq).gt(after))
                .order_by(AuditLog::Seq, Order::Asc)
                .limit(limit),
        )
        .await
}

/// The chain head: (seq, hash).
pub async fn head(store: &Store) -> Result<(i64, String)> {
    let h: HeadRow = store
        .clone()
        .fetch_one(
            Query::select().columns([AuditHead::Seq, AuditHead::Hash]).from(AuditHead::Table).and_where(Expr::col(AuditHead::Id).eq(1)),
        )
        .await?;
    Ok((h.seq, h.hash))
}

/// Walks the whole chain in pages; returns the number of entries verified.
///
/// The server may append while this walks (a live fleet enrolls, people
/// work), so the head is read when the walk reaches the end, not before:
/// a head beyond the last entry walked means more were committed since the
/// last page, and the walk goes on to them. Entries beyond the head, or a
/// head ahead of the entries that never fills in, still fail.
pub async fn verify(store: &Store) -> Result<std::result::Result<i64, chain::ChainError>> {
    let mut v = chain::Verifier::new(Some(chain_key(store)?));
    let (mut after, mut n, mut catch_ups) = (0, 0, 0);
    loop {
        let page = page_after(store, after, 1000).await?;
        if page.is_empty() {
            let (head_seq, head_hash) = head(store).await?;
            // Each catch-up walks at least one newer entry; the cap only
            // stops a walk that a torrent of appends never lets finish.
            if head_seq > after && catch_ups < 1000 {
                catch_ups += 1;
                let more = page_after(store, after, 1).await?;
                if !more.is_empty() {
                    continue;
                }
            }
            return Ok(v.finish(head_seq, &head_hash).map(|_| n));
        }
        for e in &page {
            if let Err(err) = v.push(e) {
                return Ok(Err(err));
            }
            n += 1;
        }
        after = page.last().map(|e| e.seq).unwrap_or(after);
    }
}
