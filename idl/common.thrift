// Types shared by the client frames and the internal Kitex services of the IM core.
namespace go common

// Stable error codes. They cross every wire (error frames, Kitex exceptions, HTTP bodies)
// and never change meaning once published.
enum ErrorCode {
    UNKNOWN = 0,
    BAD_FRAME = 1,          // the bytes are not a valid frame: the connection is closed
    FRAME_TOO_LARGE = 2,    // declared body length over the limit: the connection is closed
    UNSUPPORTED_VERSION = 3,
    UNKNOWN_OPERATION = 4,  // the connection stays usable
    BAD_REQUEST = 5,        // a field is missing, too long or malformed
    UNAUTHENTICATED = 10,   // the first frame was not AUTH, or the connection is not logged in
    TOKEN_EXPIRED = 11,
    TOKEN_INVALID = 12,
    FORBIDDEN = 13,
    RATE_LIMITED = 20,      // too many frames from one connection; retry_after_ms says when
    NOT_FOUND = 30,         // the recipient does not exist
    INTERNAL = 50,          // a server fault; details are in the server log under trace_id
    UNAVAILABLE = 51,       // temporary; retry with backoff
}

enum MessageKind {
    CHAT = 1,
    SYSTEM = 2,
    MARKETING = 3,
}

// The error every IM service raises. code is an ErrorCode.
exception IMError {
    1: i32 code,
    2: string message,
    3: bool temporary,
    4: i32 retry_after_ms,
}

// A stored message as a recipient sees it.
struct Message {
    1: string msg_id,        // server id (UUIDv7), unique
    2: string conv_id,       // "p:<a>|<b>" for a 1:1 chat (ids sorted), "s:<user>" for system messages
    3: i64 conv_seq,         // gap-free per conversation, from 1
    4: i64 seq,              // the receiving user's inbox sequence: gap-free per user, from 1
    5: string from_user,
    6: string to_user,
    7: i32 kind,             // MessageKind
    8: string content_type,  // e.g. "text/plain"
    9: binary body,
    10: string client_msg_id,
    11: i64 sent_at_ms,      // server time the message was accepted, Unix ms
}
