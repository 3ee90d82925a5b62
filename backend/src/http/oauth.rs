//! Signing in through a provider: `/api/v1/auth/providers`,
//! `/api/v1/auth/oauth/*` (the browser's start and callback, the game's
//! exchange and finish) and `/api/v1/me/oauth` (linked providers). The flow
//! is described in `game::api::oauth`; the checks in `accounts::oauth`.
//!
//! The start and callback are opened by the player's browser: they answer
//! redirects, and for what cannot go back to the game a small HTML page in
//! words (never JSON a player would have to read).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use game::api::oauth::{
    ExchangeRequest, LinkedProviders, OAuthOutcome, ProvidersResponse, StartQuery,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, AuthUser, ClientInfo};
use crate::accounts::{self, CallbackOutcome, CallbackQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(start))
        .routes(routes!(callback))
        .routes(routes!(exchange))
        .routes(routes!(finish))
        .routes(routes!(linked))
        .routes(routes!(unlink))
}

/// One provider (documentation of `game::api::oauth::ProviderInfo`).
#[derive(Serialize, ToSchema)]
pub struct ProviderInfoDoc {
    #[schema(example = "google")]
    pub name: String,
    #[schema(example = "Google")]
    pub display_name: String,
    /// False while the provider cannot be reached.
    pub available: bool,
}

/// `game::api::oauth::ProvidersResponse`.
#[derive(Serialize, ToSchema)]
pub struct ProvidersDoc {
    pub providers: Vec<ProviderInfoDoc>,
}

/// The browser's start (`game::api::oauth::StartQuery`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartParams {
    /// `http://127.0.0.1:<port>/callback`: the game's loopback listener.
    pub redirect_uri: Option<String>,
    /// The game's state, given back on the loopback redirect.
    pub state: Option<String>,
    /// S256 PKCE challenge of the game's verifier.
    pub code_challenge: Option<String>,
    /// `S256`.
    pub code_challenge_method: Option<String>,
}

/// The provider's redirect back (untrusted).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// `game::api::oauth::ExchangeRequest`.
#[derive(Deserialize, ToSchema)]
pub struct ExchangeDoc {
    /// The one-time code from the loopback redirect.
    pub code: String,
    /// The PKCE verifier whose challenge started the flow.
    pub code_verifier: String,
}

/// `game::api::oauth::FinishRequest`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishDoc {
    pub ticket: String,
    /// When the outcome asked `choose_username`.
    pub username: Option<String>,
    /// When the outcome asked `prove_account`: the existing account's password.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
}

/// Tokens of a signed-in outcome (same as `/auth/login`).
#[derive(Serialize, ToSchema)]
pub struct OutcomeTokensDoc {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_in: u64,
}

/// `game::api::oauth::OAuthOutcome`.
#[derive(Serialize, ToSchema)]
pub struct OutcomeDoc {
    /// `signed_in`, `linked`, `choose_username` or `prove_account`.
    #[schema(example = "signed_in")]
    pub status: String,
    pub provider: String,
    /// With `signed_in`.
    pub tokens: Option<OutcomeTokensDoc>,
    /// With `choose_username` and `prove_account`: for `/auth/oauth/finish`.
    pub ticket: Option<String>,
    /// The suggested username, or the existing account's.
    pub username: Option<String>,
}

/// `game::api::oauth::LinkedProvider`.
#[derive(Serialize, ToSchema)]
pub struct LinkedDoc {
    pub provider: String,
    /// RFC 3339
    pub linked_at: String,
}

/// `game::api::oauth::LinkedProviders`.
#[derive(Serialize, ToSchema)]
pub struct LinkedProvidersDoc {
    pub linked: Vec<LinkedDoc>,
    /// Whether the account can also sign in with a password.
    pub has_password: bool,
}

/// The providers this backend offers, and whether each answers now.
#[utoipa::path(
    get, path = "/api/v1/auth/providers", tag = "auth",
    responses(
        (status = 200, description = "configured providers", body = ProvidersDoc),
        (status = 429, description = "rate limited", body = ErrorBody),
    )
)]
async fn list_providers(State(state): State<AppState>) -> Json<ProvidersResponse> {
    Json(ProvidersResponse {
        providers: state.accounts.providers().await,
    })
}

/// Opened in the player's browser by the game: on to the provider.
#[utoipa::path(
    get, path = "/api/v1/auth/oauth/{provider}/start", tag = "auth",
    params(("provider" = String, Path, description = "`google`, `discord`, ..."), StartParams),
    responses(
        (status = 302, description = "to the provider's sign-in page"),
        (status = 400, description = "a bad redirect address, state or challenge (page)", content_type = "text/html"),
        (status = 404, description = "no such provider (page)", content_type = "text/html"),
        (status = 429, description = "rate limited", body = ErrorBody),
        (status = 503, description = "the provider cannot be reached (page)", content_type = "text/html"),
    )
)]
async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(params): Query<StartParams>,
) -> Response {
    let query = StartQuery {
        redirect_uri: params.redirect_uri.unwrap_or_default(),
        state: params.state.unwrap_or_default(),
        code_challenge: params.code_challenge.unwrap_or_default(),
        code_challenge_method: params.code_challenge_method.unwrap_or_default(),
    };
    match state.accounts.oauth_start(&provider, &query).await {
        Ok(url) => redirect(&url),
        Err(error) => error_page(&error),
    }
}

