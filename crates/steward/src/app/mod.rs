//! The application state every handler, job and listener is given: the
//! store, the configuration, the master key, the running services (who is
//! connected, the batched writers, the event bus) and what the domains
//! registered at start (navigation, search sources, page panels).
//!
//! It sits above the store and the running services and below the domains:
//! it knows nothing of what a domain does, only what it is handed.

pub mod domain;
pub mod future;
pub mod panels;
pub mod search;

use crate::config::Config;
use crate::crypto::MasterKey;
use crate::devices::inventory::runtime::Inventories;
use crate::devices::presence::runtime::Presence;
use crate::devices::runtime::heartbeats::Heartbeats;
use crate::devices::runtime::registry::Registry;
use crate::error::ApiError;
use crate::events::Bus;
use crate::monitoring::runtime::MetricsIngest;
use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Everything a handler may use.
pub struct AppState {
    pub store: Store,
    pub cfg: Config,
    pub master: MasterKey,
    /// SPKI SHA-256 agents pin: `--agent-pin`, else our TLS certificate's.
    pub agent_pin: OnceLock<String>,
    /// The port agents connect to when it is not the one the pages were
    /// asked on (the demo serves its pages over plain HTTP and agents over
    /// TLS beside them); install commands name it.
    pub agent_port: OnceLock<u16>,
    /// The agent binaries handed out to install commands.
    pub agent_binaries: crate::devices::enrollment::runtime::Binaries,
    /// Signs every command to an agent; sealed in the database by the
    /// master key (`crypto::command_key`). The only other secret this
    /// process holds besides the master key and the TLS key.
    pub command_key: ed25519_dalek::SigningKey,
    /// Connected agents.
    pub agents: Arc<Registry>,
    /// Batched last-seen writes from agents' heartbeats.
    pub heartbeats: Heartbeats,
    /// Batched inventory reports.
    pub inventories: Inventories,
    /// Batched connects and disconnects: flags, history, then events.
    pub presence: Presence,
    /// Batched metric writes, acknowledged to agents once stored.
    pub metrics: MetricsIngest,
    /// Agents' check results, on their way to the checks domain.
    pub checks: crate::monitoring::checks::runtime::CheckIngest,
    /// What happened, for the other domains and open pages.
    pub bus: Bus,
    /// This node's full-text index, fed from the outbox by `search::indexer`.
    pub search: Arc<crate::search::runtime::Index>,
    /// Failures of unauthenticated callers, counted and summarised into the audit log.
    pub failures: crate::audit::runtime::Failures,
    /// What the domains registered (set once, when the router is built).
    registered: OnceLock<domain::Registered>,
    admin_exists: AtomicBool,
}

/// Shared handle to the application state.
pub type App = Arc<AppState>;

impl AppState {
    pub async fn open(store: Store, cfg: Config, master: MasterKey) -> anyhow::Result<App> {
        crate::audit::store::load_key(&store, &master);
        let command_key = crate::crypto::command_key::load_or_create(&store, &master).await?;
        crate::devices::presence::store::reset(&store, crate::devices::presence::store::SERVER_RESTARTED).await?;
        let agent_pin = OnceLock::new();
        if let Some(pin) = &cfg.agent_pin {
            let _ = agent_pin.set(pin.clone());
        }
        let agent_binaries = crate::devices::enrollment::runtime::Binaries::discover(cfg.agent_dir.as_deref());
        let search = Arc::new(crate::search::runtime::Index::open(&cfg.data_dir.join("search"))?);
        let agents: Arc<Registry> = Default::default();
        let bus = Bus::default();
        Ok(Arc::new(AppState {
            presence: Presence::start(store.clone(), agents.clone(), bus.clone()),
            inventories: Inventories::start(store.clone(), bus.clone()),
            heartbeats: Heartbeats::start(store.clone()),
            metrics: MetricsIngest::start(store.clone()),
            checks: Default::default(),
            failures: crate::audit::runtime::Failures::start(store.clone()),
            search,
            store,
            cfg,
            master,
            agent_pin,
            agent_port: OnceLock::new(),
            agent_binaries,
            command_key,
            agents,
            bus,
            registered: OnceLock::new(),
            admin_exists: AtomicBool::new(false),
        }))
    }

    /// Writes everything the batched writers hold (a clean stop): what a
    /// crash would lose is sent again by the agents, but a stop need not.
    pub async fn flush_queues(&self) {
        tokio::join!(self.heartbeats.flush(), self.metrics.flush(), self.inventories.flush(), self.presence.flush(), self.failures.flush());
    }

    /// Whether the first administrator has been created (on the host, with
    /// `steward admin create`). Cached once true: administrators are never
    /// deleted, only disabled.
    pub async fn has_admin(&self) -> Result<bool, ApiError> {
        if self.admin_exists.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let n = crate::users::store::count(&mut self.store.clone()).await?;
        if n > 0 {
            self.admin_exists.store(true, Ordering::Relaxed);
        }
        Ok(n > 0)
    }

    /// Hands over what the domains registered; once, when the router is built.
    pub fn register(&self, r: domain::Registered) {
        let _ = self.registered.set(r);
    }

    /// What the domains registered (empty before the router is built).
    pub fn registered(&self) -> &domain::Registered {
        static EMPTY: OnceLock<domain::Registered> = OnceLock::new();
        self.registered.get().unwrap_or_else(|| EMPTY.get_or_init(Default::default))
    }
}
