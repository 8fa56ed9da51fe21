//! Roles and permissions, as pure data and functions.
//!
//! A role grants a fixed set of permissions. An API token carries scopes, and
//! what it may do is always `scopes ∩ permissions(creator's current role)`, so
//! a token can never exceed its creator, even after the creator is demoted.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A staff or portal role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Technician,
    Billing,
    ReadOnly,
    ClientContact,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Technician, Role::Billing, Role::ReadOnly, Role::ClientContact];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Technician => "technician",
            Role::Billing => "billing",
            Role::ReadOnly => "read_only",
            Role::ClientContact => "client_contact",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Technician => "Technician",
            Role::Billing => "Billing",
            Role::ReadOnly => "Read-only",
            Role::ClientContact => "Client contact",
        }
    }

    /// What this role may do.
    pub fn permissions(self) -> Perms {
        use Permission::*;
        match self {
            Role::Admin => Perms::all(),
            Role::Technician => Perms::of(&[
                ClientsRead,
                ClientsWrite,
                ScriptsRun,
                ScriptsWrite,
                TicketsRead,
                TicketsWrite,
                VaultRead,
                VaultWrite,
                VaultReveal,
                DocsRead,
                DocsWrite,
            ]),
            Role::Billing => Perms::of(&[ClientsRead, BillingRead, BillingWrite, TicketsRead]),
            Role::ReadOnly => Perms::of(&[ClientsRead, UsersRead, BillingRead, TicketsRead, VaultRead, DocsRead]),
            Role::ClientContact => Perms::empty(),
        }
    }

    /// Whether this role may be limited to a set of clients.
    pub fn can_be_client_limited(self) -> bool {
        !matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing a principal may do. The string form is the API token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ClientsRead,
    ClientsWrite,
    UsersRead,
    UsersWrite,
    AuditRead,
    SettingsWrite,
    BillingRead,
    BillingWrite,
    /// Run library scripts on devices (of the clients one may see).
    ScriptsRun,
    /// Add and change library scripts.
    ScriptsWrite,
    /// See tickets, their threads, time and SLA reports.
    TicketsRead,
    /// Open, answer and change tickets; log time.
    TicketsWrite,
    /// Create tickets and entries with past instants (imports from another
    /// PSA); the SLA clocks then run from those instants.
    TicketsImport,
    /// Configure the service desk: statuses, priorities, boards, business
    /// calendars and SLA policies; approve timesheets.
    ServiceDeskAdmin,
    /// See vault entries (names, user names, URLs), never their secrets.
    VaultRead,
    /// Add and change vault entries.
    VaultWrite,
    /// Reveal a vault entry's secrets (in a session with a recent second factor).
    VaultReveal,
    /// Read the documentation: knowledge-base articles.
    DocsRead,
    /// Write and change the documentation.
    DocsWrite,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::ClientsRead,
        Permission::ClientsWrite,
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::AuditRead,
        Permission::SettingsWrite,
        Permission::BillingRead,
        Permission::BillingWrite,
        Permission::ScriptsRun,
        Permission::ScriptsWrite,
        Permission::TicketsRead,
        Permission::TicketsWrite,
        Permission::TicketsImport,
        Permission::ServiceDeskAdmin,
        Permission::VaultRead,
        Permission::VaultWrite,
        Permission::VaultReveal,
        Permission::DocsRead,
        Permission::DocsWrite,
    ];

    pub fn scope(self) -> &'static str {
        match self {
            Permission::ClientsRead => "clients:read",
            Permission::ClientsWrite => "clients:write",
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::AuditRead => "audit:read",
            Permission::SettingsWrite => "settings:write",
            Permission::BillingRead => "billing:read",
            Permission::BillingWrite => "billing:write",
            Permission::ScriptsRun => "scripts:run",
            Permission::ScriptsWrite => "scripts:write",
            Permission::TicketsRead => "tickets:read",
            Permission::TicketsWrite => "tickets:write",
            Permission::TicketsImport => "tickets:import",
            Permission::ServiceDeskAdmin => "service_desk:admin",
            Permission::VaultRead => "vault:read",
            Permission::VaultWrite => "vault:write",
            Permission::VaultReveal => "vault:reveal",
            Permission::DocsRead => "docs:read",
            Permission::DocsWrite => "docs:write",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.scope() == s)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Perms(u32);

impl Perms {
    pub fn empty() -> Perms {
        Perms(0)
    }
    pub fn all() -> Perms {
        Perms::of(&Permission::ALL)
    }
    pub fn of(ps: &[Permission]) -> Perms {
        Perms(ps.iter().fold(0, |acc, p| acc | p.bit()))
    }
    pub fn has(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }
    pub fn intersect(self, o: Perms) -> Perms {
        Perms(self.0 & o.0)
    }
    pub fn is_subset_of(self, o: Perms) -> bool {
        self.0 & !o.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.has(*p))
    }
    pub fn scopes(self) -> Vec<String> {
        self.iter().map(|p| p.scope().to_string()).collect()
    }
}

/// Why a requested token scope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope {0:?}")]
    Unknown(String),
    #[error("scope {0:?} exceeds what your role allows")]
    Exceeds(String),
    #[error("a token needs at least one scope")]
    Empty,
}

/// Parses the scopes asked for a new token and checks them against the
/// creator's role.
pub fn token_scopes(creator: Role, requested: &[String]) -> Result<Perms, ScopeError> {
    if requested.is_empty() {
        return Err(ScopeError::Empty);
    }
    let allowed = creator.permissions();
    let mut out = Perms::empty();
    for s in requested {
        let p = Permission::parse(s).ok_or_else(|| ScopeError::Unknown(s.clone()))?;
        if !allowed.has(p) {
            return Err(ScopeError::Exceeds(s.clone()));
        }
        out = Perms(out.0 | p.bit());
    }
    Ok(out)
}

/// Parses stored scopes leniently (unknown ones are dropped: never granted).
pub fn parse_scopes(scopes: &[String]) -> Perms {
    Perms::of(&scopes.iter().filter_map(|s| Permission::parse(s)).collect::<Vec<_>>())
}

/// What a token may do right now: its scopes cut down to its creator's role.
pub fn effective_token_perms(creator_now: Role, scopes: Perms) -> Perms {
    scopes.intersect(creator_now.permissions())
}

/// A token scope, for the API's schema: one of [`Permission::ALL`].
pub struct Scope;

impl utoipa::PartialSchema for Scope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let names: Vec<serde_json::Value> = Permission::ALL.iter().map(|p| p.scope().into()).collect();
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)).into()
    }
}
impl utoipa::ToSchema for Scope {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }
    fn scopes() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(proptest::sample::select(Permission::ALL.to_vec()).prop_map(|p| p.scope().to_string()), 0..8)
    }

    proptest! {
        #[test]
        fn a_token_never_exceeds_its_creator(creator in role(), later in role(), req in scopes()) {
            match token_scopes(creator, &req) {
                Ok(granted) => {
                    prop_assert!(granted.is_subset_of(creator.permissions()));
                    // And after the creator's role changes, the token shrinks with it.
                    prop_assert!(effective_token_perms(later, granted).is_subset_of(later.permissions()));
                }
                Err(ScopeError::Exceeds(s)) => prop_assert!(!creator.permissions().has(Permission::parse(&s).unwrap())),
                Err(ScopeError::Empty) => prop_assert!(req.is_empty()),
                Err(ScopeError::Unknown(_)) => prop_assert!(false, "only known scopes were generated"),
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.scope()), Some(p));
        }
        assert_eq!(token_scopes(Role::Admin, &["root".into()]), Err(ScopeError::Unknown("root".into())));
    }
}
