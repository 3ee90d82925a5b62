//! Every `code` an error body, a socket refusal or a close frame carries.
//!
//! The backend answers with these and the client matches on them (to choose
//! its words, to decide whether to retry): a code is defined here once and
//! never written as a string literal elsewhere. The HTTP status that goes
//! with a code is the backend's business, not the rules'.

// General.
pub const INVALID_REQUEST: &str = "invalid_request";
pub const MALFORMED_JSON: &str = "malformed_json";
pub const INVALID_BODY: &str = "invalid_body";
pub const BAD_REQUEST: &str = "bad_request";
pub const REQUEST_TIMEOUT: &str = "request_timeout";
/// A failed request whose status has no more specific code.
pub const REQUEST_FAILED: &str = "error";
pub const UNAUTHORIZED: &str = "unauthorized";
pub const FORBIDDEN: &str = "forbidden";
pub const NOT_FOUND: &str = "not_found";
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
pub const CONFLICT: &str = "conflict";
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
pub const RATE_LIMITED: &str = "rate_limited";
pub const INTERNAL: &str = "internal";
pub const INTERNAL_ERROR: &str = "internal_error";
pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
pub const INVALID_IDEMPOTENCY_KEY: &str = "invalid_idempotency_key";
pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";

// Accounts, sessions and tokens.
pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
pub const ACCOUNT_LOCKED: &str = "account_locked";
pub const EMAIL_NOT_VERIFIED: &str = "email_not_verified";
pub const EMAIL_TAKEN: &str = "email_taken";
pub const USERNAME_TAKEN: &str = "username_taken";
pub const INVALID_EMAIL: &str = "invalid_email";
pub const INVALID_USERNAME: &str = "invalid_username";
pub const INVALID_PASSWORD: &str = "invalid_password";
pub const CURRENT_PASSWORD_REQUIRED: &str = "current_password_required";
pub const INVALID_CURRENT_PASSWORD: &str = "invalid_current_password";
pub const MISSING_TOKEN: &str = "missing_token";
pub const INVALID_TOKEN: &str = "invalid_token";
pub const TOKEN_EXPIRED: &str = "token_expired";
pub const SESSION_REVOKED: &str = "session_revoked";
/// The account was deleted (a lobby socket's close reason).
pub const ACCOUNT_DELETED: &str = "account_deleted";
pub const SESSION_NOT_FOUND: &str = "session_not_found";
pub const USER_NOT_FOUND: &str = "user_not_found";
pub const INVALID_REFRESH_TOKEN: &str = "invalid_refresh_token";
pub const REFRESH_TOKEN_REUSED: &str = "refresh_token_reused";
pub const INVALID_OR_EXPIRED_TOKEN: &str = "invalid_or_expired_token";
pub const UNSUPPORTED_ADDRESS: &str = "unsupported_address";
pub const INVALID_PREFERENCES: &str = "invalid_preferences";
/// Changing the address of an account that is already verified goes
/// through the account screen (`PATCH /me`), not the sign-in screen.
pub const ALREADY_VERIFIED: &str = "already_verified";

// Sign-in through a provider (`/auth/oauth/*`, `/me/oauth/*`).
/// The one-time code from the provider's redirect is unknown, used, expired,
/// or the PKCE verifier does not match it.
pub const INVALID_OAUTH_CODE: &str = "invalid_oauth_code";
/// The ticket of an unfinished provider sign-in is unknown or expired.
pub const INVALID_OAUTH_TICKET: &str = "invalid_oauth_ticket";
/// That provider identity already belongs to another account.
pub const OAUTH_IDENTITY_TAKEN: &str = "oauth_identity_taken";
/// The provider shared no confirmed email address: no account can be made.
pub const OAUTH_EMAIL_REQUIRED: &str = "oauth_email_required";
/// The account already has a link with that provider.
pub const OAUTH_ALREADY_LINKED: &str = "oauth_already_linked";
/// Unlinking would leave the account with no way to sign in.
pub const LAST_SIGN_IN_METHOD: &str = "last_sign_in_method";
/// The provider could not be reached or answered nonsense.
pub const PROVIDER_UNAVAILABLE: &str = "provider_unavailable";
/// Sent to the game's loopback redirect (`error=`): the player said no at
/// the provider.
pub const OAUTH_DENIED: &str = "oauth_denied";
/// Sent to the game's loopback redirect (`error=`): the provider's answer
/// failed a check (signature, audience, expiry, nonce, state) or its token
/// endpoint refused the code.
pub const OAUTH_FAILED: &str = "oauth_failed";

