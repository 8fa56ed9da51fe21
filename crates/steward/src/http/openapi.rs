//! The frame of the OpenAPI 3.1 document: title, security schemes and the
//! error responses every operation can give. Each domain's handlers add
//! their own paths through their `#[utoipa::path]` annotations, so a route
//! that is registered is documented by construction; `routes` merges them.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Steward API", description = "The Steward MSP platform's JSON API. Authenticate with `Authorization: Bearer stw_…` (an API token) or the session cookie plus `X-CSRF-Token`. Errors are always `{\"error\":{\"code\",\"message\"}}` (plus `field` naming the request field a validation error is about). Times are RFC 3339 strings in UTC. Each operation's `x-steward-needs` says what it needs: a permission (the token scope of the same name), `session` (an interactive sign-in, never a token), `signed-in` or `anyone`."),
    modifiers(&Security),
    components(schemas(crate::error::ErrorEnvelope, crate::error::ErrorBody)),
    security(("bearer" = []), ("session" = [])),
    tags((name = "auth"), (name = "tenancy"), (name = "users"), (name = "audit"), (name = "settings"), (name = "devices"), (name = "scripts"))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("stw_…").build()),
        );
        c.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::principal::SESSION_COOKIE))));
    }
}

/// An empty API router carrying the document's frame.
pub fn frame<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
}

/// Statuses any operation can answer with, whatever it does: the guard and
/// the extractors give them before a handler runs (a body too large, a
/// wrong content type, no administrator yet, a rate limit).
const ANY_OPERATION: [(&str, &str); 7] = [
    ("400", "A parameter or the body is malformed or invalid (`field` names it)"),
    ("401", "Not signed in, or the token is not valid"),
    ("403", "Not allowed: a missing permission or scope, a wrong CSRF token or origin"),
    ("404", "No such resource, or not one the caller may see"),
    ("429", "Too many requests or failed attempts; see Retry-After"),
    ("500", "Internal error (logged on the server)"),
    ("503", "No administrator exists yet (setup_required)"),
];

/// Statuses of operations that change something.
const WRITES: [(&str, &str); 2] = [
    ("409", "Conflicts with what is stored: a name already taken, or a state that does not allow this"),
    ("422", "Well-formed but refused for what it means: a reference to a record that is not there or not this client's, or a broken rule (`field` names it)"),
];

/// Statuses of operations that take a body.
const WITH_BODY: [(&str, &str); 2] = [("413", "The body is larger than the server accepts"), ("415", "The body is not JSON")];

/// Adds the error responses every operation can give to each one that
/// does not already say more about them.
pub fn complete(api: &mut utoipa::openapi::OpenApi) {
    let error = || ResponseBuilder::new().content("application/json", Content::new(Some(Ref::from_schema_name("ErrorEnvelope"))));
    for item in api.paths.paths.values_mut() {
        let reads = [&mut item.get].into_iter().flatten().map(|op| (op, false));
        let writes = [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten().map(|op| (op, true));
        for (op, write) in reads.chain(writes) {
            let body = op.request_body.is_some();
            let extra = if write { &WRITES[..] } else { &[] };
            for (status, what) in ANY_OPERATION.iter().chain(extra).chain(if body { &WITH_BODY[..] } else { &[] }) {
                if !op.responses.responses.contains_key(*status) {
                    op.responses.responses.insert(status.to_string(), error().description(*what).build().into());
                }
            }
        }
    }
}
