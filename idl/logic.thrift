// LogicService: the IM logic layer. Gateways call it for everything a connection asks;
// marketing (campaigns) calls PushToUsers, Receipts and EnsureUsers. Stateless: any instance
// serves any request.
include "common.thrift"
namespace go logic

// Authenticate checks a user's password (POST /v1/login on the edge); the edge then signs the
// token itself, so logic never holds the signing key.
struct AuthenticateRequest {
    1: string user_id,
    2: string password,
}
struct AuthenticateResponse {
    1: string user_id,
    2: string kind,          // "merchant" | "customer"
    3: string display_name,
}

struct ConnectRequest {
    1: string user_id,
    2: string device_id,
    3: string platform,
    4: string node,      // the gateway's push address (GatewayService), or "local"
    5: string conn_id,
    6: string token_id,       // the login token's id (jti): a revoked one is refused
    7: i64 token_issued_ms,   // when that token was issued, against a revocation of all
}
struct ConnectResponse {
    1: i64 max_seq,
    2: i64 acked_seq,
    3: i32 heartbeat_interval_ms,
}

struct RouteRef {
    1: string user_id,
    2: string device_id,
    3: string conn_id,
}
struct DisconnectRequest {
    1: string node,
    2: RouteRef route,
}
struct DisconnectResponse {}

// A gateway renews the routes of all its live connections in batches.
struct RenewRequest {
    1: string node,
    2: list<RouteRef> routes,
}
struct RenewResponse {
    1: list<RouteRef> lost,  // no longer held by this connection: the gateway closes them
}

struct SendRequest {
    1: string user_id,       // the authenticated sender (set by the gateway, never by the client)
    2: string device_id,
    3: string client_msg_id,
    4: string to_user,
    5: i32 kind,
    6: string content_type,
    7: binary body,
}
struct SendResponse {
    1: string msg_id,
    2: string conv_id,
    3: i64 conv_seq,
    4: i64 seq,
    5: i64 sent_at_ms,
    6: bool duplicate,
}

// SendBatch stores a connection's pipelined SENDs (1..256, read while its previous call
// ran) in one call, queued together and in their order: messages of one conversation get
// increasing conv_seqs in the order given. Each send is checked and answered alone.
struct SendBatchRequest {
    1: list<SendRequest> sends,
}
struct SendOutcome {
    1: optional SendResponse ok,
    2: optional common.IMError err,   // this send's refusal or failure; the others are unaffected
}
struct SendBatchResponse {
    1: list<SendOutcome> results,     // one per send, in the same order
}
struct SyncRequest {
    1: string user_id,
    2: i64 after_seq,
    3: i32 limit,
}
struct SyncResponse {
    1: list<common.Message> messages,
    2: bool has_more,
    3: i64 max_seq,
}

struct AckRequest {
    1: string user_id,
    2: string device_id,
    3: i64 seq,
}
struct AckResponse {
    1: i64 acked_seq,
}

struct ReadRequest {
    1: string user_id,
    2: string conv_id,
    3: i64 conv_seq,
}
struct ReadResponse {
    1: i64 read_seq,
}

// PushToUsers stores one system/marketing message per user and pushes it to every online
// device. dedup_key makes it idempotent per user: the same key never creates a second message
// for the same user (campaigns pass their id, so a restarted campaign never repeats anyone),
// and a repeat answers the first message's msg_id, seq and conv_seq, marked duplicate.
struct PushRequest {
    1: string from,           // e.g. "system" or "campaign:<id>"
    2: list<string> users,    // 1..1000
    3: i32 kind,
    4: string content_type,
    5: binary body,           // the body of every user's message, unless bodies is set
    6: string dedup_key,
    // One body per user: bodies[i] is users[i]'s (each 1..64 KiB), and body is then empty.
    // A campaign renders its template per merchant, so every user may get a different body.
    7: optional list<binary> bodies,
}
struct PushStatus {
    1: string user_id,
    2: string msg_id,
    3: i64 seq,
    4: bool duplicate,
    5: i32 online_devices,
    6: i32 error_code,        // 0 when stored
    7: i64 conv_seq,          // the message's seq in the user's system conversation "s:<user>"
}
struct PushResponse {
    1: list<PushStatus> results,
}