// Economy.
pub const ZONE_LOCKED: &str = "zone_locked";
pub const UNKNOWN_ZONE: &str = "unknown_zone";
pub const UNKNOWN_RUN: &str = "unknown_run";
pub const BATCH_TOO_LARGE: &str = "batch_too_large";
pub const HOLD_FULL: &str = "hold_full";
pub const INSUFFICIENT_ITEMS: &str = "insufficient_items";
pub const INSUFFICIENT_CREDITS: &str = "insufficient_credits";
pub const INSUFFICIENT_UPGRADES: &str = "insufficient_upgrades";
pub const MAX_LEVEL: &str = "max_level";
pub const UNKNOWN_UPGRADE: &str = "unknown_upgrade";
pub const UNKNOWN_MESSAGE: &str = "unknown_message";
pub const CREDITS_OVERFLOW: &str = "credits_overflow";
/// Selling and buying need the ship docked at a hub of its run, and the
/// server could not place it there (`game::verify::judge_dock`).
pub const NOT_DOCKED: &str = "not_docked";
pub const UNKNOWN_HUB: &str = "unknown_hub";
/// A traded upgrade level must be the giver's top one and land right
/// above the receiver's (`game::economy::apply_trade`).
pub const UPGRADE_NOT_TRANSFERABLE: &str = "upgrade_not_transferable";
/// Start credits cannot be given away before
/// the account has earned its own or verified its email
/// (`game::economy::PlayerState::check_transferable`).
pub const START_CREDITS_LOCKED: &str = "start_credits_locked";

// Lobbies and trades.
pub const LOBBY_FULL: &str = "lobby_full";
pub const UNKNOWN_LOBBY: &str = "unknown_lobby";
pub const NOT_A_MEMBER: &str = "not_a_member";
pub const UNKNOWN_TRADE: &str = "unknown_trade";
pub const TRADE_NOT_PENDING: &str = "trade_not_pending";
pub const TOO_MANY_OFFERS: &str = "too_many_offers";

/// Lobby socket refusals (`LobbyServerEvent::Refused`).
pub const CHAT_RATE_LIMITED: &str = "chat_rate_limited";
pub const INVALID_CHAT: &str = "invalid_chat";
pub const INVALID_MESSAGE: &str = "invalid_message";

// Moderation and operations.
/// The account is suspended: sign-in refused (the message names the end,
/// or says it is indefinite), sessions ended, lobby sockets closed with it.
pub const ACCOUNT_SUSPENDED: &str = "account_suspended";
/// The shared rate-limit store (Redis) did not answer and the limiter
/// fails closed: try again shortly (503 with `Retry-After`).
pub const RATE_LIMIT_UNAVAILABLE: &str = "rate_limit_unavailable";
/// An admin route called by an account without the role it needs.
pub const ROLE_REQUIRED: &str = "role_required";
/// A moderator tried to give themselves (or anyone) a role above their own.
pub const ROLE_TOO_HIGH: &str = "role_too_high";
/// `role` is not one of `player`, `moderator`, `admin`.
pub const INVALID_ROLE: &str = "invalid_role";
/// A moderation action without a usable reason (1-500 characters).
pub const INVALID_REASON: &str = "invalid_reason";
/// A suspension end that is not in the future (or not a date).
pub const INVALID_SUSPENSION_END: &str = "invalid_suspension_end";
/// A credit adjustment of zero, or one that would overflow.
pub const INVALID_AMOUNT: &str = "invalid_amount";

// Client-side only: no answer to decode. Never sent by the server.
/// The client has no session to send.
pub const NOT_SIGNED_IN: &str = "not_signed_in";
/// The server answered something the client could not decode.
pub const BAD_RESPONSE: &str = "bad_response";
/// No request reached the server (connection refused, timeout, DNS).
pub const UNREACHABLE: &str = "unreachable";
/// A sale or purchase waits in the offline queue (answered at once, filed later).
pub const QUEUED: &str = "queued";
/// No stored session to restore.
pub const NO_SESSION: &str = "no_session";
/// The player stopped waiting for the browser (a provider sign-in).
pub const CANCELLED: &str = "cancelled";
/// The account export could not be written to the file the player picked.
pub const EXPORT_NOT_WRITTEN: &str = "export_not_written";
/// The session ended because the player signed out here.
pub const SIGNED_OUT: &str = "signed_out";
/// The session ended because the player signed out on every device.
pub const SIGNED_OUT_EVERYWHERE: &str = "signed_out_everywhere";
/// The lobby channel ended because the member left the room.
pub const LEFT_LOBBY: &str = "left_lobby";
/// The lobby channel was closed by the client itself.
pub const CHANNEL_CLOSED: &str = "closed";
/// The server closed the lobby channel for a policy reason it did not name.
pub const POLICY: &str = "policy";
