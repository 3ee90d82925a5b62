//! Sign-in through a provider, against a REAL OpenID Connect provider on
//! loopback (the `oidc-provider` package run by
//! `scripts/oidc-test-provider/provider.mjs`): Google's path (discovery, ID
//! token checked against the JWKS) and Discord's (plain OAuth 2.0 and a user
//! endpoint), on SQLite and PostgreSQL.
//!
//! The test plays the game (PKCE pair, state, loopback address) and asks the
//! provider harness to play the browser (`/test/drive`: follow the
//! redirects, sign the given identity in, stop at the loopback redirect).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, PASSWORD, TestApp, Tokens, assert_error, random_token, spawn_app_with,
};
use crate::support_oidc::{self, DriveOptions, DriveResult, Identity, OidcProvider};

const SECRET: &str = "test-client-secret-0123456789";

/// A test server with Google (OpenID Connect) and Discord (OAuth 2.0)
/// pointing at the shared provider, with clients registered for it.
struct OAuthApp {
    app: TestApp,
    provider: &'static OidcProvider,
}

async fn spawn(backend: Backend, extra: &[(&str, &str)]) -> Option<OAuthApp> {
    let provider = support_oidc::shared().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let google_id = format!("google-{tag}");
    let discord_id = format!("discord-{tag}");
    let issuer = provider.issuer.clone();
    let auth_url = format!("{issuer}/auth");
    let token_url = format!("{issuer}/token");
    let userinfo_url = format!("{issuer}/users/@me");
    let mut settings: Vec<(&str, &str)> = vec![
        ("OAUTH_GOOGLE_CLIENT_ID", &google_id),
        ("OAUTH_GOOGLE_CLIENT_SECRET", SECRET),
        ("OAUTH_GOOGLE_ISSUER", &issuer),
        ("OAUTH_DISCORD_CLIENT_ID", &discord_id),
        ("OAUTH_DISCORD_CLIENT_SECRET", SECRET),
        ("OAUTH_DISCORD_AUTH_URL", &auth_url),
        ("OAUTH_DISCORD_TOKEN_URL", &token_url),
        ("OAUTH_DISCORD_USERINFO_URL", &userinfo_url),
    ];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(backend, &settings).await?;
    provider
        .register_client(
            &google_id,
            SECRET,
            &app.url("/api/v1/auth/oauth/google/callback"),
            "oidc",
        )
        .await;
    provider
        .register_client(
            &discord_id,
            SECRET,
            &app.url("/api/v1/auth/oauth/discord/callback"),
            "oauth2",
        )
        .await;
    Some(OAuthApp { app, provider })
}

macro_rules! both_databases_with_provider {
    ($name:ident) => {
        mod $name {
            use crate::helpers::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = super::spawn(Backend::Sqlite, &[])
                    .await
                    .expect("sqlite app");
                super::$name(&app).await;
                app.app.teardown().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = super::spawn(Backend::Postgres, &[]).await else {
                    return;
                };
                super::$name(&app).await;
                app.app.teardown().await;
            }
        }
    };
}

/// What the game holds during one sign-in.
struct GameSide {
    verifier: String,
    state: String,
    redirect_uri: String,
}

impl GameSide {
    fn new() -> Self {
        // Nobody listens there: the drive stops at the redirect.
        Self {
            verifier: random_token(),
            state: random_token(),
            redirect_uri: "http://127.0.0.1:9/callback".to_owned(),
        }
    }

    fn challenge(&self) -> String {
        game::api::oauth::challenge_s256(&self.verifier)
    }

    fn start_url(&self, app: &TestApp, provider: &str) -> String {
        let query = serde_urlencoded(&[
            ("redirect_uri", self.redirect_uri.as_str()),
            ("state", &self.state),
            ("code_challenge", &self.challenge()),
            ("code_challenge_method", "S256"),
        ]);
        app.url(&format!("/api/v1/auth/oauth/{provider}/start?{query}"))
    }
}

