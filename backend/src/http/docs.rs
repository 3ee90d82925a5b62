//! `/openapi.json` and a self-contained `/docs` page that renders it (no
//! external assets: nothing is fetched at build or run time).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Children of the Singularity API",
        description = "Accounts, economy, lobbies and trades. Errors are `{\"code\",\"message\"}`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration, login, tokens, password reset"),
        (name = "me", description = "The caller's account"),
        (name = "economy", description = "Player state, catalog, zone runs, sales, upgrades, AI messages"),
        (name = "lobbies", description = "Trading rooms and their WebSocket"),
        (name = "trades", description = "Offers between lobby members; atomic swaps"),
        (name = "admin", description = "Moderation for moderators and admins: roles, suspensions, a player's file, credit corrections; each recorded in the audit log"),
        (name = "operations", description = "Health, readiness, metrics, API docs"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
    }
}

/// Adds to every operation the statuses the shared layers can answer
/// besides what its own annotation lists, each with the shared error body:
/// with a JSON request body 400 (`malformed_json`, `invalid_body`), 413
/// (`payload_too_large`), 415 (`unsupported_media_type`) and 422
/// (`invalid_request`); with a bearer token 401; with path parameters 404
/// (a value no route or record matches) and 400 (`bad_request`, a segment
/// that does not decode); with an `Idempotency-Key` 400
/// (`invalid_idempotency_key`) and 422 (`idempotency_key_reused`);
/// everywhere 408
/// (`request_timeout`). Run on the complete document (route annotations
/// merged), so no operation can miss one.
pub fn document_shared_statuses(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in openapi.paths.paths.iter_mut() {
        // Every API route is rate limited (probes and documents are not).
        let is_api = path.starts_with("/api/");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let mut shared: Vec<(&str, &str)> = vec![(
                "408",
                "`request_timeout`: the request took longer than REQUEST_TIMEOUT_SECS",
            )];
            if operation.request_body.is_some() {
                shared.extend([
                    ("400", "`malformed_json` (not JSON) or `invalid_body`"),
                    (
                        "413",
                        "`payload_too_large`: the body is over BODY_LIMIT_BYTES",
                    ),
                    (
                        "415",
                        "`unsupported_media_type`: send `Content-Type: application/json`",
                    ),
                    (
                        "422",
                        "`invalid_request`: JSON of the wrong shape, or invalid values",
                    ),
                ]);
            }
            if operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty())
            {
                shared.push((
                    "401",
                    "`missing_token`, `invalid_token`, `token_expired` or `session_revoked`",
                ));
            }
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let has_path = parameters
                .iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Path));
            let has_idempotency_key = parameters.iter().any(|p| {
                matches!(p.parameter_in, ParameterIn::Header)
                    && p.name
                        .eq_ignore_ascii_case(super::extract::IDEMPOTENCY_KEY.as_str())
            });
            if has_path {
                shared.extend([
                    ("404", "`not_found`: nothing answers to that path"),
                    (
                        "400",
                        "`bad_request`: a path segment that is not valid UTF-8 once decoded",
                    ),
                ]);
            }
            if has_idempotency_key {
                shared.extend([
                    (
                        "400",
                        "`invalid_idempotency_key`: not 1-64 printable ASCII characters",
                    ),
                    (
                        "422",
                        "`idempotency_key_reused`: the key was used for a different request",
                    ),
                ]);
            }
            if is_api {
                shared.push((
                    "429",
                    "`rate_limited` (with `Retry-After`): over the address's or the user's budget for this route class; 503 `rate_limit_unavailable` instead when the shared store is down and RATE_LIMIT_FAIL_MODE=closed",
                ));
            }
            for (status, description) in shared {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description));
            }
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
        .routes(routes!(docs_script))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.get().cloned().unwrap_or_default(),
    )
}

/// Human-readable API documentation.
#[utoipa::path(get, path = "/docs", tag = "operations", responses((status = 200, description = "HTML page", content_type = "text/html")))]
async fn docs_page() -> impl IntoResponse {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        DOCS_HTML,
    )
}

/// Script of the docs page.
#[utoipa::path(get, path = "/docs/app.js", tag = "operations", responses((status = 200, description = "JavaScript", content_type = "text/javascript")))]
async fn docs_script() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        DOCS_JS,
    )
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Children of the Singularity API</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2330; }
h1 { margin-bottom: .2rem; } .op { border: 1px solid #d6dae3; border-radius: 6px; margin: .6rem 0; padding: .5rem .8rem; }
.method { display: inline-block; min-width: 4.5rem; font-weight: 700; text-transform: uppercase; }
.get { color: #1668c7; } .post { color: #138a36; } .patch { color: #a66300; } .delete { color: #b3261e; }
.path { font-family: ui-monospace, monospace; } .tag { margin-top: 1.6rem; border-bottom: 2px solid #1d2330; }
pre { background: #f4f6fa; padding: .5rem; overflow-x: auto; font-size: .85rem; }
details summary { cursor: pointer; } .resp { font-size: .9rem; }
</style>
</head>
<body>
<h1 id="title">API</h1>
<p id="description"></p>
<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a>. Authenticated calls send <code>Authorization: Bearer &lt;access_token&gt;</code>.</p>
<div id="ops">Loading…</div>
<h2>Schemas</h2>
<div id="schemas"></div>
<script src="/docs/app.js"></script>
</body>
</html>
"#;

const DOCS_JS: &str = r#""use strict";
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}
function refName(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  return JSON.stringify(schema);
}
fetch("/openapi.json").then(r => r.json()).then(doc => {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("description").textContent = doc.info.description || "";
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([path, method, op]);
    }
  }
  const ops = document.getElementById("ops");
  ops.textContent = "";
  for (const [tag, list] of byTag) {
    ops.append(el("h2", { class: "tag" }, tag));
    for (const [path, method, op] of list) {
      const box = el("details", { class: "op" });
      box.append(el("summary", {}, el("span", { class: "method " + method }, method), " ",
        el("span", { class: "path" }, path), " — ", op.summary || ""));
      if (op.description) box.append(el("p", {}, op.description));
      if (op.security) box.append(el("p", {}, "Requires a bearer access token."));
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) box.append(el("p", {}, "Request body: ", el("code", {}, refName(body.schema))));
      const list = el("ul", { class: "resp" });
      for (const [status, resp] of Object.entries(op.responses || {})) {
        const json = resp.content && resp.content["application/json"];
        list.append(el("li", {}, el("b", {}, status), " ", resp.description || "",
          json ? el("code", {}, " " + refName(json.schema)) : ""));
      }
      box.append(list);
      ops.append(box);
    }
  }
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries((doc.components && doc.components.schemas) || {})) {
    const box = el("details", { class: "op" });
    box.append(el("summary", {}, el("code", {}, name)));
    box.append(el("pre", {}, JSON.stringify(schema, null, 2)));
    schemas.append(box);
  }
}).catch(err => { document.getElementById("ops").textContent = "Could not load /openapi.json: " + err; });
"#;
