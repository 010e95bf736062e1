// LogicService: the IM logic layer. Gateways call it for everything a connection asks;
// marketing (campaigns) calls PushToUsers. Stateless: any instance serves any request.
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
// for the same user (campaigns pass their id, so a restarted campaign never repeats anyone).
struct PushRequest {
    1: string from,           // e.g. "system" or "campaign:<id>"
    2: list<string> users,    // 1..1000
    3: i32 kind,
    4: string content_type,
    5: binary body,
    6: string dedup_key,
}
struct PushStatus {
    1: string user_id,
    2: string msg_id,
    3: i64 seq,
    4: bool duplicate,
    5: i32 online_devices,
    6: i32 error_code,        // 0 when stored
}
struct PushResponse {
    1: list<PushStatus> results,
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

service LogicService {
    AuthenticateResponse Authenticate(1: AuthenticateRequest req) throws (1: common.IMError err),
    ConnectResponse Connect(1: ConnectRequest req) throws (1: common.IMError err),
    DisconnectResponse Disconnect(1: DisconnectRequest req) throws (1: common.IMError err),
    RenewResponse Renew(1: RenewRequest req) throws (1: common.IMError err),
    SendResponse Send(1: SendRequest req) throws (1: common.IMError err),
    SyncResponse Sync(1: SyncRequest req) throws (1: common.IMError err),
    AckResponse Ack(1: AckRequest req) throws (1: common.IMError err),
    ReadResponse Read(1: ReadRequest req) throws (1: common.IMError err),
    PushResponse PushToUsers(1: PushRequest req) throws (1: common.IMError err),
    PresenceResponse Presence(1: PresenceRequest req) throws (1: common.IMError err),
}