fn serde_urlencoded(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

/// The query parameters of the loopback URL the drive ended at.
fn loopback_params(result: &DriveResult) -> std::collections::HashMap<String, String> {
    assert!(
        result.final_url.starts_with("http://127.0.0.1:9/callback?"),
        "the browser should end at the game's loopback address: {} ({}): {}",
        result.final_url,
        result.status,
        result.body
    );
    reqwest::Url::parse(&result.final_url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A new sign-in of the game's, its browser played by the provider harness
/// as `identity`: the game's side and where the browser ended.
async fn browse(
    app: &OAuthApp,
    provider: &str,
    identity: &Identity,
    options: DriveOptions,
) -> (GameSide, DriveResult) {
    let game = GameSide::new();
    let result = app
        .provider
        .drive(&game.start_url(&app.app, provider), identity, options)
        .await;
    (game, result)
}

/// One whole sign-in up to the game's exchange; the exchange's answer.
async fn sign_in_with(app: &OAuthApp, provider: &str, identity: &Identity) -> reqwest::Response {
    let (game, result) = browse(app, provider, identity, DriveOptions::default()).await;
    let params = loopback_params(&result);
    assert_eq!(
        params.get("state"),
        Some(&game.state),
        "the game's state comes back"
    );
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("a code, not an error: {params:?}"));
    exchange(&app.app, code, &game.verifier, None).await
}

async fn exchange(
    app: &TestApp,
    code: &str,
    verifier: &str,
    bearer: Option<&str>,
) -> reqwest::Response {
    let body = json!({ "code": code, "code_verifier": verifier });
    match bearer {
        Some(token) => {
            app.post_authed("/api/v1/auth/oauth/exchange", token, Some(&body))
                .await
        }
        None => app.post_json("/api/v1/auth/oauth/exchange", &body).await,
    }
}

async fn signed_in_tokens(response: reqwest::Response) -> Tokens {
    assert_eq!(response.status(), StatusCode::OK);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["status"], "signed_in", "{outcome}");
    serde_json::from_value(outcome["tokens"].clone()).expect("tokens")
}

async fn me(app: &TestApp, tokens: &Tokens) -> Value {
    let response = app.get_authed("/api/v1/me", &tokens.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

both_databases_with_provider!(providers_are_listed_and_available);
async fn providers_are_listed_and_available(app: &OAuthApp) {
    let body: Value = app
        .app
        .get("/api/v1/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"providers": [
            {"name": "google", "display_name": "Google", "available": true},
            {"name": "discord", "display_name": "Discord", "available": true},
        ]})
    );
}

