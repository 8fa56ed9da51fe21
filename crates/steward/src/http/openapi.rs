//! The JSON API's router and its OpenAPI 3.1 document, generated from the
//! handlers' annotations: a route registered here is documented by
//! construction, and the route-walking scope test reads this document.

use super::App;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Steward API", description = "The Steward MSP platform's JSON API. Authenticate with `Authorization: Bearer stw_…` (an API token) or the session cookie plus `X-CSRF-Token`. Errors are always `{\"error\":{\"code\",\"message\"}}`."),
    modifiers(&Security),
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
        c.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))));
    }
}

/// Every `/api/v1` route.
pub fn api_router() -> OpenApiRouter<App> {
    use crate::{audit, auth, devices, settings, tenancy, users};
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::api::login))
        .routes(routes!(auth::api::logout))
        .routes(routes!(auth::api::me))
        .routes(routes!(auth::api::password))
        .routes(routes!(auth::api::mfa_start))
        .routes(routes!(auth::api::mfa_confirm))
        .routes(routes!(auth::api::list_sessions))
        .routes(routes!(auth::api::revoke_session))
        .routes(routes!(auth::api::list_tokens, auth::api::create_token))
        .routes(routes!(auth::api::revoke_token))
        .routes(routes!(tenancy::api::list_clients, tenancy::api::create_client))
        .routes(routes!(tenancy::api::get_client, tenancy::api::update_client, tenancy::api::archive_client))
        .routes(routes!(tenancy::api::list_sites, tenancy::api::create_site))
        .routes(routes!(tenancy::api::get_site, tenancy::api::update_site))
        .routes(routes!(tenancy::api::list_contacts, tenancy::api::create_contact))
        .routes(routes!(tenancy::api::get_contact, tenancy::api::update_contact))
        .routes(routes!(users::api::list, users::api::create))
        .routes(routes!(users::api::get, users::api::update))
        .routes(routes!(users::api::reset_mfa))
        .routes(routes!(audit::api::list))
        .routes(routes!(audit::api::verify))
        .routes(routes!(settings::api::get, settings::api::update))
        .routes(routes!(devices::api::list, devices::api::create))
        .routes(routes!(devices::api::revoke))
        .routes(routes!(devices::api::list_all))
        .routes(routes!(devices::api::list_for_client))
        .routes(routes!(devices::api::get_device, devices::api::revoke_device, devices::own_settings::update_device))
        .routes(routes!(devices::api::ping))
        .routes(routes!(devices::api::presence))
        .routes(routes!(devices::inventory_api::inventory))
        .routes(routes!(devices::inventory_api::changes))
        .routes(routes!(crate::monitoring::api::metrics))
        .routes(routes!(crate::scripts::api::list, crate::scripts::api::create))
        .routes(routes!(crate::scripts::api::get, crate::scripts::api::update))
        .routes(routes!(crate::scripts::api::run))
        .routes(routes!(crate::scripts::api::list_runs))
        .routes(routes!(crate::scripts::api::get_run))
        .routes(routes!(crate::scripts::api::approve))
        .routes(routes!(crate::scripts::api::reject))
        .routes(routes!(crate::scripts::api::cancel))
        .routes(routes!(crate::scripts::api::device_results))
}

/// The OpenAPI document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}