/// Where the provider sends the browser back: on to the game's loopback
/// listener with a one-time code (or the error in words).
#[utoipa::path(
    get, path = "/api/v1/auth/oauth/{provider}/callback", tag = "auth",
    params(("provider" = String, Path, description = "`google`, `discord`, ..."), CallbackParams),
    responses(
        (status = 302, description = "to the game's loopback listener"),
        (status = 400, description = "missing, unknown, used or expired state (page)", content_type = "text/html"),
        (status = 404, description = "no such provider (page)", content_type = "text/html"),
        (status = 429, description = "rate limited", body = ErrorBody),
    )
)]
async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let query = CallbackQuery {
        state: params.state,
        code: params.code,
        error: params.error,
        error_description: params.error_description,
    };
    match state.accounts.oauth_callback(&provider, &query).await {
        Ok(CallbackOutcome::Redirect(url)) => redirect(&url),
        Ok(CallbackOutcome::Page { status, message }) => page(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message,
        ),
        Err(error) => error_page(&error),
    }
}

/// The game trades the loopback code and its PKCE verifier for the outcome.
/// Signed in (`Authorization: Bearer`), the provider is linked to the caller.
#[utoipa::path(
    post, path = "/api/v1/auth/oauth/exchange", tag = "auth",
    request_body = ExchangeDoc,
    responses(
        (status = 200, description = "signed in, linked, or one more step", body = OutcomeDoc),
        (status = 400, description = "`invalid_oauth_code`", body = ErrorBody),
        (status = 401, description = "a bearer token that is not valid", body = ErrorBody),
        (status = 403, description = "`email_not_verified`, `account_suspended`", body = ErrorBody),
        (status = 409, description = "`oauth_identity_taken`, `oauth_already_linked`", body = ErrorBody),
        (status = 422, description = "`oauth_email_required`, `invalid_request`", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody),
    )
)]
async fn exchange(
    State(state): State<AppState>,
    client: ClientInfo,
    auth: Option<AuthUser>,
    ApiJson(body): ApiJson<ExchangeRequest>,
) -> Result<Json<OAuthOutcome>> {
    let caller = auth.map(|auth| auth.caller());
    let outcome = state
        .accounts
        .oauth_exchange(
            &body.code,
            &body.code_verifier,
            caller.as_ref(),
            &client.origin(),
        )
        .await?;
    Ok(Json(outcome))
}

/// The missing step: a username for a new pilot, or the password of the
/// account that owns the provider's address.
#[utoipa::path(
    post, path = "/api/v1/auth/oauth/finish", tag = "auth",
    request_body = FinishDoc,
    responses(
        (status = 200, description = "signed in", body = OutcomeDoc),
        (status = 400, description = "`invalid_oauth_ticket`, `invalid_request`", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`email_not_verified`, `account_suspended`", body = ErrorBody),
        (status = 409, description = "`username_taken`, `oauth_identity_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_username`, `invalid_request`", body = ErrorBody),
        (status = 429, description = "rate limited or locked", body = ErrorBody),
    )
)]
async fn finish(
    State(state): State<AppState>,
    client: ClientInfo,
    ApiJson(body): ApiJson<FinishBody>,
) -> Result<Json<OAuthOutcome>> {
    let outcome = state
        .accounts
        .oauth_finish(
            &body.ticket,
            body.username.as_deref(),
            body.password.as_ref(),
            &client.origin(),
        )
        .await?;
    Ok(Json(outcome))
}

/// `game::api::oauth::FinishRequest` with the password kept secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    ticket: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<SecretString>,
}

/// The providers linked to the caller.
#[utoipa::path(
    get, path = "/api/v1/me/oauth", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "linked providers", body = LinkedProvidersDoc),
        (status = 401, description = "not signed in", body = ErrorBody),
    )
)]
async fn linked(State(state): State<AppState>, auth: AuthUser) -> Result<Json<LinkedProviders>> {
    Ok(Json(state.accounts.linked_providers(&auth.caller()).await?))
}

/// Unlink a provider, as long as a way to sign in remains.
#[utoipa::path(
    delete, path = "/api/v1/me/oauth/{provider}", tag = "me", security(("bearer" = [])),
    params(("provider" = String, Path, description = "`google`, `discord`, ...")),
    responses(
        (status = 204, description = "unlinked"),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 404, description = "`not_found`: not linked", body = ErrorBody),
        (status = 409, description = "`last_sign_in_method`", body = ErrorBody),
    )
)]
async fn unlink(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    Path(provider): Path<String>,
) -> Result<StatusCode> {
    state
        .accounts
        .unlink_provider(&auth.caller(), &provider, &client.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 302 to `url`, not cached, sending no referrer (the URL may hold a code).
fn redirect(url: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(url) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in cannot continue: start again from the game.",
        );
    };
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
    )
        .into_response()
}

fn error_page(error: &accounts::Error) -> Response {
    let status = match error {
        accounts::Error::UnknownProvider => StatusCode::NOT_FOUND,
        accounts::Error::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        accounts::Error::InvalidOAuthRequest(_) => StatusCode::BAD_REQUEST,
        accounts::Error::Database(_) | accounts::Error::Internal(_) => {
            tracing::error!(error = %error, "provider sign-in step failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let words = match error {
        accounts::Error::Database(_) | accounts::Error::Internal(_) => {
            "The station cannot finish this sign-in right now. Try again in a moment.".to_owned()
        }
        other => other.to_string(),
    };
    page(status, &words)
}

/// A small self-contained page: the words, and where to go next.
fn page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Children of the Singularity: sign-in</title>\
         <style>body{{background:#0b0d10;color:#f3b34a;font:16px monospace;margin:4em auto;max-width:40em}}</style>\
         </head><body><h1>SIGN-IN</h1><p>{}</p><p>You can close this tab and return to the game.</p></body></html>",
        escape_html(message)
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape_html("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
    }
}