both_databases_with_provider!(google_first_sign_in_creates_a_pilot_then_signs_it_in);
async fn google_first_sign_in_creates_a_pilot_then_signs_it_in(app: &OAuthApp) {
    let identity = Identity::random();
    let tokens = signed_in_tokens(sign_in_with(app, "google", &identity).await).await;
    let profile = me(&app.app, &tokens).await;
    assert_eq!(profile["username"], identity.username);
    assert_eq!(profile["email"], identity.email);
    assert_eq!(
        profile["email_verified"], true,
        "the provider vouched for it"
    );
    assert_eq!(app.app.count("oauth_accounts").await, 1);
    assert_eq!(app.app.count_events("provider_sign_in").await, 1);

    // The same tokens as a password login: refresh rotates them.
    let refreshed = app
        .app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": tokens.refresh_token}),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);

    // No password to guess: a login with any password fails.
    let login = app.app.login(&identity.username, PASSWORD).await;
    assert_error(login, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // Again: the same pilot, no second account.
    let again = signed_in_tokens(sign_in_with(app, "google", &identity).await).await;
    assert_eq!(me(&app.app, &again).await["id"], profile["id"]);
    assert_eq!(app.app.count("users").await, 1);

    // Linked providers, and unlinking the only way in is refused.
    let linked: Value = app
        .app
        .get_authed("/api/v1/me/oauth", &again.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(linked["has_password"], false);
    assert_eq!(linked["linked"][0]["provider"], "google");
    let unlink = app
        .app
        .delete_authed("/api/v1/me/oauth/google", &again.access_token, None)
        .await;
    assert_error(unlink, StatusCode::CONFLICT, "last_sign_in_method").await;
    // `backend audit` accepts an account without a password.
    let findings = backend::commands::audit(&app.app.db).await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
}

both_databases_with_provider!(discord_plain_oauth2_signs_in_through_the_user_endpoint);
async fn discord_plain_oauth2_signs_in_through_the_user_endpoint(app: &OAuthApp) {
    let identity = Identity::random();
    let tokens = signed_in_tokens(sign_in_with(app, "discord", &identity).await).await;
    let profile = me(&app.app, &tokens).await;
    assert_eq!(profile["username"], identity.username);
    let provider: String = sqlx::query_scalar("SELECT provider FROM oauth_accounts")
        .fetch_one(app.app.db.pool())
        .await
        .unwrap();
    assert_eq!(provider, "discord");
}

both_databases_with_provider!(a_taken_name_asks_for_a_username);
async fn a_taken_name_asks_for_a_username(app: &OAuthApp) {
    let (existing, _) = app.app.signup().await;
    let mut identity = Identity::random();
    identity.username = existing.username.clone();
    let response = sign_in_with(app, "google", &identity).await;
    assert_eq!(response.status(), StatusCode::OK);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["status"], "choose_username", "{outcome}");
    let ticket = outcome["ticket"].as_str().unwrap().to_owned();

    let taken = app
        .app
        .post_json(
            "/api/v1/auth/oauth/finish",
            &json!({"ticket": ticket, "username": existing.username}),
        )
        .await;
    assert_error(taken, StatusCode::CONFLICT, "username_taken").await;
    let bad = app
        .app
        .post_json(
            "/api/v1/auth/oauth/finish",
            &json!({"ticket": ticket, "username": "no"}),
        )
        .await;
    assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_username").await;

    let chosen = format!("{}_x", &identity.username[..10]);
    let finished = app
        .app
        .post_json(
            "/api/v1/auth/oauth/finish",
            &json!({"ticket": ticket, "username": chosen}),
        )
        .await;
    let tokens = signed_in_tokens(finished).await;
    assert_eq!(me(&app.app, &tokens).await["username"], chosen);

    // The ticket was used.
    let replay = app
        .app
        .post_json(
            "/api/v1/auth/oauth/finish",
            &json!({"ticket": ticket, "username": "another_name"}),
        )
        .await;
    assert_error(replay, StatusCode::BAD_REQUEST, "invalid_oauth_ticket").await;
}

both_databases_with_provider!(an_address_that_has_an_account_links_only_with_its_password);
async fn an_address_that_has_an_account_links_only_with_its_password(app: &OAuthApp) {
    let user = app.app.register_user().await;
    let mut identity = Identity::random();
    identity.email = user.email.clone();
    let response = sign_in_with(app, "google", &identity).await;
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["status"], "prove_account", "{outcome}");
    assert_eq!(outcome["username"], user.username);
    assert!(outcome.get("tokens").is_none());
    assert_eq!(app.app.count("oauth_accounts").await, 0, "not linked yet");
    let ticket = outcome["ticket"].as_str().unwrap().to_owned();

    let wrong = app
        .app
        .post_json(
            "/api/v1/auth/oauth/finish",
            &json!({"ticket": ticket, "password": "not-the-password-at-all"}),
        )
        .await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(app.app.count("oauth_accounts").await, 0);

    let proved = app
        .app
        .post_json(
            "/api/v1/auth/oauth/finish",
            &json!({"ticket": ticket, "password": PASSWORD}),
        )
        .await;
    let tokens = signed_in_tokens(proved).await;
    let profile = me(&app.app, &tokens).await;
    assert_eq!(profile["username"], user.username);
    assert_eq!(profile["email_verified"], true);
    assert_eq!(app.app.count("users").await, 1);

    // From now on the provider signs straight in.
    let direct = signed_in_tokens(sign_in_with(app, "google", &identity).await).await;
    assert_eq!(me(&app.app, &direct).await["id"], profile["id"]);

    // With a password left, unlinking is allowed.
    let unlink = app
        .app
        .delete_authed("/api/v1/me/oauth/google", &direct.access_token, None)
        .await;
    assert_eq!(unlink.status(), StatusCode::NO_CONTENT);
    let again = app
        .app
        .delete_authed("/api/v1/me/oauth/google", &direct.access_token, None)
        .await;
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;
}

