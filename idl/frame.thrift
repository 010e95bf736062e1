// Bodies of the IM client frames. Each body is one of these structs, encoded with the
// Thrift Binary protocol; the frame header (docs/protocol.md) says which one by its operation.
include "common.thrift"
namespace go frame

// op AUTH (client -> server): must be the first frame, sent within the auth deadline.
struct AuthRequest {
    1: string token,          // from POST /v1/login
    2: string device_id,      // stable per installation, 1..64 bytes
    3: string platform,       // "ios" | "android" | "web" | "cli"
    4: string client_version,
}

// op AUTH_OK (server -> client)
struct AuthResponse {
    1: string user_id,
    2: string session_id,
    3: i64 server_time_ms,
    4: i32 heartbeat_interval_ms, // send HEARTBEAT at least this often
    5: i64 max_seq,               // the newest inbox sequence of this user: sync up to it
    6: i64 acked_seq,             // the last sequence this device acknowledged
    7: i64 token_expires_at_ms,   // when the session ends unless renewed by a new AUTH (Unix ms)
}

// op SEND (client -> server)
struct SendRequest {
    1: string client_msg_id,  // 1..64 bytes, unique per sender; resending reuses it
    2: string to_user,
    3: i32 kind,              // MessageKind; clients may only send CHAT
    4: string content_type,
    5: binary body,
}

// op SEND_ACK (server -> client): the message is stored durably.
struct SendAck {
    1: string client_msg_id,
    2: string msg_id,
    3: string conv_id,
    4: i64 conv_seq,
    5: i64 seq,               // the sender's own inbox sequence for this message
    6: i64 sent_at_ms,
    7: bool duplicate,        // true when this client_msg_id was already stored
    8: string trace_id,
}

// op PUSH (server -> client): new messages for this user, in inbox order.
struct Push {
    1: list<common.Message> messages,
}

// op DELIVER_ACK (client -> server): everything up to seq is received and stored by the device.
struct DeliverAck {
    1: i64 seq,
}

// op SYNC (client -> server)
struct SyncRequest {
    1: i64 after_seq,
    2: i32 limit,             // 1..500; 0 means 100
}

// op SYNC_RESP (server -> client)
struct SyncResponse {
    1: list<common.Message> messages,
    2: bool has_more,
    3: i64 max_seq,
}

// op READ (client -> server): the user has read conv_id up to conv_seq.
struct ReadRequest {
    1: string conv_id,
    2: i64 conv_seq,
}

// op READ_ACK (server -> client)
struct ReadAck {
    1: string conv_id,
    2: i64 conv_seq,          // the effective (highest) read sequence
}

// op READ_RECEIPT (server -> client): reader has read conv_id up to conv_seq.
struct ReadReceipt {
    1: string conv_id,
    2: string reader,
    3: i64 conv_seq,
}

// op HEARTBEAT (client -> server) and HEARTBEAT_ACK (server -> client)
struct Heartbeat {
    1: i64 client_time_ms,
}
struct HeartbeatAck {
    1: i64 server_time_ms,
}

// op KICK (server -> client): the connection is closed after this frame; do not reconnect
// automatically when reason is REPLACED or AUTH_REVOKED.
enum KickReason {
    REPLACED = 1,       // the same user logged in on the same device elsewhere
    AUTH_REVOKED = 2,
    IDLE = 3,
    SLOW_CONSUMER = 4,  // the send queue overflowed; reconnect and sync
    PROTOCOL = 5,       // the client broke the protocol
}
struct Kick {
    1: i32 reason,
    2: string message,
}

// op RECONNECT (server -> client): the gateway is draining; reconnect after after_ms.
struct Reconnect {
    1: i32 after_ms,
    2: string reason,
}

// op ERROR (server -> client): answers the request with the same request sequence.
struct Error {
    1: i32 code,             // common.ErrorCode
    2: string message,
    3: bool temporary,
    4: i32 retry_after_ms,
    5: string trace_id,
}