// Receipts tells, per (user, conversation), how far the user's devices acknowledged their
// inbox and how far the user read the conversation. A campaign's message is delivered when
// delivered_seq >= its inbox seq (PushStatus.seq) and read when read_seq >= its conv_seq.
struct ReceiptQuery {
    1: string user_id,
    2: string conv_id,
}
struct ReceiptsRequest {
    1: list<ReceiptQuery> items,  // 1..1000
}
struct Receipt {
    1: string user_id,
    2: string conv_id,
    3: i64 delivered_seq,     // the highest inbox seq any device of the user acked; 0 when none
    4: i64 read_seq,          // the user's read mark on conv_id; 0 when none
}
struct ReceiptsResponse {
    1: list<Receipt> results, // one per item, in the same order
}

// EnsureUsers creates the accounts that do not exist yet, with no password (they cannot log
// in until one is set), and leaves existing accounts untouched. Campaigns import merchants
// through it in batches.
struct UserInfo {
    1: string user_id,
    2: string kind,           // "merchant" | "customer"
    3: string display_name,
}
struct EnsureUsersRequest {
    1: list<UserInfo> users,  // 1..1000
}
struct EnsureUsersResponse {
    1: i32 created,           // how many of users did not exist before
}

struct DeviceRoute {
    1: string device_id,
    2: string platform,
    3: string node,
    4: i64 since_ms,
}
struct PresenceRequest {
    1: list<string> users,
}
struct PresenceResponse {
    1: map<string, list<DeviceRoute>> online,
}

// RevokeTokens ends logins: the one token token_id (until_ms: its expiry), or, with
// token_id empty, every token of the user issued before until_ms. The live IM sessions
// of the revoked tokens are kicked (AUTH_REVOKED).
struct RevokeTokensRequest {
    1: string user_id,
    2: string token_id,
    3: i64 until_ms,
}
struct RevokeTokensResponse {
    1: i32 kicked,            // live sessions asked to close
}

// CheckToken says whether a verified token may still be used: not revoked, and its user
// exists.
struct CheckTokenRequest {
    1: string user_id,
    2: string token_id,
    3: i64 issued_ms,
}
struct CheckTokenResponse {
    1: bool valid,
}

// ChangePassword sets a new password after checking the old one, and revokes every token
// issued before (the caller issues a fresh one).
struct ChangePasswordRequest {
    1: string user_id,
    2: string old_password,
    3: string password,       // the new one
}
struct ChangePasswordResponse {
    1: i32 kicked,
}

service LogicService {
    AuthenticateResponse Authenticate(1: AuthenticateRequest req) throws (1: common.IMError err),
    ConnectResponse Connect(1: ConnectRequest req) throws (1: common.IMError err),
    DisconnectResponse Disconnect(1: DisconnectRequest req) throws (1: common.IMError err),
    RenewResponse Renew(1: RenewRequest req) throws (1: common.IMError err),
    SendResponse Send(1: SendRequest req) throws (1: common.IMError err),
    SendBatchResponse SendBatch(1: SendBatchRequest req) throws (1: common.IMError err),
    SyncResponse Sync(1: SyncRequest req) throws (1: common.IMError err),
    AckResponse Ack(1: AckRequest req) throws (1: common.IMError err),
    ReadResponse Read(1: ReadRequest req) throws (1: common.IMError err),
    PushResponse PushToUsers(1: PushRequest req) throws (1: common.IMError err),
    PresenceResponse Presence(1: PresenceRequest req) throws (1: common.IMError err),
    ReceiptsResponse Receipts(1: ReceiptsRequest req) throws (1: common.IMError err),
    EnsureUsersResponse EnsureUsers(1: EnsureUsersRequest req) throws (1: common.IMError err),
    RevokeTokensResponse RevokeTokens(1: RevokeTokensRequest req) throws (1: common.IMError err),
    CheckTokenResponse CheckToken(1: CheckTokenRequest req) throws (1: common.IMError err),
    ChangePasswordResponse ChangePassword(1: ChangePasswordRequest req) throws (1: common.IMError err),
}