both_databases_with_provider!(a_signed_in_pilot_links_a_second_provider);
async fn a_signed_in_pilot_links_a_second_provider(app: &OAuthApp) {
    let (_, tokens) = app.app.signup().await;
    let identity = Identity::random();
    let (game, result) = browse(app, "discord", &identity, DriveOptions::default()).await;
    let params = loopback_params(&result);
    let response = exchange(
        &app.app,
        &params["code"],
        &game.verifier,
        Some(&tokens.access_token),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["status"], "linked", "{outcome}");
    let linked: Value = app
        .app
        .get_authed("/api/v1/me/oauth", &tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(linked["has_password"], true);
    assert_eq!(linked["linked"][0]["provider"], "discord");

    // The same Discord identity cannot join a second pilot.
    let (_, other) = app.app.signup().await;
    let (game, result) = browse(app, "discord", &identity, DriveOptions::default()).await;
    let params = loopback_params(&result);
    let taken = exchange(
        &app.app,
        &params["code"],
        &game.verifier,
        Some(&other.access_token),
    )
    .await;
    assert_error(taken, StatusCode::CONFLICT, "oauth_identity_taken").await;
}

both_databases_with_provider!(codes_and_states_work_once_and_only_for_their_game);
async fn codes_and_states_work_once_and_only_for_their_game(app: &OAuthApp) {
    let identity = Identity::random();
    let (game, result) = browse(app, "google", &identity, DriveOptions::default()).await;
    let params = loopback_params(&result);
    let code = params["code"].clone();

    // Another verifier (someone who saw the redirect but is not the game).
    let other = GameSide::new();
    let stolen = exchange(&app.app, &code, &other.verifier, None).await;
    assert_error(stolen, StatusCode::BAD_REQUEST, "invalid_oauth_code").await;
    // The code died with that attempt: even the right verifier is refused now.
    let late = exchange(&app.app, &code, &game.verifier, None).await;
    assert_error(late, StatusCode::BAD_REQUEST, "invalid_oauth_code").await;

    // A replayed code, after a good exchange.
    let (game, result) = browse(app, "google", &identity, DriveOptions::default()).await;
    let params = loopback_params(&result);
    signed_in_tokens(exchange(&app.app, &params["code"], &game.verifier, None).await).await;
    let replay = exchange(&app.app, &params["code"], &game.verifier, None).await;
    assert_error(replay, StatusCode::BAD_REQUEST, "invalid_oauth_code").await;

    // A callback with a wrong or missing state: a page, no redirect.
    for query in ["state=not-a-state&code=x", "code=x", "state=%3Cscript%3E"] {
        let response = app
            .app
            .get(&format!("/api/v1/auth/oauth/google/callback?{query}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none());
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = response.text().await.unwrap();
        assert!(
            content_type.starts_with("text/html"),
            "{query}: {content_type} {page}"
        );
        assert!(page.contains("start again from the game"), "{page}");
        assert!(!page.contains("<script>"));
    }
    assert_eq!(app.app.count("users").await, 1);
}

both_databases_with_provider!(a_replayed_provider_callback_is_refused);
async fn a_replayed_provider_callback_is_refused(app: &OAuthApp) {
    // Stop at the backend's callback (the provider's redirect), then play
    // it twice: the second time its state is spent.
    let game = GameSide::new();
    let start = app
        .app
        .client
        .get(game.start_url(&app.app, "google"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::FOUND);
    let identity = Identity::random();
    let result = app
        .provider
        .drive(
            &game.start_url(&app.app, "google"),
            &identity,
            DriveOptions::default(),
        )
        .await;
    loopback_params(&result);
    let callbacks: Vec<String> = result
        .visited
        .iter()
        .filter(|u| u.contains("/callback?"))
        .cloned()
        .collect();
    let provider_callback = callbacks
        .iter()
        .find(|u| u.contains("/api/v1/auth/oauth/google/callback"))
        .expect("the drive passed the backend's callback");
    let replay = app.app.client.get(provider_callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("already used"));
}

both_databases_with_provider!(tampered_id_tokens_are_refused);
async fn tampered_id_tokens_are_refused(app: &OAuthApp) {
    for (tamper, words) in [
        ("bad_signature", "signature"),
        ("wrong_audience", "another application"),
        ("expired", "expired"),
        ("wrong_nonce", "another sign-in"),
    ] {
        let identity = Identity::random();
        let (game, result) = browse(
            app,
            "google",
            &identity,
            DriveOptions {
                tamper: Some(tamper),
                ..DriveOptions::default()
            },
        )
        .await;
        let params = loopback_params(&result);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some("oauth_failed"),
            "{tamper}: {params:?}"
        );
        assert!(!params.contains_key("code"), "{tamper}");
        assert!(
            params["error_description"].contains(words),
            "{tamper}: {}",
            params["error_description"]
        );
        assert_eq!(params.get("state"), Some(&game.state));
    }
    assert_eq!(app.app.count("users").await, 0);
    assert_eq!(app.app.count("oauth_grants").await, 0);
}

both_databases_with_provider!(a_player_who_declines_is_told_so);
async fn a_player_who_declines_is_told_so(app: &OAuthApp) {
    let (_, result) = browse(
        app,
        "google",
        &Identity::random(),
        DriveOptions {
            deny: true,
            ..DriveOptions::default()
        },
    )
    .await;
    let params = loopback_params(&result);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("oauth_denied")
    );
    assert!(params["error_description"].contains("declined"));
}

both_databases_with_provider!(an_unconfirmed_provider_address_makes_no_account);
async fn an_unconfirmed_provider_address_makes_no_account(app: &OAuthApp) {
    let mut identity = Identity::random();
    identity.email_verified = false;
    let response = sign_in_with(app, "google", &identity).await;
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "oauth_email_required",
    )
    .await;
    assert_eq!(app.app.count("users").await, 0);
}

both_databases_with_provider!(bad_starts_are_refused_in_words);
async fn bad_starts_are_refused_in_words(app: &OAuthApp) {
    let game = GameSide::new();
    let unknown = app
        .app
        .client
        .get(
            game.start_url(&app.app, "google")
                .replace("/google/", "/myspace/"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let cases = [
        game.start_url(&app.app, "google")
            .replace("127.0.0.1%3A9", "evil.example%3A80"),
        game.start_url(&app.app, "google").replace("S256", "plain"),
        app.app.url("/api/v1/auth/oauth/google/start"),
    ];
    for url in cases {
        let response = app.app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none());
    }
    assert_eq!(app.app.count("oauth_flows").await, 0);
    let bad_exchange = app
        .app
        .post_json(
            "/api/v1/auth/oauth/exchange",
            &json!({"code": "nope", "code_verifier": "short"}),
        )
        .await;
    assert_error(bad_exchange, StatusCode::BAD_REQUEST, "invalid_oauth_code").await;
}

/// A provider that does not answer: its button says unavailable, a start
/// answers 503 at once instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_down_is_unavailable() {
    // A port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let issuer = format!("http://127.0.0.1:{port}");
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("OAUTH_PROVIDERS", "google"),
            ("OAUTH_GOOGLE_CLIENT_ID", "x"),
            ("OAUTH_GOOGLE_CLIENT_SECRET", "y"),
            ("OAUTH_GOOGLE_ISSUER", &issuer),
        ],
    )
    .await
    .unwrap();
    let body: Value = app
        .get("/api/v1/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["providers"][0]["available"], false);
    let game = GameSide::new();
    let started = std::time::Instant::now();
    let response = app
        .client
        .get(game.start_url(&app, "google"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.text().await.unwrap().contains("cannot be reached"));
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    app.teardown().await;
}
